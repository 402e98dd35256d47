"""Seed the table from notebooks and scripts: the Lambda's own engine plus a progress bar.

Both functions run `pipeline_lib.lambdas.seeder.seed_requests`, the code the seeder Lambda runs,
so what a notebook measures is what the deployed function does.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import boto3
from tqdm.auto import tqdm

from ..backend import session as default_session
from ..lambdas.seeder import (
    DataSetError,
    SeedResult,
    SeedingError,
    read_requests,
    seed_objects,
    seed_requests,
    seeding_client,
)

__all__ = ["DataSetError", "SeedResult", "SeedingError", "seed_file", "seed_s3"]


@contextmanager
def _progress(enabled: bool, total: int | None, description: str) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    bar = tqdm(total=total, desc=description, unit="item", unit_scale=True)
    try:
        yield bar.update
    finally:
        bar.close()


def _count_requests(path: Path) -> int:
    # A second, cheap pass over a local file buys the progress bar a total and an ETA.
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def seed_file(
    path_or_lines: str | os.PathLike[str] | Iterable[str | bytes],
    table_name: str,
    progress: bool = True,
    *,
    concurrency: int = 8,
    max_attempts: int = 8,
    boto3_session: boto3.Session | None = None,
) -> SeedResult:
    """Seed `table_name` from a JSON-lines data set (a path, or the lines themselves).

    Without `boto3_session`, the configured backend's (`pipeline_lib.backend.session()`).
    Raises DataSetError for a bad line (naming it) and SeedingError if items stay unwritten.
    """
    client = seeding_client(boto3_session or default_session(), concurrency)
    options = {"concurrency": concurrency, "max_attempts": max_attempts}
    if isinstance(path_or_lines, (str, os.PathLike)):
        path = Path(path_or_lines)
        total = _count_requests(path) if progress else None
        with path.open("rb") as handle, _progress(progress, total, f"{path.name} -> {table_name}") as update:
            return seed_requests(client, table_name, read_requests(handle, source=str(path)),
                                 on_progress=update, **options)
    lines = path_or_lines
    total = len(lines) if isinstance(lines, Sequence) else None
    with _progress(progress, total, f"seeding {table_name}") as update:
        return seed_requests(client, table_name, read_requests(lines), on_progress=update, **options)


def seed_s3(
    bucket: str,
    keys: Sequence[str],
    table_name: str,
    progress: bool = True,
    *,
    concurrency: int = 8,
    max_attempts: int = 8,
    boto3_session: boto3.Session | None = None,
) -> SeedResult:
    """Seed `table_name` from data sets in S3, one object after the other (streamed)."""
    if isinstance(keys, str):
        keys = [keys]
    session = boto3_session or default_session()
    s3 = session.client("s3")
    client = seeding_client(session, concurrency)
    total = SeedResult()
    for key in keys:  # one progress bar per object
        with _progress(progress, None, f"{key} -> {table_name}") as update:
            total = total + seed_objects(s3, client, bucket, [key], table_name, on_progress=update,
                                         concurrency=concurrency, max_attempts=max_attempts)
    return total
