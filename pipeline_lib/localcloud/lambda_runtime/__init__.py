"""The local cloud's Lambda runtime: Python functions really run when invoked.

Each function (each ARN: `$LATEST` and every published version) runs in its own worker
processes (`worker.py`, started with the server's interpreter, which has boto3), warm between
invocations, up to 4 at once per function. A worker gets the function's handler, environment
variables and Lambda's reserved ones, `AWS_ENDPOINT_URL` pointing at the local cloud and dummy
credentials; its timeout is enforced (the worker is killed, the caller gets `Sandbox.Timedout`).
Errors come back as Lambda's (`FunctionError: Unhandled`, `errorMessage`, `errorType`,
`stackTrace`). Code comes from the function's package (ZipFile or S3), unpacked once per
SHA-256 under `<state dir>/lambda/<function>/<sha256>/`; new code or configuration starts new
workers. Each invocation's log (START/END/REPORT and what the handler printed) goes to the
function's CloudWatch Logs group, `LoggingConfig.LogGroup` (default `/aws/lambda/<name>`;
Lambda creates it when missing, unless its name starts with `aws/`), one stream per worker
(`2026/03/04/[$LATEST]<hex>`, or `2026/03/04/<name>[$LATEST]<hex>` in a custom group); the
worker's `AWS_LAMBDA_LOG_GROUP_NAME` and `context.log_group_name` name that group. The
LoggingConfig is kept and answered as Lambda does (`logging_config.py`); `LogFormat` JSON and
the log levels are stored, not applied: log lines stay plain text. Only python3.x runtimes run,
on the server's interpreter whatever minor version the function declares; other runtimes answer
`Runtime.Unsupported`.

In-process API (for other extensions, e.g. the Firehose engine; no HTTP)::

    runtime = cloud.extension("lambda").runtime
    result = runtime.invoke("my-function" or arn, b'{"k": 1}', invocation_type="RequestResponse")
    result.payload         # bytes: the handler's JSON result, or Lambda's error payload
    result.function_error  # None, or "Unhandled"
    result.error           # the error payload as a dict, or None
    result.log_tail        # last 4 KB of the invocation's log
    result.duration_ms

`invocation_type="Event"` queues the invocation and returns at once (status_code 202); failures
are retried twice (the function's MaximumRetryAttempts if configured), `cloud.scaled(60)` then
`cloud.scaled(120)` seconds apart, then logged. `runtime.invoke` raises `FunctionNotFound` for an
unknown function and `Throttled` when reserved concurrency is 0. With `use_docker: false` moto
keeps functions in its `lambda_simple` backend: look them up with `extension.resolve(name)` or
`moto.awslambda.utils.get_backend`, not `moto.backends.get_backend("lambda")` (always empty).

Seams (moto 5.2.5; signatures checked at install, see `seams.py`):
- `moto.awslambda.models.LambdaFunction.invoke(self, body, request_headers, response_headers)`:
  replaced; runs the function in the runtime (RequestResponse, Event, DryRun; LogType Tail).
  moto's deprecated InvokeAsync handler and moto's own event sources (S3 notifications, SNS,
  EventBridge, SQS/DynamoDB-stream mappings) call it without an invocation type: those run the
  function too, synchronously, inside the request that triggered them.
- `moto.awslambda_simple.models.LambdaSimpleBackend.invoke(...)`: replaced by a call to
  `LambdaBackend.invoke`, so the `use_docker: false` backend reaches the function's `invoke`.
- `moto.awslambda.models.LambdaBackend.delete_function(self, function_name, qualifier)`: wrapped;
  retires the workers of deleted functions.
- LoggingConfig, which moto 5.2.5 drops (all on `moto.awslambda.models.LambdaFunction`):
  `__init__(self, account_id, spec, region, version)` wrapped: keeps `spec["LoggingConfig"]`
  (validated) as `logging_config` and points moto's `logs_group_name` at its LogGroup;
  `update_configuration(self, config_updates)` wrapped: merges an update's LoggingConfig;
  `get_configuration(self, on_create)` wrapped: answers it (GetFunction, GetFunctionConfiguration,
  ListFunctions, CreateFunction, UpdateFunctionConfiguration, PublishVersion);
  `create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
  region_name, kwargs)` and `update_from_cloudformation_json(cls, original_resource,
  new_resource_name, cloudformation_json, account_id, region_name)` wrapped: apply the template's
  `LoggingConfig` property (moto builds its spec without it); an update without it resets it.
- The execution role's trust policy (`role_trust.py`; PIPELINE_IAM=off: not checked):
  `LambdaBackend.create_function(self, spec)` and `LambdaFunction.update_configuration` (when
  it changes `Role`) wrapped: a role Lambda may not assume is refused with Lambda's
  InvalidParameterValueException before anything is created or changed (CloudFormation too).
- Read, not patched: `moto.awslambda.utils.get_backend(account, region).get_function(name, qualifier)`
  and the `LambdaFunction` attributes read by `function_spec.spec_from_moto`; the logs backend's
  `ensure_log_group`, `ensure_log_stream`, `put_log_events`.
"""
from __future__ import annotations

from .extension import LambdaExtension, extension
from .runtime import FunctionNotFound, InvocationResult, LambdaRuntime, Throttled

__all__ = ["FunctionNotFound", "InvocationResult", "LambdaExtension", "LambdaRuntime", "Throttled", "extension"]
