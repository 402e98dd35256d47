"""Loading a snapshot into the running process (`local snapshot load NAME` without a restart).

The server serves through a `CloudHost`: it holds the current `LocalCloud` and lets API requests
through a gate. A load reads, checks and unpickles the snapshot whole first (a damaged or foreign
one changes nothing), then: closes the gate (new API requests wait; control requests such as
health still answer), stops the current cloud's engines, pools and workers without saving, waits
for the requests already inside to end, empties moto's backends, builds a new cloud of the same
settings from the snapshot (its seams take over the old ones, its extensions start from the
snapshot's state), makes the snapshot the state dir's current state, and opens the gate. Requests
that waited run against the loaded state, as if sent just after the load.

The process, its port, moto's imported models and botocore's service models stay: what costs a
restart (seconds of imports) is not paid again.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable

from . import moto_state
from .keeper import decode, snapshot_path
from .snapshots import check_snapshot, install_snapshot

if TYPE_CHECKING:
    from ..cloud import LocalCloud

__all__ = ["CloudHost", "Gate"]

log = logging.getLogger("pipeline_lib.localcloud.state")

LOAD_PATH = "/_workbench/state/load"
# How long a load waits for the API requests already being answered (a Lambda invocation ends
# once its worker is stopped; a long scan ends on its own).
DRAIN_SECONDS = 30.0


class Gate:
    """Counts API requests inside; closed, it holds new ones until it opens again."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._inside = 0
        self._open = True

    def enter(self) -> None:
        with self._cond:
            while not self._open:
                self._cond.wait()
            self._inside += 1

    def leave(self) -> None:
        with self._cond:
            self._inside -= 1
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._open = False

    def open(self) -> None:
        with self._cond:
            self._open = True
            self._cond.notify_all()

    def drained(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._inside:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True


class CloudHost:
    """The server's cloud, replaceable in place. `make_cloud()` builds an uninstalled cloud of the
    server's settings; `moto_app` is moto's WSGI app (each cloud wraps it in its own layers)."""

    def __init__(self, make_cloud: Callable[[], "LocalCloud"], moto_app: Callable):
        self._make_cloud = make_cloud
        self._moto_app = moto_app
        self._gate = Gate()
        self._swap = threading.Lock()  # one load at a time
        self.cloud = make_cloud()
        self.cloud.install()
        self._app = self.cloud.wsgi(moto_app)
        self.loads: list[dict[str, Any]] = []

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == LOAD_PATH and environ.get("REQUEST_METHOD") == "POST":
            return self._control_load(environ, start_response)
        if path.startswith("/_workbench/"):
            return self._app(environ, start_response)  # health and status answer during a load
        self._gate.enter()
        try:
            # The body is produced inside the gate (a load waits for it), then handed on whole.
            result = self._app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        finally:
            self._gate.leave()

    def _control_load(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        import json

        from .fileformat import StateFileError

        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            args = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            body, status = self.load(str(args.get("name", ""))), "200 OK"
        except (FileNotFoundError, StateFileError, ValueError) as exc:  # the caller's to fix; nothing changed
            body, status = {"error": str(exc)}, "400 Bad Request"
        except Exception as exc:
            log.exception("loading a snapshot in place failed")
            body, status = {"error": f"{type(exc).__name__}: {exc}"}, "500 Internal Server Error"
        payload = json.dumps(body, default=str).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    def load(self, name: str) -> dict[str, Any]:
        """Return the running cloud to snapshot `name`; timings of each step in the answer."""
        with self._swap:
            times: dict[str, float] = {}
            mark = time.perf_counter()
            started = mark

            def step(label: str) -> None:
                nonlocal mark
                now = time.perf_counter()
                times[label] = round(now - mark, 3)
                mark = now

            old = self.cloud
            path = snapshot_path(old.state_dir, name)
            if not path.exists():
                check_snapshot(old.state_dir, name)  # raises FileNotFoundError naming the snapshots there
            decoded = decode(path)  # read, checked and unpickled whole, before anything live is touched
            step("read")
            self._gate.close()
            try:
                old.halt()
                step("stop")
                drained = self._gate.drained(DRAIN_SECONDS)
                if not drained:
                    log.warning("snapshot load: requests still running after %.0fs; loading anyway", DRAIN_SECONDS)
                moto_state.clear_all()
                fresh = self._make_cloud()
                fresh.adopt_settings(old)
                fresh.install(decoded)
                step("install")
                install_snapshot(old.state_dir, name, checked=True)  # a restart now comes back to it too
                step("current")
                self._app = fresh.wsgi(self._moto_app)
                self.cloud = fresh
                fresh.start()
                step("start")
            finally:
                self._gate.open()
            took = round(time.perf_counter() - started, 3)
            report = {"name": name, "seconds": took, "steps": times, "drained": drained}
            self.loads.append(report)
            log.info("snapshot %s loaded in place in %.2fs %s", name, took, times)
            return report

    def stop(self) -> None:
        self.cloud.stop()
