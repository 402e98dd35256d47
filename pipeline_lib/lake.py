"""What landed in the lake: Parquet rows per partition, error records per kind, and the
reconciliation of both against the changes written to DynamoDB.

Filters let a caller count only its own changes in a lake that others write to as well:
`rows_where` picks rows of each Parquet object (an Arrow mask), `errors_where` picks error records
(e.g. by the DynamoDB keys in their decoded `rawData`, see `raw_change`).
"""
from __future__ import annotations

import base64
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pyarrow as pa
import pyarrow.parquet as pq

PARTITION = re.compile(r"year=(\d{4})/month=(\d{2})/day=(\d{2})/")
# Firehose's error output types (the local cloud's `partitioning-failed` included).
ERROR_OUTPUT_TYPES = frozenset({
    "processing-failed", "format-conversion-failed", "metadata-extraction-failed", "partitioning-failed",
})
KEY_VALUE_FOLDER = re.compile(r"([^/=]+)=([^/]*)/")

RowFilter = Callable[[pa.Table], Any]  # an Arrow table -> a boolean mask of its rows
ErrorFilter = Callable[[dict[str, Any]], bool]


def _session(boto3_session: boto3.Session | None) -> boto3.Session:
    return boto3_session or boto3.Session()


def list_objects(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    """ListObjectsV2 entries under `prefix`, every page."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def _bodies(s3: Any, bucket: str, prefix: str) -> Iterator[tuple[str, bytes]]:
    """(key, content) of every object under `prefix`."""
    for obj in list_objects(s3, bucket, prefix):
        yield obj["Key"], s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()


def day_of(key: str) -> str:
    """`yyyy-mm-dd` of a key under year=/month=/day= folders, else "(unpartitioned)"."""
    match = PARTITION.search(key)
    return "-".join(match.groups()) if match else "(unpartitioned)"


@dataclass(frozen=True)
class LakeObject:
    """One Parquet object: its key, the key=value folders above it, and its rows."""

    key: str
    partition: dict[str, str]
    table: pa.Table


def parquet_objects(
    bucket: str,
    prefix: str = "data/",
    boto3_session: boto3.Session | None = None,
    columns: list[str] | None = None,
) -> Iterator[LakeObject]:
    """Every object under `prefix`, read as Parquet (only `columns`, if given)."""
    for key, body in _bodies(_session(boto3_session).client("s3"), bucket, prefix):
        folders = key[len(prefix):] if key.startswith(prefix) else key
        partition = dict(KEY_VALUE_FOLDER.findall(folders))
        yield LakeObject(key, partition, pq.read_table(io.BytesIO(body), columns=columns))


def parquet_rows(
    bucket: str,
    prefix: str = "data/",
    boto3_session: boto3.Session | None = None,
    rows_where: RowFilter | None = None,
) -> Counter:
    """Rows per `yyyy-mm-dd` partition; with `rows_where`, only the rows it selects."""
    rows: Counter = Counter()
    if rows_where is None:  # the footer is enough
        for key, body in _bodies(_session(boto3_session).client("s3"), bucket, prefix):
            rows[day_of(key)] += pq.ParquetFile(io.BytesIO(body)).metadata.num_rows
        return rows
    for lake_object in parquet_objects(bucket, prefix, boto3_session):
        selected = lake_object.table.filter(rows_where(lake_object.table)).num_rows
        if selected:
            rows[day_of(lake_object.key)] += selected
    return rows


def error_records(
    bucket: str,
    prefix: str = "errors/",
    boto3_session: boto3.Session | None = None,
    errors_where: ErrorFilter | None = None,
) -> list[dict]:
    """Every error record Firehose wrote (that `errors_where` keeps), with the error output type
    (`kind`) and the object `key` it came from."""
    out: list[dict] = []
    for key, body in _bodies(_session(boto3_session).client("s3"), bucket, prefix):
        kind = _error_kind(key, prefix)
        for line in body.decode().splitlines():
            if line.strip():
                record = {"kind": kind, "key": key, **json.loads(line)}
                if errors_where is None or errors_where(record):
                    out.append(record)
    return out


def _error_kind(key: str, prefix: str) -> str:
    """The error output type (the value of !{firehose:error-output-type}) named by a folder of the
    key below the error prefix, else "unknown"."""
    rest = key[len(prefix):] if key.startswith(prefix) else key
    for folder in rest.split("/")[:-1]:
        if folder in ERROR_OUTPUT_TYPES:
            return folder
    return "unknown"


def raw_change(error_record: dict[str, Any]) -> dict[str, Any] | None:
    """The record as it entered Firehose (its base64 `rawData`), parsed as JSON; None if it is not
    JSON (a DynamoDB change record is)."""
    try:
        return json.loads(base64.b64decode(error_record["rawData"]))
    except (KeyError, ValueError, TypeError):
        return None


@dataclass
class Reconciliation:
    changes_written: int
    rows_in_lake: int
    error_records: int
    rows_by_day: Counter = field(default_factory=Counter)
    errors_by_kind: Counter = field(default_factory=Counter)

    @property
    def balanced(self) -> bool:
        return self.rows_in_lake + self.error_records == self.changes_written

    def summary(self) -> str:
        verdict = "balanced" if self.balanced else f"MISSING {self.changes_written - self.rows_in_lake - self.error_records}"
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(self.errors_by_kind.items())) or "none"
        return (
            f"changes written {self.changes_written:,} = rows in lake {self.rows_in_lake:,} "
            f"({len(self.rows_by_day)} day partitions) + error records {self.error_records:,} ({kinds}) -> {verdict}"
        )


def reconcile(
    changes_written: int,
    lake_bucket: str,
    boto3_session: boto3.Session | None = None,
    data_prefix: str = "data/",
    error_prefix: str = "errors/",
    *,
    rows_where: RowFilter | None = None,
    errors_where: ErrorFilter | None = None,
) -> Reconciliation:
    """Rows plus error records (those the filters keep, or all) against `changes_written`."""
    rows = parquet_rows(lake_bucket, data_prefix, boto3_session, rows_where)
    errors = error_records(lake_bucket, error_prefix, boto3_session, errors_where)
    return Reconciliation(
        changes_written=changes_written,
        rows_in_lake=sum(rows.values()),
        error_records=len(errors),
        rows_by_day=rows,
        errors_by_kind=Counter(e["kind"] for e in errors),
    )
