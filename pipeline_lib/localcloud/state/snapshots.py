"""Named snapshots of a state dir (files under `snapshots/`): listing, and putting one in place
of the current state while the cloud is down."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from . import fileformat
from .keeper import current_path, snapshot_path

__all__ = ["list_snapshots", "check_snapshot", "install_snapshot"]


def list_snapshots(state_dir: str | os.PathLike) -> list[dict[str, Any]]:
    folder = Path(state_dir) / "snapshots"
    out = []
    for path in sorted(folder.glob("*.state")):
        entry: dict[str, Any] = {"name": path.stem, "bytes": path.stat().st_size}
        try:
            with open(path, "rb") as handle:
                if handle.read(len(fileformat.MAGIC)) == fileformat.MAGIC:
                    header = json.loads(handle.readline())
                    entry.update(saved_at=header.get("saved_at"), format=header.get("format"))
        except (OSError, ValueError):
            pass
        out.append(entry)
    return out


def check_snapshot(state_dir: str | os.PathLike, name: str) -> Path:
    """The path of snapshot `name`, read whole and checked (FileNotFoundError, StateFileError)."""
    source = snapshot_path(state_dir, name)
    if not source.exists():
        known = ", ".join(s["name"] for s in list_snapshots(state_dir)) or "none"
        raise FileNotFoundError(f"no snapshot named {name!r} in {state_dir} (snapshots: {known}); "
                                "save one with `python -m pipeline_lib local snapshot save NAME`")
    fileformat.read(source)
    return source


def install_snapshot(state_dir: str | os.PathLike, name: str, checked: bool = False) -> Path:
    """Make snapshot `name` the state the next `up` loads (checked first unless `checked`;
    atomically). The current state becomes a second link to the snapshot's file: every save
    writes a new file and renames it into place, so neither name ever changes the other's
    content (a copy where links are not possible)."""
    source = snapshot_path(state_dir, name) if checked else check_snapshot(state_dir, name)
    target = current_path(state_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.unlink(missing_ok=True)
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
    os.replace(tmp, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return target
