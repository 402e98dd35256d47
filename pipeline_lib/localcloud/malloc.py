"""glibc's allocator, tuned for the cloud's process (no-ops elsewhere).

The server runs dozens of threads (a request thread per connection, delivery engines, the state
saver); glibc gives threads up to eight arenas per core, and each keeps the memory its threads
freed for itself. Python's small objects live in its own arenas; everything larger (record bytes,
dict and list storage, a state save's pickler memo) comes from glibc's. Measured on the 30,000-item
bench (alternating, one script): two arenas lowered the peak by 60-120 MB and the RSS after
the writes by 35-70 MB, the write rate no lower.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

__all__ = ["ARENAS", "limit_arenas"]

log = logging.getLogger("pipeline_lib.localcloud")

ARENAS = 2
_M_ARENA_MAX = -8  # glibc's malloc.h


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "mallopt") else None


def limit_arenas(arenas: int = ARENAS) -> bool:
    """At most `arenas` glibc arenas from now on (call before threads start), unless the
    environment's MALLOC_ARENA_MAX already says how many. True when set."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    libc = _libc()
    return bool(libc is not None and libc.mallopt(_M_ARENA_MAX, arenas) == 1)
