"""One S3 object's bytes in an anonymous in-memory file (Linux memfd), readable by path.

DuckDB reads a path through its own native file system (parallel, no GIL), where a Python (fsspec)
file system serialises its threads: `/proc/self/fd/N` names the memfd for any code in this process.
The file is sealed once written (nothing can change its bytes while it is open) and kept mapped,
populated, so its pages count in the process's RSS (RssShmem), as the bytes of a cache should.
"""

from __future__ import annotations

import fcntl
import mmap
import os

__all__ = ["MemfdFile", "supported"]

_SEALS = getattr(fcntl, "F_SEAL_SEAL", 0) | getattr(fcntl, "F_SEAL_SHRINK", 0) | \
    getattr(fcntl, "F_SEAL_GROW", 0) | getattr(fcntl, "F_SEAL_WRITE", 0)
_POPULATE = getattr(mmap, "MAP_POPULATE", 0)


class MemfdFile:
    """`body` copied into a new sealed memfd; `path` reads it while the file is open."""

    __slots__ = ("fd", "size", "path", "_map")

    def __init__(self, body: bytes | memoryview, name: str = "athena-object") -> None:
        size = len(body)
        if size == 0:
            raise ValueError("an empty object cannot be mapped")
        fd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        try:
            view = memoryview(body)
            written = 0
            while written < size:  # a write may be partial
                written += os.write(fd, view[written:])
            if _SEALS and hasattr(fcntl, "F_ADD_SEALS"):
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS, _SEALS)
            # Read-only, shared, populated: the page cache pages the write filled, now counted in RSS.
            self._map = mmap.mmap(fd, size, flags=mmap.MAP_SHARED | _POPULATE, prot=mmap.PROT_READ)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        self.size = size
        self.path = f"/proc/self/fd/{fd}"

    def close(self) -> None:
        """Unmap and close: the number may then name another file (callers never hand out `path`
        past this)."""
        if self.fd < 0:
            return  # closed already: never close a number that may name another file by now
        fd, self.fd = self.fd, -1
        self._map.close()
        os.close(fd)


def supported() -> bool:
    """Whether memfds can be made and read back by path here (Linux with /proc mounted)."""
    if not hasattr(os, "memfd_create"):
        return False
    try:
        probe = MemfdFile(b"PAR1", "athena-probe")
    except (OSError, ValueError):
        return False
    try:
        with open(probe.path, "rb") as f:
            return f.read() == b"PAR1"
    except OSError:
        return False
    finally:
        probe.close()
