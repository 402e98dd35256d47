"""Keeps a cloud's state in its state dir: loaded at install, saved periodically and at stop,
and snapshots on demand.

Files (under the state dir): `state/current.state` (what `up` loads) and `snapshots/NAME.state`.

What a save holds: every moto backend in use plus each extension's own state
(`Extension.save_state`). The parts are written upstream first (DynamoDB, its change queue,
Kinesis, Firehose's checkpoints and buffers, then S3 and the rest), each captured just before it
is written and while requests keep running. A change therefore is never in an earlier part's
capture but missing from every later one: a save taken mid-flight may hold a record twice (a
change both queued and in Kinesis, a Firehose buffer both kept and already in S3: duplicates,
as AWS's at-least-once delivery allows), never lose one. At stop the cloud is flushed first, so
the final save holds nothing in flight and `up` resumes exactly.

Crash window: a `kill -9` loses at most what happened since the last periodic save, i.e. the
interval (PIPELINE_STATE_INTERVAL seconds, default 5; 0 turns periodic saves off) plus the
time one save takes. A save holds the interpreter lock for most of its time and grows with the
state (seconds at a million items), so the next periodic save waits at least PACE times as long
as the last one took: saving never takes more than a tenth of the cloud's time, and the window
is the longer of the interval and PACE times the last save (`local status` shows both). A periodic save is skipped when the cloud has answered no API request since
the previous one and SETTLE_SECONDS have passed since the last request (background work started
by requests, such as Firehose buffers and crawls, ends well within that at the default time scale).
"""
from __future__ import annotations

import gc
import io
import logging
import os
import pickle
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import fileformat, moto_state
from .pickling import PROTOCOL, _StatePickler

if TYPE_CHECKING:
    from ..cloud import LocalCloud

__all__ = ["StateKeeper", "Decoded", "decode", "DEFAULT_INTERVAL", "interval_setting", "snapshot_path", "valid_name"]

log = logging.getLogger("pipeline_lib.localcloud.state")

DEFAULT_INTERVAL = 5.0
SETTLE_SECONDS = 120.0
# Periodic saves wait at least PACE times the last save's duration (see "Crash window" above).
PACE = 9.0
# moto services whose backends are written before the extensions downstream of them (see above).
_UPSTREAM = ("dynamodb",)
_MIDSTREAM = ("kinesis",)
_DOWNSTREAM = ("firehose", "s3")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def interval_setting() -> float:
    raw = os.environ.get("PIPELINE_STATE_INTERVAL", str(DEFAULT_INTERVAL))
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"PIPELINE_STATE_INTERVAL={raw!r} is not a number of seconds (0 turns periodic saves off)") from None
    if value < 0:
        raise ValueError(f"PIPELINE_STATE_INTERVAL={raw!r} must be 0 (off) or a positive number of seconds")
    return value


def valid_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise ValueError(f"snapshot name {name!r}: use letters, digits, '.', '_' and '-' (at most 100, not starting with '.')")
    return name


def current_path(state_dir: str | os.PathLike) -> Path:
    return Path(state_dir) / "state" / "current.state"


def snapshot_path(state_dir: str | os.PathLike, name: str) -> Path:
    return Path(state_dir) / "snapshots" / f"{valid_name(name)}.state"


class StateKeeper:
    def __init__(self, cloud: "LocalCloud", interval: float | None = None):
        self.cloud = cloud
        self.interval = interval_setting() if interval is None else interval
        self.path = current_path(cloud.state_dir)
        self._save_lock = threading.Lock()  # one save at a time (periodic, snapshot, final)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.loaded_from: str | None = None
        self.last_save: dict[str, Any] = {}
        self.failures = 0

    def install(self, decoded: "Decoded | None" = None) -> None:
        """Check what is touched of moto, then load `decoded` or else the saved state (if any)."""
        from ..seam import SeamSet

        seams = SeamSet("state")
        moto_state.declare(seams)
        seams.apply()
        if decoded is not None:
            self.apply(decoded)
        else:
            self.load()

    # -- control API (/_workbench/state/...) ------------------------------------------------------
    def control(self, action: str, method: str, args: dict[str, Any]) -> Any:
        if action == "save" and method == "POST":
            name = args.get("name")
            target = snapshot_path(self.cloud.state_dir, name) if name else self.path
            if args.get("flush", True):
                self.cloud.flush(float(args.get("timeout", 120)))
            return self.save(target)
        if action == "status":
            return self.status()
        raise KeyError(f"unknown state action {action!r} (save, status)")

    # -- parts, in write order --------------------------------------------------------------------
    def _parts(self) -> list[tuple[str, str, Callable[[], Any]]]:
        by_service: dict[str, dict] = {}

        def moto_part(services: tuple[str, ...] | None) -> Callable[[], Any]:
            def capture() -> Any:
                everything = moto_state.capture()
                taken = set().union(*by_service.values()) if by_service else set()
                part = {loc: accounts for loc, accounts in everything.items()
                        if loc not in taken and (services is None or _service_of(accounts) in services)}
                by_service[str(services)] = part
                return part
            return capture

        def ext_part(ext) -> Callable[[], Any]:
            return ext.save_state

        parts: list[tuple[str, str, Callable[[], Any]]] = [("moto", "upstream", moto_part(_UPSTREAM))]
        later = []
        for ext in self.cloud.extensions:
            if ext.name in ("dynamodb_kinesis",):
                parts.append(("extension", ext.name, ext_part(ext)))
            else:
                later.append(ext)
        parts.append(("moto", "midstream", moto_part(_MIDSTREAM)))
        for ext in later:
            parts.append(("extension", ext.name, ext_part(ext)))
        parts.append(("moto", "downstream", moto_part(_DOWNSTREAM)))
        parts.append(("moto", "rest", moto_part(None)))
        return parts

    # -- save -------------------------------------------------------------------------------------
    def save(self, path: Path | None = None, attempts: int = 5) -> dict[str, Any]:
        """Write the cloud's state to `path` (default: the current state file) atomically."""
        path = path or self.path
        with self._save_lock:
            started = time.perf_counter()
            started_at = time.time()
            for attempt in range(1, attempts + 1):
                try:
                    header = fileformat.write_streamed(path, self._dump)
                    break
                except RuntimeError as exc:  # a dict changed size under a concurrent request: retry
                    if "changed size" not in str(exc) or attempt == attempts:
                        raise
                except (pickle.PicklingError, TypeError, AttributeError) as exc:
                    from .pickling import find_unpicklable

                    where = find_unpicklable([take() for _k, _n, take in self._parts()])
                    raise RuntimeError(f"the state cannot be saved: {exc}; unpicklable: {where}") from exc
            self.last_save = {"path": str(path), "bytes": header.length, "started_at": started_at,
                              "saved_at": header.saved_at,
                              "seconds": round(time.perf_counter() - started, 3)}
            log.info("state saved to %s (%d bytes, %.2fs)", path, header.length, self.last_save["seconds"])
            return dict(self.last_save)

    def _dump(self, out: Any) -> None:
        """The parts, pickled straight into `out` (the state file being written): the payload is
        never held in memory whole (it would add about 1 KB per stored item to the save's peak)."""
        pickler = _StatePickler(out, protocol=PROTOCOL)
        parts = self._parts()
        pickler.dump([(kind, name) for kind, name, _ in parts])
        for _kind, _name, take in parts:
            pickler.dump(take())  # one pickler: objects shared between parts are written once

    # -- load -------------------------------------------------------------------------------------
    def load(self, path: Path | None = None) -> bool:
        """Load the state file, if there is one, into the (installed, not yet started) cloud.
        Raises StateFileError (nothing loaded) if it cannot be."""
        path = path or self.path
        if not path.exists():
            return False
        self.apply(decode(path))
        return True

    def apply(self, decoded: "Decoded") -> None:
        """Put a decoded state into the (installed, not yet started) cloud."""
        started = time.perf_counter()
        for (kind, _name), value in zip(decoded.names, decoded.values):
            if kind == "moto":
                moto_state.restore(value)
        for (kind, name), value in zip(decoded.names, decoded.values):
            if kind == "extension" and value is not None:
                try:
                    ext = self.cloud.extension(name)
                except KeyError:
                    log.warning("state of extension %s ignored: this cloud has no such extension", name)
                    continue
                ext.load_state(value)
        self.loaded_from = str(decoded.path)
        log.info("state loaded from %s (saved %s, %.2fs)", decoded.path,
                 time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(decoded.header.saved_at)),
                 time.perf_counter() - started)

    # -- periodic saves ---------------------------------------------------------------------------
    def start(self) -> None:
        if self.interval > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="state-saver", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        saved_requests = -1
        last_request = time.monotonic()
        while not self._stop.wait(self.next_wait()):
            seen = self.cloud.requests
            now = time.monotonic()
            if seen != saved_requests:
                last_request = now
            elif now - last_request > SETTLE_SECONDS:
                continue  # idle: the last save holds everything
            try:
                self.save()
                saved_requests = seen
            except Exception:  # keep the last good file; try again next interval
                self.failures += 1
                log.exception("periodic state save failed (the previous save is kept)")

    def next_wait(self) -> float:
        """Seconds until the next periodic save: the interval, or PACE times the last save's
        duration when that is longer."""
        return max(self.interval, PACE * float(self.last_save.get("seconds", 0.0)))

    def stop_saving(self) -> None:
        """End periodic saves (after the one under way, if any)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def stop(self, flush_timeout: float = 120.0) -> None:
        """Deliver what is in flight, then save: `up` continues exactly where this stopped."""
        self.stop_saving()
        try:
            self.cloud.flush(flush_timeout)
        except Exception:
            log.exception("flush before the final save failed; saving what is there")
        self.save()

    def status(self) -> dict[str, Any]:
        return {"file": str(self.path), "interval_seconds": self.interval,
                "next_save_within_seconds": round(self.next_wait(), 1), "loaded_from": self.loaded_from,
                "last_save": self.last_save, "failed_saves": self.failures}


def _service_of(accounts: dict[str, dict[str, Any]]) -> str | None:
    for regions in accounts.values():
        for found in regions.values():
            module = type(found).__module__  # moto.<service>.models
            return module.split(".")[1] if module.startswith("moto.") else None
    return None


@dataclass(frozen=True)
class Decoded:
    """A state file read, checked and unpickled: nothing of it is applied yet."""
    path: Path
    header: fileformat.Header
    names: list[tuple[str, str]]
    values: list[Any]


def decode(path: Path) -> Decoded:
    """Read, check and unpickle a state file whole (StateFileError if any of it cannot be), so
    that nothing live is touched before the whole of it is known to load."""
    header, payload = fileformat.read(path)
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects, none garbage: collections during the load only cost time
    try:
        unpickler = pickle.Unpickler(io.BytesIO(payload))
        names = unpickler.load()
        values = [unpickler.load() for _ in names]
    except Exception as exc:
        raise fileformat.StateFileError(
            f"{path} cannot be decoded ({type(exc).__name__}: {exc}); move it aside (or delete it) to "
            "start with an empty cloud") from None
    finally:
        if collecting:
            gc.enable()
    return Decoded(path, header, names, values)
