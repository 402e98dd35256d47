"""The state file: a stamp, a header, a pickle stream; written atomically, checked whole before
anything of it is used.

    PIPELINE-LOCALCLOUD-STATE\n
    {"format": 1, "moto": "5.2.5", "python": "3.11", "saved_at": ..., "length": N, "sha256": ...}\n
    <N bytes: the parts, one pickle after another>

The payload is streamed to the file as it is made (never held whole in memory: it is about 1 KB
per stored item), so the header, written first, is padded with spaces to HEADER_WIDTH and filled
in once the length and digest are known (JSON ignores the padding: unpadded files read the same).

A file that is not one (another program's, a torn copy), a digest that does not match, another
format version, another moto or Python version: refused with a message saying what to do, before
any live state is touched, so a state dir is never half-loaded.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

__all__ = ["FORMAT_VERSION", "MAGIC", "StateFileError", "Header", "write_atomic", "write_streamed", "read"]

MAGIC = b"PIPELINE-LOCALCLOUD-STATE\n"
# Bump when what the parts hold changes shape; older files are then refused (see `read`).
FORMAT_VERSION = 1
# Room for the header line (about 200 bytes), padded with spaces (see above).
HEADER_WIDTH = 512


class StateFileError(RuntimeError):
    """A state file that cannot be loaded; the message says why and what to do."""


@dataclass(frozen=True)
class Header:
    format: int
    moto: str
    python: str
    saved_at: float
    length: int
    sha256: str


def _runtime() -> tuple[str, str]:
    from ..seam import moto_version

    return moto_version(), f"{sys.version_info[0]}.{sys.version_info[1]}"


class _Digesting:
    """A file's `write` that also counts and digests what goes through it."""

    def __init__(self, handle: Any):
        self._handle = handle
        self._digest = hashlib.sha256()
        self.length = 0

    def write(self, data: Any) -> int:
        self._digest.update(data)
        self.length += len(data)  # a pickler's frames are bytes; a memoryview's len is its bytes
        return self._handle.write(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def write_streamed(path: Path, fill: Callable[[Any], None]) -> Header:
    """Write a state to `path` whose payload `fill(out)` writes with `out.write(...)`: a temp
    file in the same directory, fsynced, renamed over `path`, the directory fsynced. A crash (or
    an exception from `fill`) at any point leaves the old file or the new one, never a mix."""
    moto, python = _runtime()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(MAGIC)
            handle.write(b" " * HEADER_WIDTH + b"\n")
            out = _Digesting(handle)
            fill(out)
            header = Header(FORMAT_VERSION, moto, python, time.time(), out.length, out.hexdigest())
            line = json.dumps(header.__dict__).encode()
            if len(line) > HEADER_WIDTH:
                raise ValueError(f"state header longer than {HEADER_WIDTH} bytes: {line!r}")
            handle.seek(len(MAGIC))
            handle.write(line.ljust(HEADER_WIDTH))
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return header


def write_atomic(path: Path, payload: bytes) -> Header:
    """`write_streamed` of a payload already in memory."""
    return write_streamed(path, lambda out: out.write(payload))


def read(path: Path) -> tuple[Header, bytes]:
    """The header and payload of a state file, checked; StateFileError otherwise."""
    aside = f"move {path} aside (or delete it) to start with an empty cloud"
    try:
        with open(path, "rb") as handle:  # the header line, then the payload: one copy in memory
            stamp = handle.read(len(MAGIC))
            line = handle.readline(HEADER_WIDTH + 1) if stamp == MAGIC else b""
            payload = handle.read() if stamp == MAGIC else b""
    except OSError as exc:
        raise StateFileError(f"cannot read the local cloud's state {path}: {exc}") from None
    if stamp != MAGIC:
        raise StateFileError(f"{path} is not a local-cloud state file (no {MAGIC.strip().decode()} stamp); {aside}")
    try:
        fields = json.loads(line)
        header = Header(**fields)
    except (ValueError, TypeError) as exc:
        raise StateFileError(f"{path} has an unreadable header ({exc}); {aside}") from None
    if header.format != FORMAT_VERSION:
        older = "an older" if header.format < FORMAT_VERSION else "a newer"
        raise StateFileError(
            f"{path} was written by {older} version of pipeline_lib (state format {header.format}; this "
            f"version reads format {FORMAT_VERSION}) and is not loaded; {aside}, or use the version that wrote it"
        )
    moto, python = _runtime()
    if (header.moto, header.python) != (moto, python):
        raise StateFileError(
            f"{path} was written with moto {header.moto} on Python {header.python}; this is moto {moto} on "
            f"Python {python}, whose objects it may not match, so it is not loaded; {aside}"
        )
    if len(payload) != header.length or hashlib.sha256(payload).hexdigest() != header.sha256:
        raise StateFileError(f"{path} is damaged (its content does not match its digest); {aside}")
    return header, payload
