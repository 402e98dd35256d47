"""The worker pool: runs Python Lambda functions in warm worker processes.

One `FunctionPool` per function ARN (a published version has its own ARN), up to
`max_workers` processes each, one invocation at a time per process. A pool whose function's
code or configuration changed (`FunctionSpec.fingerprint`) is retired: its idle workers stop at
once, busy ones when their invocation ends. Moto-free: functions arrive as `FunctionSpec`s.
"""
from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

from . import worker as worker_module
from .function_spec import (
    FunctionSpec,
    bad_package_error,
    end_line,
    exit_error,
    log_stream_name,
    log_tail,
    report_line,
    start_line,
    timeout_error,
    unsupported_error,
    worker_environment,
)
from .worker import PREFIX_SIZE, encode_frame, frame_lengths

log = logging.getLogger("pipeline_lib.localcloud.lambda")

WORKER_SCRIPT = Path(worker_module.__file__).resolve()
DEFAULT_MAX_WORKERS = 4
# Lambda gives the init phase 10 s of its own; a slow shared machine may need the function's.
MIN_INIT_TIMEOUT = 10.0

LogSink = Callable[[FunctionSpec, str, list[str]], None]


# A synchronous invocation's response payload limit and Lambda's answer beyond it.
MAX_RESPONSE_BYTES = 6_291_556
RESPONSE_TOO_LARGE = {
    "errorMessage": f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
    "errorType": "Function.ResponseSizeTooLarge",
}


@dataclass(frozen=True)
class InvocationResult:
    """What an invocation answered. `function_error` is "Unhandled" when `payload` is an error."""

    payload: bytes
    function_error: str | None
    log_tail: str
    duration_ms: float
    request_id: str = ""
    executed_version: str = "$LATEST"
    status_code: int = 200

    @property
    def error(self) -> dict[str, Any] | None:
        return json.loads(self.payload) if self.function_error else None


class FunctionNotFound(LookupError):
    pass


class Throttled(RuntimeError):
    """Reserved concurrency 0: Lambda answers TooManyRequestsException."""


class WorkerTimeout(Exception):
    pass


class WorkerExited(Exception):
    def __init__(self, returncode: int | None):
        super().__init__(returncode)
        self.returncode = returncode

    @property
    def detail(self) -> str:
        code = self.returncode
        if code is not None and code < 0:
            try:
                return f"signal: {signal.Signals(-code).name[3:].lower()}"
            except ValueError:
                return f"signal: {-code}"
        return f"exit status {code}"


class LaunchError(Exception):
    """A worker could not start; `error(request_id)` is the Lambda error payload to answer."""

    def __init__(self, error: Callable[[str], dict[str, Any]], log_text: str = ""):
        super().__init__("worker launch failed")
        self.error = error
        self.log_text = log_text


# Pipe capacity asked for (Linux; at most /proc/sys/fs/pipe-max-size, 1 MiB by default). A
# Firehose event or response of about 1.4 MB then crosses in two or three writes and reads, not
# twenty-odd of 64 KiB: each is a wait that gives up the server's interpreter lock, and under
# load taking it back costs more than the copy.
PIPE_BYTES = 1 << 20


def _widen_pipe(fd: int | None) -> None:
    if fd is None or not hasattr(fcntl, "F_SETPIPE_SZ"):
        return
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except OSError:  # over the system's limit for this user: the default size still works
        pass


class WorkerProcess:
    """One worker process: its pipes, its log file and its protocol calls."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, log_stream: str):
        self.log_stream = log_stream
        # Handler output goes to an anonymous file; we read it after each invocation.
        self._log = tempfile.TemporaryFile()
        read_fd, write_fd = os.pipe()
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT,
                env={**env, worker_module.RESPONSE_FD_ENV: str(write_fd)}, cwd=cwd, pass_fds=(write_fd,),
            )
        except BaseException:
            os.close(read_fd)
            self._log.close()
            raise
        finally:
            os.close(write_fd)
        self._responses = read_fd
        for fd in (read_fd, self.proc.stdin.fileno() if self.proc.stdin else None):
            _widen_pipe(fd)
        self._buffer = bytearray()
        self.init_ms: float | None = None
        self.init_error: dict[str, Any] | None = None
        self.cold = True
        self.invocations = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float) -> None:
        header, _ = self._read_frame(time.monotonic() + timeout)
        self.init_ms = float(header.get("init_ms", 0.0))
        self.init_error = header.get("error")

    def call(self, header: dict[str, Any], body: bytes, timeout: float) -> tuple[dict[str, Any], bytes]:
        self._rewind_log()
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(encode_frame(header, body))
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerExited(self.proc.wait()) from None
        self.invocations += 1
        return self._read_frame(time.monotonic() + timeout)

    def take_log(self) -> str:
        """All the worker printed since the last rewind."""
        fd = self._log.fileno()
        size = os.fstat(fd).st_size
        return os.pread(fd, size, 0).decode(errors="replace") if size else ""

    def _rewind_log(self) -> None:
        # The worker shares this file description; it is idle, so rewinding is race-free.
        fd = self._log.fileno()
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)

    def _read_frame(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        while True:
            if len(self._buffer) >= PREFIX_SIZE:
                head_len, body_len = frame_lengths(bytes(self._buffer[:PREFIX_SIZE]))
                total = PREFIX_SIZE + head_len + body_len
                if len(self._buffer) >= total:
                    head = bytes(self._buffer[PREFIX_SIZE:PREFIX_SIZE + head_len])
                    body = bytes(self._buffer[PREFIX_SIZE + head_len:total])
                    del self._buffer[:total]
                    return json.loads(head), body
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout()
            ready, _, _ = select.select([self._responses], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self._responses, 1 << 20)
            if not chunk:
                raise WorkerExited(self.proc.wait())
            self._buffer += chunk

    def kill(self, wait: bool = True) -> None:
        if self.alive():
            self.proc.kill()
        if wait:
            self.proc.wait()

    def close(self, grace: float = 1.0) -> None:
        """Stop the worker (EOF on its stdin asks it to leave) and free its pipes and log."""
        try:
            if self.proc.stdin and not self.proc.stdin.closed:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
        for closer in (lambda: os.close(self._responses), self._log.close):
            try:
                closer()
            except OSError:
                pass


@dataclass
class PoolStats:
    invocations: int = 0
    errors: int = 0
    timeouts: int = 0
    cold_starts: int = 0


class Retired(Exception):
    pass


@dataclass
class FunctionPool:
    """The warm workers of one function ARN with one fingerprint."""

    spec: FunctionSpec
    capacity: int
    launch: Callable[[FunctionSpec], WorkerProcess]
    discard: Callable[[WorkerProcess], None]  # stops a worker for good
    stats: PoolStats = field(default_factory=PoolStats)

    def __post_init__(self) -> None:
        self._cond = threading.Condition()
        self._idle: list[WorkerProcess] = []
        self._size = 0  # live + starting workers
        self.retired = False

    def acquire(self) -> WorkerProcess:
        with self._cond:
            while True:
                if self.retired:
                    raise Retired()
                if self._idle:
                    return self._idle.pop()
                if self._size < self.capacity:
                    self._size += 1
                    break
                self._cond.wait()
        try:
            worker = self.launch(self.spec)
        except BaseException:
            with self._cond:
                self._size -= 1
                self._cond.notify()
            raise
        with self._cond:
            self.stats.cold_starts += 1
        return worker

    def release(self, worker: WorkerProcess, reusable: bool) -> None:
        with self._cond:
            keep = reusable and not self.retired and worker.alive()
            if keep:
                self._idle.append(worker)
            else:
                self._size -= 1
            self._cond.notify()
        if not keep:
            self.discard(worker)

    def retire(self) -> None:
        with self._cond:
            self.retired = True
            idle, self._idle = self._idle, []
            self._size -= len(idle)
            self._cond.notify_all()
        for worker in idle:
            self.discard(worker)

    def record(self, failed: bool, timed_out: bool) -> None:
        with self._cond:
            self.stats.invocations += 1
            self.stats.errors += int(failed)
            self.stats.timeouts += int(failed and timed_out)

    def status(self) -> dict[str, Any]:
        with self._cond:
            return {
                "function": self.spec.name,
                "version": self.spec.version,
                "workers": self._size,
                "busy": self._size - len(self._idle),
                "pids": [w.pid for w in self._idle],
                **self.stats.__dict__,
            }


class LambdaRuntime:
    """Runs functions. `invoke` is the in-process API (see the package docstring)."""

    def __init__(
        self,
        state_dir: str | os.PathLike,
        endpoint: str,
        resolve: Callable[[str, str | None], FunctionSpec] | None = None,
        log_sink: LogSink | None = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
        async_retry_delays: tuple[float, ...] = (60.0, 120.0),
        python: str = sys.executable,
        inject: Callable[[FunctionSpec], str | None] | None = None,
        credentials_for: Callable[[str, str], Mapping[str, str]] | None = None,
    ):
        self.code_root = Path(state_dir) / "lambda"
        self.endpoint = endpoint
        self._resolve = resolve
        self._log_sink = log_sink
        self.max_workers = max_workers
        self.async_retry_delays = async_retry_delays
        self.python = python
        # (role ARN, session name) -> temporary credentials of the function's execution role
        self._credentials_for = credentials_for
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()
        self._extract_lock = threading.Lock()
        self._live: set[WorkerProcess] = set()
        self._async = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="lambda-async")
        self._pending = 0
        self._pending_cond = threading.Condition()
        self._stopped = False
        self._inject = inject  # fault injection: "error", "timeout" or None per invocation

    # -- public API -------------------------------------------------------------------------
    def invoke(self, function: str, payload: bytes | str | dict | list | None = b"{}",
               invocation_type: str = "RequestResponse", qualifier: str | None = None,
               client_context: dict[str, Any] | None = None) -> InvocationResult:
        """Invoke a function by name or ARN (in process, no HTTP)."""
        if self._resolve is None:
            raise RuntimeError("this runtime has no function resolver; use invoke_spec")
        spec = self._resolve(function, qualifier)
        return self.invoke_spec(spec, _as_bytes(payload), invocation_type, client_context)

    def invoke_spec(self, spec: FunctionSpec, payload: bytes, invocation_type: str = "RequestResponse",
                    client_context: dict[str, Any] | None = None) -> InvocationResult:
        if invocation_type == "DryRun":
            return InvocationResult(b"", None, "", 0.0, executed_version=spec.version, status_code=204)
        if invocation_type == "Event":
            self._submit_async(spec, payload)
            return InvocationResult(b"", None, "", 0.0, executed_version=spec.version, status_code=202)
        if invocation_type != "RequestResponse":
            raise ValueError(f"unknown invocation type {invocation_type!r}: use RequestResponse, Event or DryRun")
        return self._run(spec, payload, client_context)

    def flush(self, timeout: float) -> dict[str, Any]:
        """Wait for accepted asynchronous invocations (retries included) to finish."""
        deadline = time.monotonic() + timeout
        with self._pending_cond:
            while self._pending and time.monotonic() < deadline:
                self._pending_cond.wait(max(0.0, deadline - time.monotonic()))
            return {"async_pending": self._pending}

    def retire(self, arn: str) -> None:
        with self._lock:
            pool = self._pools.pop(arn, None)
        if pool:
            pool.retire()

    def retire_missing(self, exists: Callable[[str], bool]) -> None:
        """Retire the pools of functions that no longer exist (after a delete)."""
        with self._lock:
            gone = [arn for arn in self._pools if not exists(arn)]
        for arn in gone:
            self.retire(arn)

    def status(self) -> dict[str, Any]:
        with self._lock:
            pools = {arn: pool.status() for arn, pool in self._pools.items()}
        return {"functions": pools, "async_pending": self._pending, "live_workers": len(self._live)}

    def stop(self) -> None:
        self._stopped = True
        self._async.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            live = list(self._live)
        for worker in live:  # signal them all first: no one waits for another's exit
            worker.kill(wait=False)
        for pool in pools:
            pool.retire()
        for worker in live:
            worker.close(grace=0)

    # -- pools and workers ------------------------------------------------------------------
    def _pool_for(self, spec: FunctionSpec) -> FunctionPool:
        if self._stopped:
            raise RuntimeError("the Lambda runtime is stopped")
        capacity = self.max_workers
        if spec.reserved_concurrency is not None:
            if spec.reserved_concurrency <= 0:
                raise Throttled(f"function {spec.name} has reserved concurrency 0")
            capacity = min(capacity, spec.reserved_concurrency)
        stale = None
        with self._lock:
            pool = self._pools.get(spec.arn)
            if pool is None or pool.spec.fingerprint != spec.fingerprint or pool.capacity != capacity:
                stale = pool
                pool = FunctionPool(spec, capacity, self._launch, self._discard)
                self._pools[spec.arn] = pool
        if stale is not None:
            stale.retire()
        return pool

    def _code_dir(self, spec: FunctionSpec) -> Path:
        target = self.code_root / spec.name / spec.code_sha256
        with self._extract_lock:
            if target.is_dir():
                return target
            staging = target.parent / f".{target.name}.{uuid.uuid4().hex}"
            try:
                with zipfile.ZipFile(io.BytesIO(spec.code)) as archive:
                    archive.extractall(staging)  # extractall drops absolute and `..` parts
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                shutil.rmtree(staging, ignore_errors=True)
                reason = str(exc)
                raise LaunchError(lambda request_id: bad_package_error(spec, request_id, reason)) from None
            staging.rename(target)
        return target

    def _launch(self, spec: FunctionSpec) -> WorkerProcess:
        code_dir = self._code_dir(spec)
        stream = log_stream_name(spec, datetime.now(timezone.utc), uuid.uuid4().hex)
        credentials = (self._credentials_for(spec.role, spec.name)
                       if self._credentials_for is not None and spec.role else None)
        env = worker_environment(spec, endpoint=self.endpoint, code_dir=str(code_dir), log_stream=stream,
                                 path=os.environ.get("PATH", "/usr/bin:/bin"), credentials=credentials)
        worker = WorkerProcess([self.python, "-I", "-u", str(WORKER_SCRIPT)], env, str(code_dir), stream)
        with self._lock:
            self._live.add(worker)
        init_timeout = max(MIN_INIT_TIMEOUT, spec.timeout)
        try:
            worker.wait_ready(init_timeout)
        except WorkerTimeout:
            worker.kill()
            text = worker.take_log()
            self._discard(worker)
            raise LaunchError(lambda request_id: timeout_error(request_id, init_timeout), text) from None
        except WorkerExited as exc:
            text = worker.take_log()
            self._discard(worker)
            detail = exc.detail
            raise LaunchError(lambda request_id: exit_error(request_id, detail), text) from None
        return worker

    def _discard(self, worker: WorkerProcess) -> None:
        with self._lock:
            self._live.discard(worker)
        worker.close()

    # -- one invocation ---------------------------------------------------------------------
    def _run(self, spec: FunctionSpec, payload: bytes, client_context: dict[str, Any] | None,
             synchronous: bool = True) -> InvocationResult:
        request_id = str(uuid.uuid4())
        if not spec.is_python or not spec.code:
            return self._answer(spec, request_id, json.dumps(unsupported_error(spec, request_id)).encode(),
                                "Unhandled", [], 0.0, None)
        fault = self._inject(spec) if self._inject is not None else None
        if fault is not None:
            return self._injected_fault(spec, request_id, fault)
        while True:
            pool = self._pool_for(spec)
            try:
                worker = pool.acquire()
                break
            except Retired:  # lost a race with an update: take the new pool
                continue
            except LaunchError as exc:
                error = exc.error(request_id)
                lines = _lines(exc.log_text) + [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
                return self._answer(spec, request_id, json.dumps(error).encode(), "Unhandled", lines, 0.0, pool)

        lines: list[str] = []
        init_ms = None
        if worker.cold:
            worker.cold = False
            init_ms = worker.init_ms
            lines += _lines(worker.take_log())  # what the module printed while importing
        lines.append(start_line(request_id, spec.version))
        header = {
            "type": "invoke",
            "request_id": request_id,
            "deadline_ms": int(time.time() * 1000 + spec.timeout * 1000),
            "invoked_function_arn": spec.arn,
            "client_context": client_context,
        }
        started = time.perf_counter()
        status = None
        max_used = None
        reusable = False
        try:
            answer, body = worker.call(header, payload, spec.timeout)
            duration = (time.perf_counter() - started) * 1000
            lines += _lines(worker.take_log())
            max_used = answer.get("max_memory_mb")
            if answer["type"] == "result" and synchronous and len(body) > MAX_RESPONSE_BYTES:  # no limit when async
                out, function_error = json.dumps(RESPONSE_TOO_LARGE).encode(), "Unhandled"
            elif answer["type"] == "result":
                out, function_error = body, None
            else:
                out, function_error = json.dumps(answer["error"]).encode(), "Unhandled"
            # A worker whose handler never imported answers only errors: start afresh next time.
            reusable = worker.init_error is None
        except WorkerTimeout:
            duration = spec.timeout * 1000
            worker.kill()
            lines += _lines(worker.take_log())
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            lines.append(f"{stamp} {request_id} Task timed out after {spec.timeout:.2f} seconds")
            out, function_error, status = json.dumps(timeout_error(request_id, spec.timeout)).encode(), "Unhandled", "timeout"
        except WorkerExited as exc:
            duration = (time.perf_counter() - started) * 1000
            lines += _lines(worker.take_log())
            error = exit_error(request_id, exc.detail)
            lines.append(f"{error['errorMessage']}")
            out, function_error, status = json.dumps(error).encode(), "Unhandled", "error"
        lines.append(end_line(request_id))
        lines.append(report_line(request_id, duration, spec.memory_mb, max_used, init_ms, status))
        pool.release(worker, reusable)
        return self._answer(spec, request_id, out, function_error, lines, duration, pool, worker.log_stream,
                            timed_out=status == "timeout")

    def _injected_fault(self, spec: FunctionSpec, request_id: str, fault: str) -> InvocationResult:
        """An injected failure, answered and logged as the real one is. A timeout answers at once
        (the function never ran): its REPORT line still says the full timeout, as AWS bills it."""
        lines = [start_line(request_id, spec.version)]
        if fault == "timeout":
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            lines.append(f"{stamp} {request_id} Task timed out after {spec.timeout:.2f} seconds")
            error, duration, status = timeout_error(request_id, spec.timeout), spec.timeout * 1000, "timeout"
        else:
            error = {"errorMessage": "Injected fault (local cloud fault injection: lambda_error)",
                     "errorType": "InjectedFault", "requestId": request_id, "stackTrace": []}
            lines.append(f"[ERROR] {error['errorType']}: {error['errorMessage']}")
            duration, status = 1.0, "error"
        lines.append(end_line(request_id))
        lines.append(report_line(request_id, duration, spec.memory_mb, None, None, status))
        return self._answer(spec, request_id, json.dumps(error).encode(), "Unhandled", lines, duration, None,
                            timed_out=status == "timeout")

    def _answer(self, spec: FunctionSpec, request_id: str, payload: bytes, function_error: str | None,
                lines: list[str], duration: float, pool: FunctionPool | None,
                stream: str | None = None, timed_out: bool = False) -> InvocationResult:
        if pool is not None:
            pool.record(function_error is not None, timed_out=timed_out)
        if function_error:
            log.info("lambda %s request %s failed: %s", spec.name, request_id, payload[:500].decode(errors="replace"))
        if lines and self._log_sink is not None:
            try:
                stream = stream or log_stream_name(spec, datetime.now(timezone.utc), uuid.uuid4().hex)
                self._log_sink(spec, stream, lines)
            except Exception:  # logs must never fail an invocation
                log.exception("writing the logs of %s failed", spec.name)
        return InvocationResult(payload, function_error, log_tail("\n".join(lines) + "\n" if lines else ""),
                                duration, request_id, spec.version)

    # -- asynchronous invocations -------------------------------------------------------------
    def _submit_async(self, spec: FunctionSpec, payload: bytes) -> None:
        if self._stopped:
            raise RuntimeError("the Lambda runtime is stopped")
        with self._pending_cond:
            self._pending += 1
        self._async.submit(self._run_async, spec, payload, 0)

    def _run_async(self, spec: FunctionSpec, payload: bytes, attempt: int) -> None:
        """One attempt; a failed one is retried later (a timer, not a sleeping thread)."""
        attempts = 1 + max(0, spec.async_retries)
        done = True
        try:
            result = self._run(spec, payload, None, synchronous=False)
            if result.function_error:
                if attempt + 1 < attempts and not self._stopped:
                    delay = self.async_retry_delays[min(attempt, len(self.async_retry_delays) - 1)]
                    log.warning("async invocation of %s failed (attempt %d of %d); retrying in %.1fs",
                                spec.name, attempt + 1, attempts, delay)
                    timer = threading.Timer(delay, self._retry_async, (spec, payload, attempt + 1))
                    timer.daemon = True
                    timer.start()
                    done = False
                else:
                    log.error("async invocation of %s failed after %d attempts: %s", spec.name, attempt + 1,
                              result.payload[:500].decode(errors="replace"))
        except Exception:
            log.exception("async invocation of %s crashed", spec.name)
        finally:
            if done:
                self._async_done()

    def _retry_async(self, spec: FunctionSpec, payload: bytes, attempt: int) -> None:
        try:
            if self._stopped:
                raise RuntimeError("stopped")
            self._async.submit(self._run_async, spec, payload, attempt)
        except RuntimeError:  # stopped meanwhile: the invocation is dropped, as on shutdown
            self._async_done()

    def _async_done(self) -> None:
        with self._pending_cond:
            self._pending -= 1
            self._pending_cond.notify_all()


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _as_bytes(payload: bytes | str | dict | list | None) -> bytes:
    if payload is None:
        return b"{}"
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload).encode()
