"""How the engine and a conversion worker talk: each request and answer is written whole into a
shared file (positional writes at offset 0) and announced by its length, 8 bytes on a pipe."""
from __future__ import annotations

import os
import struct

__all__ = ["FILES_ENV", "LENGTH", "WorkerGone", "read_all", "read_length", "write_file", "write_pipe"]

FILES_ENV = "PIPELINE_CONVERSION_FILES"  # "<requests fd>,<answers fd>" in the worker's environment
LENGTH = struct.Struct("<Q")


class WorkerGone(EOFError):
    """The other side closed its pipe."""


def write_pipe(fd: int, data: bytes) -> None:
    view, written = memoryview(data), 0
    while written < len(view):
        written += os.write(fd, view[written:])


def write_file(fd: int, data: bytes) -> None:
    """`data` from offset 0 of a shared file (what is beyond it is stale and never read)."""
    view, written = memoryview(data), 0
    while written < len(view):
        written += os.pwrite(fd, view[written:], written)


def read_all(fd: int, length: int) -> bytes:
    """`length` bytes from offset 0 of a shared file."""
    chunks, got = [], 0
    while got < length:
        chunk = os.pread(fd, length - got, got)
        if not chunk:
            raise WorkerGone(f"the shared file holds {got} of {length} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_length(fd: int) -> int:
    """The next 8-byte length on a pipe (WorkerGone at its end)."""
    data = b""
    while len(data) < LENGTH.size:
        chunk = os.read(fd, LENGTH.size - len(data))
        if not chunk:
            raise WorkerGone("the pipe was closed")
        data += chunk
    return LENGTH.unpack(data)[0]
