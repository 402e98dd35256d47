"""The state file: a stamp, a header, a pickle stream; written atomically, checked whole before
anything of it is used.

    PIPELINE-LOCALCLOUD-STATE\n
    {"format": 1, "moto": "5.2.5", "python": "3.11", "saved_at": ..., "length": N, "sha256": ...}\n
    <N bytes: the parts, one pickle after another>

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

__all__ = ["FORMAT_VERSION", "MAGIC", "StateFileError", "Header", "write_atomic", "read"]

MAGIC = b"PIPELINE-LOCALCLOUD-STATE\n"
# Bump when what the parts hold changes shape; older files are then refused (see `read`).
FORMAT_VERSION = 1


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


def write_atomic(path: Path, payload: bytes) -> Header:
    """Write `payload` under a fresh header to `path`: a temp file in the same directory,
    fsynced, renamed over `path`, the directory fsynced. A crash at any point leaves the old file
    or the new one, never a mix."""
    moto, python = _runtime()
    header = Header(FORMAT_VERSION, moto, python, time.time(), len(payload), hashlib.sha256(payload).hexdigest())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(MAGIC)
        handle.write(json.dumps(header.__dict__).encode() + b"\n")
        handle.write(payload)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return header


def read(path: Path) -> tuple[Header, bytes]:
    """The header and payload of a state file, checked; StateFileError otherwise."""
    aside = f"move {path} aside (or delete it) to start with an empty cloud"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StateFileError(f"cannot read the local cloud's state {path}: {exc}") from None
    if not data.startswith(MAGIC):
        raise StateFileError(f"{path} is not a local-cloud state file (no {MAGIC.strip().decode()} stamp); {aside}")
    line_end = data.find(b"\n", len(MAGIC))
    try:
        fields = json.loads(data[len(MAGIC):line_end])
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
    payload = data[line_end + 1:]
    if len(payload) != header.length or hashlib.sha256(payload).hexdigest() != header.sha256:
        raise StateFileError(f"{path} is damaged (its content does not match its digest); {aside}")
    return header, payload
