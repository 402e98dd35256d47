"""The tests' one way to wait for the cloud: poll a read until its answer says done.

Managed services answer asynchronously (a crawler goes READY, an execution ends, a destination
becomes ACTIVE, an asynchronous invocation writes its object): a test reads the state again and
again, with a deadline that fails the test naming what never happened and the last answer seen.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_UNSET = object()


def wait_for(read: Callable[[], T], done: Callable[[T], bool] = bool, *, timeout: float, what: str,
             interval: float = 0.05) -> T:
    """Call `read` until `done(answer)` (default: the answer is truthy), and return that answer.
    After `timeout` seconds, AssertionError naming `what` and the last answer."""
    deadline = time.monotonic() + timeout
    last: object = _UNSET
    while True:
        last = read()
        if done(last):  # type: ignore[arg-type]
            return last  # type: ignore[return-value]
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not after {timeout:g} s; last seen: {last!r}")
        time.sleep(interval)


def absent_as_none(read: Callable[[], T], *absent: type[BaseException]) -> Callable[[], T | None]:
    """`read`, answering None while it raises one of `absent` (e.g. NoSuchKey before an object exists)."""

    def attempt() -> T | None:
        try:
            return read()
        except absent:
            return None

    return attempt
