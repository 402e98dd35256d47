"""The data set the stack deploys: sized by CDK context, generated once into a git-ignored folder.

Context keys (all optional): `items` (10000), `seed` (42), `updates` (500), `deletes` (100);
`dataset_dir` names a folder holding your own items.jsonl and changes.jsonl instead.
The same values (and the same generator code) always give byte-identical files, so the asset
hash, and with it the deployment, only changes when they do.
"""
from __future__ import annotations

import functools
import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pipeline_lib import data
from pipeline_lib.data import _generate

ITEMS_FILE = "items.jsonl"
CHANGES_FILE = "changes.jsonl"
DEFAULTS = {"items": 10_000, "seed": 42, "updates": 500, "deletes": 100}


@dataclass(frozen=True)
class DatasetParams:
    items: int
    seed: int
    updates: int
    deletes: int

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> DatasetParams:
        """Read the values with `get(key)` (e.g. `node.try_get_context`); CLI context arrives as strings."""
        values = {key: _int(key, get(key), default) for key, default in DEFAULTS.items()}
        if values["items"] < 1:
            raise ValueError(f"context items={values['items']}: the data set needs at least 1 item")
        return cls(**values)

    @property
    def stem(self) -> str:
        return f"seed{self.seed}-items{self.items}-updates{self.updates}-deletes{self.deletes}"

    @property
    def folder_name(self) -> str:
        # The generator's source is part of the key: a changed generator must not reuse old files.
        return f"{self.stem}-gen{generator_fingerprint()}"


@functools.cache
def generator_fingerprint() -> str:
    """Short hash of the generator's module, the code that decides the bytes of the files."""
    return hashlib.sha256(Path(_generate.__file__).read_bytes()).hexdigest()[:12]


def _int(key: str, value: Any, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"context {key}={value!r} is not a whole number; pass e.g. --context {key}={default}") from None
    if isinstance(value, bool) or number < 0 or (isinstance(value, float) and value != number):
        raise ValueError(f"context {key}={value!r} must be a whole number >= 0, e.g. {default}")
    return number


def dataset_from_context(value: Any) -> Path | None:
    """The folder named by the `dataset_dir` context (your own data set), None when not given."""
    if value in (None, ""):
        return None
    folder = Path(str(value)).expanduser().resolve()
    missing = [name for name in (ITEMS_FILE, CHANGES_FILE) if not (folder / name).is_file()]
    if missing:
        raise ValueError(f"context dataset_dir={value}: {folder} has no {', '.join(missing)}; "
                         "make it with pipeline_lib.data.write_data_set")
    return folder


def ensure_dataset(build_root: Path, params: DatasetParams) -> Path:
    """The folder holding items.jsonl and changes.jsonl for `params`; generated if missing.

    Generated into a temporary sibling and renamed into place, so concurrent or interrupted synths
    never see a half-written folder.
    """
    target = build_root / params.folder_name
    if (target / ITEMS_FILE).is_file() and (target / CHANGES_FILE).is_file():
        return target
    build_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{params.folder_name}.", dir=build_root))
    try:
        data.generate_files(
            params.items,
            params.seed,
            staging / ITEMS_FILE,
            changes_out=staging / CHANGES_FILE,
            updates=params.updates,
            deletes=params.deletes,
            progress=False,
        )
        try:
            staging.rename(target)
        except OSError:
            if not (target / ITEMS_FILE).is_file():  # not another synth winning the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Files of the same values made by an older generator are stale now.
    for old in build_root.glob(f"{params.stem}-gen*"):
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return target
