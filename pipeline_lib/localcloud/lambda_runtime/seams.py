"""The moto seams of the Lambda runtime (listed in the package docstring).

Applied through `..seam.SeamSet`: every signature is checked before anything is patched, and
applying twice is applying once. The patched code calls whichever `LambdaExtension` installed
last (`_active`).
"""
from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from ..seam import SeamError, SeamSet, moto_version, parameter_names

if TYPE_CHECKING:
    from . import LambdaExtension

_active: "LambdaExtension | None" = None

BACKEND_INVOKE = ("self", "function_name", "qualifier", "body", "headers", "response_headers")


@lru_cache(maxsize=1)
def seams() -> SeamSet:
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend

    found = SeamSet("lambda")
    found.replace(LambdaFunction, "invoke", ("self", "body", "request_headers", "response_headers"),
                  lambda _original: invoke)
    found.replace(LambdaSimpleBackend, "invoke", BACKEND_INVOKE, lambda _original: simple_backend_invoke)
    found.replace(LambdaBackend, "delete_function", ("self", "function_name", "qualifier"), _delete_function)
    return found


def check_called() -> None:
    """What we call but do not patch: fail at install, not at the first invoke, if it moved."""
    from moto.awslambda.models import LambdaBackend

    if parameter_names(LambdaBackend.invoke) != BACKEND_INVOKE:
        raise SeamError(f"moto {moto_version()}: LambdaBackend.invoke takes {parameter_names(LambdaBackend.invoke)}, "
                        f"the Lambda runtime expects {BACKEND_INVOKE} (written for moto 5.2.5)")


def install(extension: "LambdaExtension") -> None:
    global _active
    check_called()
    seams().apply()
    _active = extension


def simple_backend_invoke(self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any,
                          response_headers: Any) -> Any:
    """With `use_docker: false` moto's backend answers invokes with an echo; do what the Docker
    backend does instead: look the function up and call its (patched) `invoke`."""
    from moto.awslambda.models import LambdaBackend

    return LambdaBackend.invoke(self, function_name, qualifier, body, headers, response_headers)


def _delete_function(original: Callable[..., None]) -> Callable[..., None]:
    def delete_function(self: Any, function_name: str, qualifier: str | None = None) -> None:
        original(self, function_name, qualifier)
        if _active is not None:
            _active.runtime.retire_missing(lambda arn: _function_exists(self, arn))

    return delete_function


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


def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> bytes:
    """Replacement for moto's `LambdaFunction.invoke`: run the function in our runtime."""
    from moto.awslambda.exceptions import LambdaClientError

    from .function_spec import spec_from_moto
    from .runtime import Throttled

    if _active is None:
        raise LambdaClientError("ServiceException", "the local cloud's Lambda runtime is not installed")
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
        result = _active.runtime.invoke_spec(spec_from_moto(self), payload, invocation_type, client_context)
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
