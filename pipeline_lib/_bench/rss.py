"""Peak resident memory of a process and its descendants (the local cloud and its Lambda workers),
sampled from /proc on a thread (Linux; elsewhere the figure is None)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

__all__ = ["RssSampler", "children", "tree_rss_bytes"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def children(pid: int) -> list[int]:
    """The process ids `pid`'s threads started (Linux's /proc/<pid>/task/*/children)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(p) for p in task.read_text().split()]
        except OSError:
            pass
    return out


def _rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_bytes(pid: int) -> int:
    """Resident bytes of `pid` and every descendant now."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_bytes(current)
        todo += children(current)
    return total


class RssSampler:
    """Samples tree_rss_bytes(pid) every `interval` seconds until stopped; `peak_mb` is the maximum."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid, self.interval = pid, interval
        self.available = Path(f"/proc/{pid}/statm").exists()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> int:
        now = tree_rss_bytes(self.pid)
        self.peak = max(self.peak, now)
        return now

    def __enter__(self) -> RssSampler:
        if self.available:
            self.sample()
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
            self.sample()

    def process_peak_mb(self) -> float | None:
        """The root process's own high-water mark (VmHWM), without its workers."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
        return None

    @property
    def peak_mb(self) -> float | None:
        return round(self.peak / 2**20, 1) if self.available else None
