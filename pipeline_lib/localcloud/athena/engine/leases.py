"""A bounded, least-recently-used set of values that queries lease: pure bookkeeping (what is held,
what is pinned, what to close), the values made and closed by callables given to it.

- Keyed by a *version*: a hashable that equals another only for the same stored generation of the
  same object, so a replaced object is a new key and its old value is never handed out again.
- Bounded by bytes and by count: a lease that cannot fit, even after evicting every unpinned value,
  is refused (None) and the caller reads the object another way; the bounds are never exceeded.
- A leased value is pinned until released: never closed while a query may read it. A newer version
  of the same name retires the older one (closed at once, or when its last lease is released).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable

__all__ = ["Leases", "Lease", "LeaseStats"]


@dataclass(eq=False)
class Lease:
    """One held value; `value` is what `make` returned. Released through `Leases.release`."""

    version: Hashable
    name: Hashable
    size: int
    value: Any
    pins: int = 0
    retired: bool = False


@dataclass(frozen=True)
class LeaseStats:
    files: int  # values held (open), retired ones still pinned included
    bytes: int
    pinned: int  # values some query holds


class Leases:
    def __init__(self, max_bytes: int, max_files: int, close: Callable[[Any], None]) -> None:
        self.max_bytes = max_bytes
        self.max_files = max_files
        self._close = close
        self._lock = threading.Lock()
        self._current: "OrderedDict[Hashable, Lease]" = OrderedDict()  # least recently used first
        self._by_name: dict[Hashable, Hashable] = {}  # name -> the version held for it
        self._bytes = 0  # held, retired-but-pinned included, plus reserved (being made)
        self._files = 0
        self._retired: set[Lease] = set()  # retired while pinned: closed at their last release

    def lease(self, version: Hashable, name: Hashable, size: int, make: Callable[[], Any]) -> Lease | None:
        """The value for `version` pinned (made by `make()` if not held), or None when it cannot
        fit or `make` fails with OSError (the caller falls back)."""
        closing: list[Any] = []
        with self._lock:
            found = self._current.get(version)
            if found is not None:
                found.pins += 1
                self._current.move_to_end(version)
                return found
            older = self._by_name.get(name)
            if older is not None:
                closing += self._retire(self._current[older])
            fits, evicted = self._make_room(size)
            closing += evicted
            if fits:  # reserved while it is made outside the lock
                self._bytes += size
                self._files += 1
        self._close_all(closing)
        closing = []
        if not fits:
            return None
        try:
            value = make()
        except OSError:
            with self._lock:
                self._bytes -= size
                self._files -= 1
            return None
        with self._lock:
            found = self._current.get(version)
            if found is not None:  # another query made it meanwhile: use that one, give back the reservation
                self._bytes -= size
                self._files -= 1
                closing.append(value)
            else:
                other = self._by_name.get(name)
                if other is not None:  # one version per name held (this one is not held: see above)
                    closing += self._retire(self._current[other])
                found = self._current[version] = Lease(version, name, size, value)
                self._by_name[name] = version
            found.pins += 1
        self._close_all(closing)
        return found

    def release(self, lease: Lease) -> None:
        closing = []
        with self._lock:
            lease.pins -= 1
            if lease.pins == 0 and lease.retired:
                self._retired.discard(lease)
                closing.append(self._forget(lease))
        self._close_all(closing)

    def stats(self) -> LeaseStats:
        with self._lock:
            pinned = sum(1 for lease in self._current.values() if lease.pins) + len(self._retired)
            return LeaseStats(self._files, self._bytes, pinned)

    def clear(self) -> None:
        """Close every unpinned value (pinned ones close when released)."""
        with self._lock:
            closing = []
            for lease in list(self._current.values()):
                closing += self._retire(lease)
        self._close_all(closing)

    # -- under the lock --------------------------------------------------------------------------
    def _retire(self, lease: Lease) -> list[Any]:
        """`lease` no longer handed out; its value closed now if unpinned (returned to close)."""
        del self._current[lease.version]
        if self._by_name.get(lease.name) is lease.version:  # identity: a version whose object is
            del self._by_name[lease.name]                  # gone may equal nothing, not even itself
        lease.retired = True
        if lease.pins:
            self._retired.add(lease)
            return []
        return [self._forget(lease)]

    def _forget(self, lease: Lease) -> Any:
        self._bytes -= lease.size
        self._files -= 1
        return lease.value

    def _make_room(self, size: int) -> tuple[bool, list[Any]]:
        """Evict unpinned values, least recently used first, until `size` more bytes and one more
        file fit; (whether they fit, the values to close). Nothing is evicted when they cannot."""
        if size > self.max_bytes or self.max_files < 1:
            return False, []
        need_bytes = self._bytes + size - self.max_bytes
        need_files = self._files + 1 - self.max_files
        if need_bytes <= 0 and need_files <= 0:
            return True, []
        victims, freed_bytes, freed_files = [], 0, 0
        for lease in self._current.values():
            if freed_bytes >= need_bytes and freed_files >= need_files:
                break
            if lease.pins == 0:
                victims.append(lease)
                freed_bytes += lease.size
                freed_files += 1
        if freed_bytes < need_bytes or freed_files < need_files:
            return False, []
        closing = []
        for lease in victims:
            closing += self._retire(lease)
        return True, closing

    def _close_all(self, values: list[Any]) -> None:
        for value in values:
            self._close(value)
