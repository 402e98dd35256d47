"""The bootstrap each Lambda worker process runs: `python -I -u worker.py`.

Stdlib only: it runs inside the function's environment, which sees only the function's code
(and the interpreter's site-packages, like Lambda's runtime sees boto3).

Protocol (the server side is `runtime.WorkerProcess`): frames of
`<4-byte header length><4-byte body length><header JSON><body bytes>`, big-endian.
Requests arrive on the worker's stdin (moved to a private fd at start; fd 0 becomes /dev/null);
answers leave on the fd named by `_WORKBENCH_RESPONSE_FD`. The handler's stdout/stderr stay on
fds 1 and 2, which the server points at the worker's log file, so prints never corrupt the
protocol.

    worker -> server  {"type": "ready", "pid", "init_ms", "error": <Lambda error> | null}
    server -> worker  {"type": "invoke", "request_id", "deadline_ms", "invoked_function_arn",
                       "client_context": {...} | null} + event bytes
    worker -> server  {"type": "result", "request_id", "max_memory_mb"} + result bytes
                      {"type": "error", "request_id", "error": {...}, "max_memory_mb"} + b""
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import struct
import sys
import time
import traceback
from decimal import Decimal
from typing import IO, Any, Callable

_PREFIX = struct.Struct(">II")
RESPONSE_FD_ENV = "_WORKBENCH_RESPONSE_FD"


# -- framing (shared with the server side) -------------------------------------------------------
def encode_frame(header: dict[str, Any], body: bytes = b"") -> bytes:
    head = json.dumps(header, separators=(",", ":")).encode()
    return _PREFIX.pack(len(head), len(body)) + head + body


def frame_lengths(prefix: bytes) -> tuple[int, int]:
    """(header length, body length) from a frame's first 8 bytes."""
    return _PREFIX.unpack(prefix)


PREFIX_SIZE = _PREFIX.size


def _read_exact(stream: IO[bytes], size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: IO[bytes]) -> tuple[dict[str, Any], bytes] | None:
    """One frame from a blocking stream; None at end of stream."""
    prefix = _read_exact(stream, PREFIX_SIZE)
    if prefix is None:
        return None
    head_len, body_len = frame_lengths(prefix)
    head = _read_exact(stream, head_len) if head_len else b""
    body = _read_exact(stream, body_len) if body_len else b""
    if head is None or body is None:
        return None
    return json.loads(head), body


# -- Lambda's error shape ------------------------------------------------------------------------
def make_error(message: str, error_type: str, stack_trace: list[str] | None = None,
               request_id: str = "") -> dict[str, Any]:
    """The payload Lambda's Python runtime returns for an unhandled error."""
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace or [],
    }


class HandlerFault(Exception):
    """A fault of the runtime itself (bad handler name, import failure), typed like Lambda's."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def load_handler(handler: str) -> Callable[[Any, Any], Any]:
    """Import `module.function` (module may use `/` or `.`) as Lambda's runtime does."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise HandlerFault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {exc}") from None
    try:
        if module_name.split(".")[0] in sys.builtin_module_names:
            raise HandlerFault("Runtime.BuiltInModuleConflict",
                               f"Cannot use built-in module {module_name} as a handler module")
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise HandlerFault("Runtime.ImportModuleError",
                           f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise HandlerFault("Runtime.UserCodeSyntaxError",
                           f"Syntax error in module '{module_name}': {exc}", trace) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise HandlerFault("Runtime.HandlerNotFound",
                           f"Handler '{function_name}' missing on module '{module_name}'") from None


def error_from_exception(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    """Lambda's payload for an exception raised by user code (bootstrap frames dropped)."""
    frames = traceback.extract_tb(exc.__traceback__)
    while frames and (frames[0].filename == __file__ or "importlib" in frames[0].filename):
        frames.pop(0)
    return make_error(str(exc), type(exc).__name__, traceback.format_list(frames), request_id)


def _to_json_default(obj: Any) -> Any:
    # Lambda's marshaller writes Decimals as numbers (boto3's DynamoDB types are Decimals).
    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def marshal_result(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return json.dumps(value, default=_to_json_default).encode()
    except (TypeError, ValueError) as exc:
        raise HandlerFault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


# -- the context object --------------------------------------------------------------------------
class LambdaContext:
    """What Lambda passes as the handler's second argument (the attributes code uses)."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str,
                 client_context: dict[str, Any] | None = None):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        # A string, as in Lambda (it comes from the environment there too).
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = client_context
        self.identity = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, msg: str) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (f"LambdaContext(aws_request_id={self.aws_request_id}, "
                f"function_name={self.function_name}, function_version={self.function_version})")


# -- logging like Lambda's Python runtime --------------------------------------------------------
_current_request_id = ""


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _current_request_id
        return True


def _setup_logging() -> None:
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S",
    ))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _log_error(error: dict[str, Any]) -> None:
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    if error.get("stackTrace"):
        lines.append("Traceback (most recent call last):")
        lines.extend(line.rstrip("\n") for line in error["stackTrace"])
    sys.stdout.write("\n".join(lines) + "\n")


def _max_memory_mb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux


# -- the loop ------------------------------------------------------------------------------------
def _invoke(handler: Callable[[Any, Any], Any] | None, init_error: dict[str, Any] | None,
            header: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
    global _current_request_id
    request_id = header["request_id"]
    _current_request_id = request_id
    answer: dict[str, Any] = {"request_id": request_id}
    try:
        if init_error is not None:
            raise HandlerFault(init_error["errorType"], init_error["errorMessage"], init_error["stackTrace"])
        try:
            event = json.loads(body) if body else {}
        except ValueError as exc:
            raise HandlerFault("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}") from None
        context = LambdaContext(request_id, header["deadline_ms"], header["invoked_function_arn"],
                                header.get("client_context"))
        result = marshal_result(handler(event, context))  # type: ignore[misc]
        answer["type"] = "result"
        out = result
    except HandlerFault as fault:
        answer.update(type="error", error=make_error(fault.message, fault.error_type, fault.trace, request_id))
        out = b""
    except Exception as exc:  # the handler's own error: Lambda reports it, the worker stays warm
        answer.update(type="error", error=error_from_exception(exc, request_id))
        out = b""
    if answer["type"] == "error":
        _log_error(answer["error"])
    sys.stdout.flush()
    sys.stderr.flush()
    answer["max_memory_mb"] = _max_memory_mb()
    return answer, out


def main() -> int:
    # Keep the protocol out of the handler's reach: requests on a private fd, stdin is empty.
    requests = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    responses = os.fdopen(int(os.environ.pop(RESPONSE_FD_ENV)), "wb")

    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    sys.path[:0] = [task_root, os.path.join(task_root, "python")]
    _setup_logging()

    started = time.perf_counter()
    handler, init_error = None, None
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except HandlerFault as fault:
        init_error = make_error(fault.message, fault.error_type, fault.trace)
    except Exception as exc:  # module-level code of the function raised
        init_error = error_from_exception(exc)
    if init_error is not None:
        _log_error(init_error)
    sys.stdout.flush()
    sys.stderr.flush()
    ready = {"type": "ready", "pid": os.getpid(), "error": init_error,
             "init_ms": (time.perf_counter() - started) * 1000}
    responses.write(encode_frame(ready))
    responses.flush()

    while True:
        frame = read_frame(requests)
        if frame is None:  # the server closed our stdin: retire
            return 0
        header, body = frame
        answer, out = _invoke(handler, init_error, header, body)
        responses.write(encode_frame(answer, out))
        responses.flush()


if __name__ == "__main__":
    sys.exit(main())
