"""The moto seams of the Lambda runtime (listed in the package docstring).

Built by `build_seams(cloud)` as one `..seam.SeamSet`: every signature (also of
`LambdaBackend.invoke`, which we call but do not patch) is checked before anything is patched,
and applying twice is applying once. The patched code runs functions in `cloud`'s Lambda runtime.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any, Callable

from ..seam import SeamSet
from . import logging_config, role_trust

if TYPE_CHECKING:
    from ..cloud import LocalCloud
    from .runtime import LambdaRuntime

BACKEND_INVOKE = ("self", "function_name", "qualifier", "body", "headers", "response_headers")
INIT = ("self", "account_id", "spec", "region", "version")
CFN_CREATE = ("cls", "resource_name", "cloudformation_json", "account_id", "region_name", "kwargs")
CFN_UPDATE = ("cls", "original_resource", "new_resource_name", "cloudformation_json", "account_id", "region_name")


def build_seams(cloud: "LocalCloud") -> SeamSet:
    """Every moto patch of Lambda; invocations run in `cloud`'s Lambda runtime."""
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from .. import moto_backends

    def runtime() -> "LambdaRuntime":
        return cloud.extension("lambda").runtime  # type: ignore[attr-defined]

    found = SeamSet("lambda")
    found.replace(LambdaFunction, "invoke", ("self", "body", "request_headers", "response_headers"),
                  lambda _original: _invoke(runtime))
    found.replace(LambdaSimpleBackend, "invoke", BACKEND_INVOKE, lambda _original: simple_backend_invoke)
    found.replace(LambdaBackend, "delete_function", ("self", "function_name", "qualifier"),
                  lambda original: _delete_function(original, runtime))
    # LoggingConfig, which moto drops.
    found.replace(LambdaFunction, "__init__", INIT, _init)
    found.replace(LambdaFunction, "update_configuration", ("self", "config_updates"),
                  lambda original: _update_configuration(original, cloud))
    # The execution role's trust policy, checked as Lambda checks it (role_trust.py).
    found.replace(LambdaBackend, "create_function", ("self", "spec"), lambda original: _create_function(original, cloud))
    found.replace(LambdaFunction, "get_configuration", ("self", "on_create"), _get_configuration)
    found.replace(LambdaFunction, "create_from_cloudformation_json", CFN_CREATE, _create_from_cloudformation)
    found.replace(LambdaFunction, "update_from_cloudformation_json", CFN_UPDATE, _update_from_cloudformation)
    # Called, not patched: fail at install, not at the first invoke, if it moved.
    found.expect(LambdaBackend, "invoke", BACKEND_INVOKE)
    found.expect(LambdaBackend, "get_function", ("self", "function_name_or_arn", "qualifier"))
    # Read by function_spec.spec_from_moto and the delete seam.
    found.reads(LambdaFunction, "logs_group_name", "function_name", "account_id", "environment_vars",
                "function_arn", "handler", "memory_size", "region", "run_time", "timeout", "version",
                "code_bytes", "reserved_concurrency", "event_invoke_config", "role")  # code_digest: optional
    found.reads(LambdaBackend, "account_id", "region_name")
    moto_backends.declare(found)
    return found


def simple_backend_invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
                          response_headers: Any) -> Any:
    """With `use_docker: false` moto's backend answers invokes with an echo; do what the Docker
    backend does instead: look the function up and call its (patched) `invoke`."""
    from moto.awslambda.models import LambdaBackend

    return LambdaBackend.invoke(self, function_name, qualifier, body, headers, response_headers)


def _delete_function(original: Callable[..., None], runtime: Callable[[], "LambdaRuntime"]) -> Callable[..., None]:
    def delete_function(self: Any, function_name: str, qualifier: str | None = None) -> None:
        original(self, function_name, qualifier)
        runtime().retire_missing(lambda arn: _function_exists(self, arn))

    return delete_function


# -- LoggingConfig ----------------------------------------------------------------------------------
def logging_config_of(fn: Any) -> dict[str, str]:
    """The LoggingConfig of a moto `LambdaFunction` (the default for one made before install)."""
    return dict(getattr(fn, "logging_config", None) or logging_config.default_logging_config(fn.function_name))


def _keep_logging_config(fn: Any, config: dict[str, str]) -> None:
    fn.logging_config = config  # a new dict each time: published versions are shallow copies
    fn.logs_group_name = config["LogGroup"]  # what moto (and spec_from_moto) read


def _checked(make: Callable[[], dict[str, str]]) -> dict[str, str]:
    """Lambda's error for a bad LoggingConfig (HTTP 400 through moto's responses, a failed
    resource in a stack)."""
    from moto.awslambda.exceptions import LambdaClientError

    try:
        return make()
    except logging_config.LoggingConfigError as exc:
        raise LambdaClientError(exc.code, str(exc)) from None


def _init(original: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: Any, account_id: str, spec: dict[str, Any], region: str, version: Any = 1) -> None:
        original(self, account_id, spec, region, version)
        # Not stored in the backend yet: a refused LoggingConfig leaves no function behind.
        _keep_logging_config(self, _checked(lambda: logging_config.on_create(spec.get("LoggingConfig"),
                                                                             self.function_name)))

    return __init__


def _create_function(original: Callable[..., Any], cloud: "LocalCloud") -> Callable[..., Any]:
    def create_function(self: Any, spec: dict[str, Any]) -> Any:
        name = spec.get("FunctionName")
        if isinstance(name, str):  # moto answers a missing name itself
            arn = role_trust.function_arn(name, self.account_id, self.region_name)
            role_trust.check_role(cloud, spec.get("Role"), self.account_id, arn)
        return original(self, spec)

    return create_function


def _update_configuration(original: Callable[..., dict[str, Any]], cloud: "LocalCloud") -> Callable[..., dict[str, Any]]:
    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "Role" in config_updates:  # checked before moto changes anything
            role_trust.check_role(cloud, config_updates["Role"], self.account_id, self.function_arn)
        requested = config_updates.get("LoggingConfig")
        config = None  # checked before moto changes anything
        if requested is not None:
            config = _checked(lambda: logging_config.on_update(logging_config_of(self), requested))
        answer = original(self, config_updates)
        if config is not None:
            _keep_logging_config(self, config)
            answer["LoggingConfig"] = dict(config)
        return answer

    return update_configuration


def _get_configuration(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        answer = original(self, on_create)
        answer["LoggingConfig"] = logging_config_of(self)
        return answer

    return get_configuration


def _create_from_cloudformation(original: classmethod) -> classmethod:
    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        requested = cloudformation_json.get("Properties", {}).get("LoggingConfig")
        config = _checked(lambda: logging_config.on_create(requested, resource_name))
        fn = original.__func__(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        _keep_logging_config(fn, config)
        return fn

    return classmethod(create_from_cloudformation_json)


def _update_from_cloudformation(original: classmethod) -> classmethod:
    def update_from_cloudformation_json(cls: Any, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        # The template states the whole configuration: a LoggingConfig left out is the default again.
        requested = cloudformation_json.get("Properties", {}).get("LoggingConfig")
        config = _checked(lambda: logging_config.on_create(requested, original_resource.function_name))
        fn = original.__func__(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name)
        _keep_logging_config(fn, config)
        return fn

    return classmethod(update_from_cloudformation_json)


def _function_exists(backend: Any, arn: str) -> bool:
    parts = arn.split(":")
    if parts[3:5] != [backend.region_name, backend.account_id]:
        return True  # another backend's function: not this delete's business
    try:
        backend.get_function(arn)
        return True
    except Exception:  # moto's UnknownFunctionException
        return False


def _header(headers: Any, name: str) -> str | None:
    if headers is None:
        return None
    value = headers.get(name)
    if value is None:  # plain dicts are case-sensitive
        lowered = name.lower()
        value = next((v for k, v in dict(headers).items() if k.lower() == lowered), None)
    return value


def _invoke(runtime: Callable[[], "LambdaRuntime"]) -> Callable[..., bytes]:
    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
        return run_invoke(runtime(), self, body, request_headers, response_headers)

    return invoke


def run_invoke(runtime: "LambdaRuntime", fn: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    """What moto's `LambdaFunction.invoke` does once replaced: run `fn` in `runtime`."""
    from moto.awslambda.exceptions import LambdaClientError

    from .function_spec import spec_from_moto
    from .runtime import Throttled

    payload = body.encode() if isinstance(body, str) else (body or b"")
    if payload.strip():
        try:
            json.loads(payload)
        except ValueError as exc:
            raise LambdaClientError("InvalidRequestContentException",
                                    f"Could not parse request body into json: {exc}") from None
    else:
        payload = b"{}"
    client_context = None
    encoded_context = _header(request_headers, "X-Amz-Client-Context")
    if encoded_context:
        try:
            client_context = json.loads(base64.b64decode(encoded_context))
        except (binascii.Error, ValueError):
            raise LambdaClientError("InvalidRequestContentException",
                                    "X-Amz-Client-Context must be a base64-encoded JSON object") from None
    invocation_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
    try:
        result = runtime.invoke_spec(spec_from_moto(fn), payload, invocation_type, client_context)
    except Throttled:
        error = LambdaClientError("TooManyRequestsException", "Rate Exceeded.")
        error.code = 429
        raise error from None
    except ValueError as exc:
        raise LambdaClientError("InvalidParameterValueException", str(exc)) from None
    if invocation_type == "RequestResponse":
        response_headers["x-amz-executed-version"] = result.executed_version
        # moto drops this header unless the caller asked for LogType=Tail.
        response_headers["x-amz-log-result"] = base64.b64encode(result.log_tail.encode()).decode()
        if result.function_error:
            response_headers["x-amz-function-error"] = result.function_error
    return result.payload
