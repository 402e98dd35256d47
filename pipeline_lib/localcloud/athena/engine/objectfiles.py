"""The Parquet objects queries scan, kept as memfd files DuckDB reads natively (issue #8).

A scan leases each object by its version (`Storage.get_object_version`: equal only for the same
stored generation of the object) and hands DuckDB the lease's path; the query releases its leases
when it ends. Held objects are bounded by PIPELINE_ATHENA_CACHE_MB (default 64; 0 turns the cache
off) and by a file count well below the process's descriptor limit. Where memfds cannot be made
(not Linux, no /proc) or an object does not fit, the scan reads it through the fsspec file system
(`memfs`) as before: the same bytes, the same answers. Nothing here is saved with the cloud's state.

A held file is dropped when a scan meets a newer version of its object, or by least recent use;
a deleted object's file stays until then (within the bounds). A version may hold the object's
bytes (moto's own while the object lives, `storage.MotoObjectVersion`): for a replaced or deleted
object they stay as long as its file, so the memory held is at most twice the bound, in RSS.
"""

from __future__ import annotations

import os
import threading
from typing import Hashable

from .leases import Lease, Leases, LeaseStats
from .memfd import MemfdFile, supported

__all__ = ["ObjectFiles", "object_files", "settings", "status"]

ENV_MB = "PIPELINE_ATHENA_CACHE_MB"
DEFAULT_MB = 64
MAX_FILES = 4096


def settings(environ=os.environ) -> tuple[int, int]:
    """(max bytes, max files): the setting (MB), and a quarter of the soft descriptor limit, at
    most MAX_FILES (the server needs descriptors for its sockets and DuckDB its own opens)."""
    raw = environ.get(ENV_MB, "").strip()
    try:
        mb = float(raw) if raw else DEFAULT_MB
    except ValueError:
        raise ValueError(f"{ENV_MB} must be a number of megabytes, not {raw!r}") from None
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        unlimited = soft == resource.RLIM_INFINITY
    except (ImportError, ValueError, OSError):  # no resource module (Windows): no memfds there either
        soft, unlimited = 1024, False
    files = MAX_FILES if unlimited else min(MAX_FILES, soft // 4)
    return max(0, int(mb * 1024 * 1024)), max(0, files)


class ObjectFiles:
    """Leases of objects as memfd files (`lease(...).value.path`)."""

    def __init__(self, max_bytes: int, max_files: int) -> None:
        self._leases = Leases(max_bytes, max_files, MemfdFile.close)

    def lease(self, version: Hashable, name: Hashable, body: bytes) -> Lease | None:
        """`body` (the object `version` names) as a file, pinned until `release`; None when it does
        not fit (or is empty, or the memfd cannot be made): read it another way."""
        if not body:
            return None
        return self._leases.lease(version, name, len(body), lambda: MemfdFile(body))

    def release(self, lease: Lease) -> None:
        self._leases.release(lease)

    def stats(self) -> LeaseStats:
        return self._leases.stats()

    def status(self) -> dict[str, int]:
        stats = self.stats()
        return {"files": stats.files, "bytes": stats.bytes, "pinned": stats.pinned,
                "max_bytes": self._leases.max_bytes, "max_files": self._leases.max_files}

    def clear(self) -> None:
        self._leases.clear()


_lock = threading.Lock()
_made = False
_object_files: ObjectFiles | None = None


def object_files() -> ObjectFiles | None:
    """The process's ObjectFiles, made at first use from the settings; None when off or unsupported."""
    global _made, _object_files
    with _lock:
        if not _made:
            max_bytes, max_files = settings()
            if max_bytes > 0 and max_files > 0 and supported():
                _object_files = ObjectFiles(max_bytes, max_files)
            _made = True
        return _object_files


def status() -> dict[str, int] | None:
    """What the object files hold now (for `local status`), None when they are off or unsupported."""
    held = object_files()
    return None if held is None else held.status()
