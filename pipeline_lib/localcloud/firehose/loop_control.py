"""The signals between a delivery engine's thread and its callers: stop, flush requests and
their completion, the engine's failure, and waits that a stop, flush or new record cuts short.
Built on the engine's lock, so callers and the thread see one state."""
from __future__ import annotations

import threading
import time
from typing import Callable

__all__ = ["DeliveryStopped", "LoopControl"]


class DeliveryStopped(Exception):
    """The engine was stopped while it waited (to retry a delivery)."""


class LoopControl:
    def __init__(self, lock: threading.RLock):
        self.wake = threading.Condition(lock)
        self.stopping = False
        self.failure: str | None = None  # set when the engine itself broke (reported by status)
        self.crashed = False  # stopped by an injected crash (the extension starts its successor)
        self._flush_requested = 0
        self._flush_done = 0

    def flush(self, timeout: float) -> bool:
        """Ask for a flush; True once the engine has done it."""
        with self.wake:
            self._flush_requested += 1
            target = self._flush_requested
            self.wake.notify_all()
            deadline = time.monotonic() + timeout
            while self._flush_done < target and not self.stopping and self.failure is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.wake.wait(remaining)
            return self._flush_done >= target

    def notify(self) -> None:
        with self.wake:
            self.wake.notify_all()

    def stop(self) -> None:
        with self.wake:
            self.stopping = True
            self.wake.notify_all()

    def next_turn(self) -> tuple[int, bool] | None:
        """(the flush requests the next cycle answers, whether it is forced), or None: stop."""
        with self.wake:
            if self.stopping:
                return None
            target = self._flush_requested
        return target, target > self._flush_done

    def turn_done(self, target: int, forced: bool, next_wait: Callable[[], float]) -> None:
        """After a cycle: a forced one completes its flush requests; otherwise wait until the next
        deadline (`next_wait()` seconds) unless a stop or flush came meanwhile."""
        with self.wake:
            if forced:
                self._flush_done = target
                self.wake.notify_all()
                return
            if self.stopping or self._flush_requested > self._flush_done:
                return
            self.wake.wait(next_wait())

    def broke(self, failure: str, crashed: bool = False) -> None:
        with self.wake:
            if crashed:
                self.crashed = True
            self.failure = failure
            self.wake.notify_all()

    def pause(self, seconds: float) -> None:
        """Wait `seconds`; DeliveryStopped if the engine stops meanwhile."""
        deadline = time.monotonic() + seconds
        with self.wake:
            while not self.stopping and time.monotonic() < deadline:
                self.wake.wait(deadline - time.monotonic())
            if self.stopping:
                raise DeliveryStopped()
