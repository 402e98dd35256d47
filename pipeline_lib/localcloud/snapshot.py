"""Named snapshots of the local cloud's state (client side of `python -m pipeline_lib local snapshot`).

save: the running cloud flushes (nothing in flight) and writes `snapshots/NAME.state` in its state
dir. load: the cloud stops, the snapshot becomes the state `up` loads, and it starts again on the
same port (the snapshot is checked first: a damaged or foreign one is refused, nothing changes).
list: the snapshots of a state dir.
"""
from __future__ import annotations

import json
from typing import Any

from . import lifecycle
from .state import list_snapshots, valid_name
from .state.fileformat import StateFileError
from .state.snapshots import check_snapshot, install_snapshot
from .statedir import StateDir

__all__ = ["save", "load", "snapshots"]


def save(name: str, state_dir: str | None = None, timeout: float = 300.0) -> dict[str, Any]:
    valid_name(name)
    running = lifecycle.find(state_dir)
    if running is None:
        raise lifecycle.LocalCloudError(
            f"no local cloud runs on {StateDir(state_dir).path}; start it with `python -m pipeline_lib local up`")
    body = json.dumps({"name": name, "timeout": timeout}).encode()
    return lifecycle._get_json(f"{running.endpoint}/_workbench/state/save", timeout=timeout + 60, data=body)


def load(name: str, state_dir: str | None = None) -> lifecycle.Running:
    """Return the cloud to snapshot `name`; it is running afterwards (on its previous port if it
    ran)."""
    state = StateDir(state_dir)
    valid_name(name)
    running = lifecycle.find(state_dir)
    port = running.record.port if running and running.record else None
    try:
        check_snapshot(state.path, name)  # before stopping anything
        if running is not None:
            lifecycle.down(state_dir)
        install_snapshot(state.path, name)
    except (FileNotFoundError, StateFileError) as exc:
        raise lifecycle.LocalCloudError(str(exc)) from None
    return lifecycle.up(port=port, state_dir=state_dir)


def snapshots(state_dir: str | None = None) -> list[dict[str, Any]]:
    return list_snapshots(StateDir(state_dir).path)
