"""Work a request starts that should begin only once its answer is on the wire.

StartQueryExecution starts a query in a worker thread; started while the answer is still being
written, that thread (engine Python, DuckDB's filesystem callbacks) competes for the GIL with the
thread writing it, and the client waits for its answer up to a switch interval longer (5 ms by default; server.py sets 1 ms).
`defer(fn)` called while the HTTP handler answers a request (inside `collecting()`) runs `fn`
after the answer was sent (`run`); called anywhere else (in-process use, tests) it runs `fn` now.
Either way `fn` runs exactly once, also when the answer could not be sent.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["collecting", "defer", "run"]

log = logging.getLogger("pipeline_lib.localcloud")
_local = threading.local()


def defer(fn: Callable[[], None]) -> None:
    pending = getattr(_local, "pending", None)
    if pending is None:
        fn()
    else:
        pending.append(fn)


@contextmanager
def collecting() -> Iterator[list[Callable[[], None]]]:
    """While the block runs, `defer` on this thread collects; the list is what it collected."""
    pending: list[Callable[[], None]] = []
    _local.pending = pending
    try:
        yield pending
    finally:
        _local.pending = None


def run(pending: list[Callable[[], None]]) -> None:
    for fn in pending:
        try:
            fn()
        except Exception:  # one failing must not keep the others from running
            log.exception("deferred work after a response failed")
    pending.clear()
