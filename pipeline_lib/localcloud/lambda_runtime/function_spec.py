"""What the runtime needs to know about a function, and Lambda's texts (pure logic, no I/O).

`FunctionSpec` is a snapshot of one moto `LambdaFunction` (one ARN/version) at invocation time;
the worker pool keys its workers by `FunctionSpec.fingerprint`, so new code or configuration
means new workers.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from .worker import make_error

# Lambda's Python runtime sends at most this much of the log back with LogType=Tail.
LOG_TAIL_BYTES = 4096
# Lambda's default for asynchronous invocations (retries after the first attempt).
DEFAULT_ASYNC_RETRIES = 2


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arn: str  # unqualified for $LATEST, `...:N` for a published version
    version: str
    handler: str
    runtime: str | None
    environment: Mapping[str, str]
    timeout: float
    memory_mb: int
    code_sha256: str  # hex digest of the deployment package
    region: str
    account_id: str
    log_group: str
    code: bytes = field(default=b"", repr=False, compare=False)
    reserved_concurrency: int | None = None
    async_retries: int = DEFAULT_ASYNC_RETRIES
    role: str = ""  # the execution role's ARN: the worker gets its session's credentials

    @property
    def is_python(self) -> bool:
        return bool(self.runtime) and str(self.runtime).startswith("python3")

    @property
    def custom_log_group(self) -> bool:
        """Whether LoggingConfig.LogGroup names a group other than `/aws/lambda/<name>`."""
        return self.log_group != f"/aws/lambda/{self.name}"

    @property
    def fingerprint(self) -> str:
        """Changes whenever a warm worker would no longer match the function."""
        material = json.dumps(
            [self.arn, self.code_sha256, self.handler, self.runtime, dict(sorted(self.environment.items())),
             self.timeout, self.memory_mb, self.log_group, self.role],
            default=str,
        )
        return hashlib.sha256(material.encode()).hexdigest()[:16]


def spec_from_moto(fn: Any) -> FunctionSpec:
    """Snapshot a moto `LambdaFunction` (duck-typed: the attributes moto 5.2.5 sets)."""
    code = getattr(fn, "code_bytes", b"") or b""
    digest = getattr(fn, "code_digest", "") or (hashlib.sha256(code).hexdigest() if code else "")
    retries = DEFAULT_ASYNC_RETRIES
    for config in getattr(fn, "event_invoke_config", []) or []:
        value = getattr(config, "config", {}).get("MaximumRetryAttempts")
        if value is not None:
            retries = int(value)
    reserved = getattr(fn, "reserved_concurrency", None)
    return FunctionSpec(
        name=fn.function_name,
        arn=fn.function_arn,
        version=str(fn.version),
        handler=fn.handler or "",
        runtime=fn.run_time,
        environment={str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
        timeout=float(fn.timeout or 3),
        memory_mb=int(fn.memory_size or 128),
        code_sha256=digest,
        region=fn.region,
        account_id=fn.account_id,
        log_group=fn.logs_group_name,  # kept in step with LoggingConfig.LogGroup by the seams
        code=code,
        reserved_concurrency=int(reserved) if reserved not in (None, "") else None,
        async_retries=retries,
        role=str(getattr(fn, "role", "") or ""),
    )


def worker_environment(spec: FunctionSpec, *, endpoint: str, code_dir: str, log_stream: str,
                       path: str, credentials: Mapping[str, str] | None = None) -> dict[str, str]:
    """The process environment of a worker: the function's variables, then Lambda's reserved
    ones (which win, as Lambda forbids overriding them), then what points boto3 at the cloud.
    `credentials`: the execution role session's (AccessKeyId, SecretAccessKey, SessionToken), as
    Lambda sets them; without them the cloud's dummy ones."""
    env = dict(spec.environment)
    env.update({
        "_HANDLER": spec.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        "LAMBDA_TASK_ROOT": code_dir,
        "LAMBDA_RUNTIME_DIR": code_dir,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": path,
        # The local cloud is the function's AWS: its endpoint and dummy credentials, and no
        # developer profile or config file that could send calls elsewhere.
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "NO_PROXY": "127.0.0.1,localhost,::1",
    })
    if credentials:
        env["AWS_ACCESS_KEY_ID"] = credentials["AccessKeyId"]
        env["AWS_SECRET_ACCESS_KEY"] = credentials["SecretAccessKey"]
        env["AWS_SESSION_TOKEN"] = credentials["SessionToken"]
    return env


def log_stream_name(spec: FunctionSpec, now: datetime, token: str) -> str:
    """Lambda names one stream per execution environment: `2026/03/04/[$LATEST]<32 hex>`; in a
    custom log group (which several functions may share) the function's name comes first:
    `2026/03/04/<name>[$LATEST]<32 hex>`."""
    owner = spec.name if spec.custom_log_group else ""
    return f"{now:%Y/%m/%d}/{owner}[{spec.version}]{token}"


# -- Lambda's log lines --------------------------------------------------------------------------
def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def report_line(request_id: str, duration_ms: float, memory_mb: int, max_used_mb: int | None,
                init_ms: float | None = None, status: str | None = None) -> str:
    parts = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {math.ceil(duration_ms)} ms",
        f"Memory Size: {memory_mb} MB",
        f"Max Memory Used: {max_used_mb if max_used_mb is not None else '-'} MB",
    ]
    if init_ms is not None:
        parts.append(f"Init Duration: {init_ms:.2f} ms")
    if status:
        parts.append(f"Status: {status}")
    return "\t".join(parts)


def log_tail(text: str, limit: int = LOG_TAIL_BYTES) -> str:
    """The last `limit` bytes of a log, as Lambda's LogResult holds them."""
    data = text.encode()
    return data[-limit:].decode(errors="ignore")


# -- errors the platform (not the handler) reports -----------------------------------------------
# Lambda answers these two without a stack trace or request id field.
def timeout_error(request_id: str, timeout: float) -> dict[str, Any]:
    return {"errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"}


def exit_error(request_id: str, detail: str) -> dict[str, Any]:
    return {"errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {detail}"}


def unsupported_error(spec: FunctionSpec, request_id: str) -> dict[str, Any]:
    if not spec.code:
        why = (f"function {spec.name} has no deployment package the local cloud can run "
               "(container images are not supported); create it from a .zip (ZipFile or S3Bucket/S3Key)")
    else:
        why = (f"function {spec.name} has runtime {spec.runtime!r}, but the local cloud runs Python "
               "functions only (python3.x runtimes); deploy a Python handler or use the aws backend")
    return make_error(why, "Runtime.Unsupported", None, request_id)


def bad_package_error(spec: FunctionSpec, request_id: str, reason: str) -> dict[str, Any]:
    return make_error(
        f"Lambda could not unzip the deployment package of {spec.name}: {reason}. "
        "Upload a .zip archive with update_function_code.",
        "Runtime.InvalidZipFile", None, request_id,
    )
