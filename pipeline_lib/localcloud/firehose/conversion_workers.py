"""Record format conversion off the server's interpreter lock: a few worker processes
(conversion_worker.py) that turn a batch of JSON records into Arrow rows, and a buffer's rows
into Parquet (batch_conversion.py).

Why: the server process answers every API call under one GIL; converting records there (JSON
parse, OpenX coercion, building Arrow arrays: pure Python for the most part) made delivery queue
behind request handling, at about a thirtieth of what the engine does alone. A worker gets the
converter's spec (plain data) and the records' bytes, and returns the rows as Arrow IPC bytes per
partition with each record's outcome; the engine's thread waits on a pipe meanwhile, without the
GIL. The results are those the same functions give in process, so the Parquet is the same.

Workers start on first use and are kept warm; one that dies is replaced and its batch sent once
more (conversion is pure: a retry cannot duplicate anything); a second death is an error the
engine reports (`failure` in status).
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

from . import conversion_protocol as protocol
from .batch_conversion import ConvertedBatch

__all__ = ["ConversionWorkers", "WorkerFailed", "default_size"]

SIZE_ENV = "PIPELINE_FIREHOSE_WORKERS"


class WorkerFailed(RuntimeError):
    """A conversion worker died twice on one batch, or reported an error."""


def default_size() -> int:
    """PIPELINE_FIREHOSE_WORKERS, else 1 (an engine asks for one thing at a time: a batch converts
    while the next is in the Lambda processor, and buffers are written between batches; each
    worker holds about 60 MB); 0 converts in the server process."""
    raw = os.environ.get(SIZE_ENV)
    if raw is None or raw.strip() == "":
        return 1
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(f"{SIZE_ENV} must be a whole number of worker processes (0 = none), got {raw!r}") from None
    if size < 0:
        raise ValueError(f"{SIZE_ENV} must be 0 or more, got {size}")
    return size


def _shared_file(name: str) -> int:
    """A file descriptor of an anonymous file in memory (Linux), else of a temporary file."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create(name)
    import tempfile

    handle = tempfile.TemporaryFile()
    fd = os.dup(handle.fileno())
    handle.close()
    return fd


class _Worker:
    """One worker. A batch and its answer go through two shared files, and only their lengths
    through the pipes: the engine's thread then gives up the interpreter lock four times a batch
    (two writes, two reads), not once per 64 KiB of pipe, and under load each time it takes the
    lock back it may wait for request threads (see the module docstring)."""

    def __init__(self, python: str):
        package_root = str(Path(__file__).resolve().parents[3])  # the folder holding pipeline_lib
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self.requests_fd = _shared_file("firehose-conversion-requests")
        self.answers_fd = _shared_file("firehose-conversion-answers")
        env[protocol.FILES_ENV] = f"{self.requests_fd},{self.answers_fd}"
        try:
            self.proc = subprocess.Popen(
                [python, "-m", "pipeline_lib.localcloud.firehose.conversion_worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                pass_fds=(self.requests_fd, self.answers_fd),
            )
        except BaseException:
            os.close(self.requests_fd)
            os.close(self.answers_fd)
            raise

    def call(self, request_parts: tuple) -> tuple:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        request = pickle.dumps(request_parts, protocol=pickle.HIGHEST_PROTOCOL)
        protocol.write_file(self.requests_fd, request)
        protocol.write_pipe(self.proc.stdin.fileno(), protocol.LENGTH.pack(len(request)))
        length = protocol.read_length(self.proc.stdout.fileno())
        return pickle.loads(protocol.read_all(self.answers_fd, length))

    def _close_files(self) -> None:
        for fd in (self.requests_fd, self.answers_fd):
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()  # EOF: the worker returns
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._close_files()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        self._close_files()


class ConversionWorkers:
    """Up to `size` warm worker processes shared by every delivery stream of a cloud."""

    def __init__(self, size: int, python: str = sys.executable):
        if size < 1:
            raise ValueError("ConversionWorkers needs at least one worker")
        self.size = size
        self._python = python
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._started = 0
        self._closed = False
        self.batches = 0  # batches converted (status)
        self.replaced = 0  # workers that died and were replaced

    def convert(self, converter: Any, records: Sequence[bytes], groups: Sequence[int]) -> ConvertedBatch:
        """`batch_conversion.convert_records(converter, records, groups)`, run in a worker."""
        _ok, outcomes, pieces, cpu_seconds = self._call(("convert", converter.spec, list(records), list(groups)))
        self.batches += 1
        return ConvertedBatch(outcomes, pieces, cpu_seconds)

    def write_parquet(self, converter: Any, pieces: Sequence[bytes]) -> bytes:
        """`batch_conversion.write_parquet(converter, pieces)`, run in a worker."""
        return self._call(("parquet", converter.spec, list(pieces)))[1]

    def write_parquets(self, converter: Any, buffers: Sequence[Sequence[bytes]]) -> list[bytes]:
        """`write_parquet` of each buffer's pieces, in one request to a worker."""
        return self._call(("parquets", converter.spec, [list(pieces) for pieces in buffers]))[1]

    def _call(self, request: tuple) -> tuple:
        for attempt in (1, 2):
            worker = self._acquire()
            try:
                answer = worker.call(request)
            except (EOFError, OSError, pickle.UnpicklingError, protocol.WorkerGone) as exc:
                self._discard(worker)
                if attempt == 2:
                    raise WorkerFailed(f"a conversion worker died twice on one request: {exc!r}") from None
                continue
            self._release(worker)
            if answer[0] != "ok":
                raise WorkerFailed(f"conversion worker: {answer[1]}")
            return answer
        raise AssertionError("unreachable")

    def _acquire(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerFailed("the conversion workers are stopped")
                if self._idle:
                    return self._idle.pop()
                if self._started < self.size:
                    self._started += 1
                    break
                self._cond.wait()
        try:
            return _Worker(self._python)
        except BaseException:
            with self._cond:
                self._started -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if self._closed:
                worker.close()
                return
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._cond:
            self._started -= 1
            self.replaced += 1
            self._cond.notify()

    def close(self) -> None:
        """Stop every idle worker; busy ones are stopped when they come back."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for worker in idle:
            worker.close()

    def status(self) -> dict[str, Any]:
        with self._cond:
            return {"workers": self._started, "size": self.size, "batches": self.batches, "replaced": self.replaced}
