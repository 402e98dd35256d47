"""Named snapshots of the local cloud's state (client side of `python -m pipeline_lib local snapshot`).

save: the running cloud flushes (nothing in flight) and writes `snapshots/NAME.state` in its state
dir. load: the running cloud loads the snapshot in place, in its own process (state/inplace.py);
the snapshot is checked first: a damaged or foreign one is refused, nothing changes. A cloud that
is not running starts from it.
list: the snapshots of a state dir.
"""
from __future__ import annotations

import json
import urllib.error
from typing import Any

from . import lifecycle
from .state import list_snapshots, valid_name
from .state.fileformat import StateFileError
from .state.snapshots import install_snapshot
from .statedir import StateDir

__all__ = ["save", "load", "snapshots"]


def save(name: str, state_dir: str | None = None, timeout: float = 300.0, flush: bool = True) -> dict[str, Any]:
    """Save the running cloud's state as snapshot `name`; with `flush` (the default) after
    delivering what is in flight, else as it is now (work still running is resumed at load)."""
    valid_name(name)
    running = lifecycle.find(state_dir)
    if running is None:
        raise lifecycle.LocalCloudError(
            f"no local cloud runs on {StateDir(state_dir).path}; start it with `python -m pipeline_lib local up`")
    body = json.dumps({"name": name, "timeout": timeout, "flush": flush}).encode()
    return lifecycle._get_json(f"{running.endpoint}/_workbench/state/save", timeout=timeout + 60, data=body)


def load(name: str, state_dir: str | None = None, timeout: float = 300.0) -> lifecycle.Running:
    """Return the cloud to snapshot `name`. A running cloud loads it in place (same process and
    port; requests sent meanwhile wait and then see the snapshot's state); otherwise the snapshot
    becomes the state `up` loads and the cloud starts. Either way it runs afterwards."""
    state = StateDir(state_dir)
    valid_name(name)
    running = lifecycle.find(state_dir)
    if running is not None:
        body = json.dumps({"name": name}).encode()
        try:
            lifecycle._get_json(f"{running.endpoint}/_workbench/state/load", timeout=timeout, data=body)
        except urllib.error.HTTPError as exc:
            raise lifecycle.LocalCloudError(_error_of(exc)) from None
        return running
    try:
        install_snapshot(state.path, name)  # checked first: a damaged or foreign one replaces nothing
    except (FileNotFoundError, StateFileError) as exc:
        raise lifecycle.LocalCloudError(str(exc)) from None
    return lifecycle.up(state_dir=state_dir)


def _error_of(exc: "urllib.error.HTTPError") -> str:
    try:
        return json.loads(exc.read())["error"]
    except (ValueError, KeyError, TypeError):
        return f"the local cloud answered {exc.code} {exc.reason}"


def snapshots(state_dir: str | None = None) -> list[dict[str, Any]]:
    return list_snapshots(StateDir(state_dir).path)
