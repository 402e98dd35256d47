"""The local cloud inside its process: moto's WSGI app, our control endpoints, the extensions."""
from __future__ import annotations

import importlib
import json
import logging
import os
import threading
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from .extension import Extension
from .statedir import ACCOUNT_ID, DEFAULT_REGION

log = logging.getLogger("pipeline_lib.localcloud")

# Service packages, in install (and flush) order. Each exposes `extension(cloud) -> Extension`;
# its seams, status/flush hooks and CloudFormation types come with it.
EXTENSION_MODULES: tuple[str, ...] = (
    "pipeline_lib.localcloud.faults",  # first: the others ask it (faults_of) from their first call
    "pipeline_lib.localcloud.iam",
    "pipeline_lib.localcloud.kinesis",
    "pipeline_lib.localcloud.lambda_runtime",
    "pipeline_lib.localcloud.stepfunctions",
    "pipeline_lib.localcloud.s3",
    "pipeline_lib.localcloud.logs",
    "pipeline_lib.localcloud.cfn",
    "pipeline_lib.localcloud.dynamodb",
    "pipeline_lib.localcloud.dynamodb_kinesis",
    "pipeline_lib.localcloud.firehose",
    "pipeline_lib.localcloud.glue",
    "pipeline_lib.localcloud.athena",
)

CONTROL_PREFIX = "/_workbench/"
# Firehose buffer intervals: "scaled" by the time scale (the default), or "aws" (as configured).
BUFFERING_MODES = ("scaled", "aws")


class LocalCloud:
    """One local cloud: it owns its services (`extensions`, one per service package), which reach
    each other through it (`extension(name)`); their seams are closures over it."""

    def __init__(
        self,
        host: str,
        port: int,
        state_dir: str,
        time_scale: float = 0.05,
        buffering: str = "scaled",
        region: str = DEFAULT_REGION,
        extension_modules: Iterable[str] = EXTENSION_MODULES,
        on_shutdown: Callable[[], None] | None = None,
        persistent: bool = False,
    ):
        self.host = host
        self.port = port
        self.state_dir = state_dir
        self.time_scale = time_scale
        if buffering not in BUFFERING_MODES:
            raise ValueError(f"PIPELINE_FIREHOSE_BUFFERING must be one of {', '.join(BUFFERING_MODES)}, not {buffering!r}")
        self.buffering = buffering
        self.region = region
        self.account_id = ACCOUNT_ID
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.extensions: list[Extension] = []
        self.requests = 0  # API requests answered so far (not control ones)
        self._shutdown_hook = on_shutdown
        for name in extension_modules:
            module = importlib.import_module(name)
            self.extensions.append(module.extension(self))
        # persistent: state loaded at install, saved periodically and at stop (localcloud/state/)
        self.state = None
        if persistent:
            from .state import StateKeeper

            self.state = StateKeeper(self)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def scaled(self, seconds: float) -> float:
        """A managed service's wait (buffer interval, crawl pacing) on the local time scale."""
        return max(0.0, seconds * self.time_scale)

    def buffer_wait(self, seconds: float) -> float:
        """A Firehose buffer interval: on the time scale ("scaled": short latency, many small
        objects) or as configured ("aws": the object sizes AWS's buffering hints give)."""
        return seconds if self.buffering == "aws" else self.scaled(seconds)

    def extension(self, name: str) -> Extension:
        for ext in self.extensions:
            if ext.name == name:
                return ext
        raise KeyError(f"no local-cloud extension named {name!r}")

    def on_shutdown(self, hook: Callable[[], None]) -> None:
        """What a POST to /_workbench/shutdown runs (the server's own stop)."""
        self._shutdown_hook = hook

    def install(self, decoded: Any = None) -> None:
        """Apply every extension's seams, then load the state: `decoded` (a snapshot read by
        state.decode, for a load in place) or else the state dir's current state, if any."""
        from . import model_tracking

        model_tracking.install()  # first: what is deleted is freed (moto kept every model it made)
        for ext in self.extensions:
            ext.install()
        if self.state is not None:
            self.state.install(decoded)

    def start(self) -> None:
        for ext in self.extensions:
            ext.start()
        if self.state is not None:
            self.state.start()
        # moto imports a service's models on first use (seconds for all of them): do it now, in
        # the background, so the first `local status` answers quickly.
        threading.Thread(target=holdings, name="warm-up", daemon=True).start()

    def stop(self) -> None:
        if self.state is not None:
            try:
                self.state.stop()  # flush, then the final save
            except Exception:
                log.exception("the final state save failed")
        for ext in reversed(self.extensions):
            try:
                ext.stop()
            except Exception:  # keep stopping the others
                log.exception("stopping %s failed", ext.name)

    def halt(self) -> None:
        """Stop everything running without delivering or saving (its state is being replaced:
        a snapshot load in place, state/inplace.py)."""
        if self.state is not None:
            self.state.stop_saving()
        for ext in reversed(self.extensions):
            try:
                ext.stop()
            except Exception:  # keep stopping the others
                log.exception("stopping %s failed", ext.name)

    def adopt_settings(self, previous: "LocalCloud") -> None:
        """Take over what the user set on the running cloud it replaces (not state: the fault
        injection in force, the process's start time and request count)."""
        self.started_at = previous.started_at
        self.requests = previous.requests
        self._shutdown_hook = previous._shutdown_hook
        try:
            self.extension("faults").faults = previous.extension("faults").faults
        except KeyError:
            pass

    def flush(self, timeout: float = 300.0) -> dict[str, Any]:
        """Deliver everything accepted so far. Order matters: DynamoDB→Kinesis before Firehose."""
        deadline = time.monotonic() + timeout
        report: dict[str, Any] = {}
        for ext in self.extensions:
            remaining = max(0.0, deadline - time.monotonic())
            report[ext.name] = ext.flush(remaining)
        return report

    def status(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "endpoint": self.endpoint,
            "started_at": self.started_at,
            "time_scale": self.time_scale,
            "buffering": self.buffering,
            "holds": holdings(),
            "extensions": {ext.name: ext.status() for ext in self.extensions},
            "state": self.state.status() if self.state is not None else None,
        }

    # -- WSGI -----------------------------------------------------------------------------------
    def wsgi(self, moto_app: Callable) -> Callable:
        """moto's app behind a small control surface under /_workbench/ (and the layers the
        extensions put in front of it: IAM's request check)."""
        for ext in reversed(self.extensions):
            moto_app = ext.wrap(moto_app)

        def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if not path.startswith(CONTROL_PREFIX):
                self.requests += 1  # what periodic state saves look at (state/keeper.py)
                return moto_app(environ, start_response)
            return self._control(path[len(CONTROL_PREFIX):], environ, start_response)

        return app

    def _control(self, action: str, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if action == "health":
                body: Any = {"ok": True, "pid": os.getpid(), "started_at": self.started_at}
            elif action == "status":
                body = self.status()
            elif action == "flush" and method == "POST":
                length = int(environ.get("CONTENT_LENGTH") or 0)
                args = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
                body = self.flush(float(args.get("timeout", 300)))
            elif action == "faults":  # fault injection: GET shows, POST {"set": {...}} changes, DELETE clears
                length = int(environ.get("CONTENT_LENGTH") or 0)
                args = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
                body = self.extension("faults").control(method, args)
            elif action.startswith("state/") and self.state is not None:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                args = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
                body = self.state.control(action[len("state/"):], method, args)
            elif action == "shutdown" and method == "POST":
                if self._shutdown_hook:
                    threading.Thread(target=self._shutdown_hook, daemon=True).start()
                body = {"ok": True}
            else:
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [json.dumps({"error": f"unknown control action {action!r}"}).encode()]
        except ValueError as exc:  # a bad argument (e.g. a fault rate): the caller's to fix
            start_response("400 Bad Request", [("Content-Type", "application/json")])
            return [json.dumps({"error": str(exc)}).encode()]
        except Exception as exc:  # the control API reports, it does not crash the server
            log.exception("control %s failed", action)
            start_response("500 Internal Server Error", [("Content-Type", "application/json")])
            return [json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()]
        payload = json.dumps(body, default=str).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]


def holdings() -> dict[str, int]:
    """A count of what the cloud holds, per service, for `local status`."""
    from .moto_backends import holdings as counted

    return counted()
