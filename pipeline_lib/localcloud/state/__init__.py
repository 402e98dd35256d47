"""Durable local state: the cloud's moto backends and extensions' own state saved to its state
dir (periodically, atomically, and at stop) and loaded at start; named snapshots. See keeper.py."""
from .fileformat import FORMAT_VERSION, StateFileError
from .keeper import DEFAULT_INTERVAL, StateKeeper, interval_setting, snapshot_path, valid_name
from .snapshots import list_snapshots

__all__ = ["FORMAT_VERSION", "StateFileError", "DEFAULT_INTERVAL", "StateKeeper", "interval_setting",
           "snapshot_path", "valid_name", "list_snapshots"]
