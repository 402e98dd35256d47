"""What landed in the lake: its objects and partitions, the Parquet rows, the error records, the
reconciliation of both against the changes written to DynamoDB, and a wait until they landed.

Backend-neutral: every function that calls AWS goes through a boto3 session's clients (the
`boto3_session` given, else the configured backend's). Pure parts (keys, error kinds, summaries)
are separate from the reads.

Filters let a caller count only its own changes in a lake that others write to as well:
`rows_where` picks rows of each Parquet object (an Arrow mask), `errors_where` picks error records
(e.g. by the DynamoDB keys in their decoded `rawData`, see `raw_change`).
"""
from __future__ import annotations

import base64
import io
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .backend import session as default_session
from .stream import change_summary, decode_change, plain_image

__all__ = [
    "ERROR_OUTPUT_TYPES", "PARTITION", "REDRIVEN_PREFIX", "DeliveryTimeout", "ErrorFilter", "LakeCounter",
    "LakeObject", "Reconciliation", "RedriveError", "RedriveResult", "RowFilter", "day_of", "error_records",
    "error_summary", "lake_partitions", "parquet_objects", "parquet_rows", "partitions_frame", "raw_change",
    "reconcile", "redrive", "wait_for_lake", "wait_until",
]

PARTITION = re.compile(r"year=(\d{4})/month=(\d{2})/day=(\d{2})/")
# Firehose's error output types (the local cloud's `partitioning-failed` and `s3-delivery-failed` included).
ERROR_OUTPUT_TYPES = frozenset({
    "processing-failed", "format-conversion-failed", "metadata-extraction-failed", "partitioning-failed",
    "s3-delivery-failed",
})
_KEY_VALUE_FOLDER = re.compile(r"([^/=]+)=([^/]*)/")

RowFilter = Callable[[pa.Table], Any]  # an Arrow table -> a boolean mask of its rows
ErrorFilter = Callable[[dict[str, Any]], bool]


class DeliveryTimeout(TimeoutError):
    """Fewer records landed in the lake than expected before the timeout."""


# -- keys and records (pure) ----------------------------------------------------------------------
def day_of(key: str) -> str:
    """`yyyy-mm-dd` of a key under year=/month=/day= folders, else "(unpartitioned)"."""
    match = PARTITION.search(key)
    return "-".join(match.groups()) if match else "(unpartitioned)"


def _footer_rows(body: bytes) -> int:
    """Rows of a Parquet object, from its footer alone."""
    return pq.ParquetFile(io.BytesIO(body)).metadata.num_rows


def _error_lines(body: bytes) -> list[bytes]:
    """The records of an error object: one JSON object per non-blank line. The one way error
    records are split, whether they are counted or read."""
    return [line for line in body.splitlines() if line.strip()]


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


def error_summary(record: dict[str, Any]) -> dict[str, Any]:
    """One Firehose error record (as `error_records` returns it) with its raw data decoded.

    Format-conversion failures carry their reason as `lastErrorCode`/`lastErrorMessage`; the other
    kinds as `errorCode`/`errorMessage` (Firehose's two error-record shapes)."""
    row = {
        "kind": record.get("kind"),
        "error_code": record.get("errorCode", record.get("lastErrorCode")),
        "error_message": record.get("errorMessage", record.get("lastErrorMessage")),
    }
    try:
        change = decode_change(base64.b64decode(record.get("rawData", "")))
    except ValueError:
        return {**row, "event": None, "PK": None, "SK": None, "created_at": None}
    summary = change_summary(change)
    image = plain_image(change["dynamodb"].get("NewImage") or change["dynamodb"].get("OldImage"))
    return {**row, "event": summary["event"], "PK": summary["PK"], "SK": summary["SK"],
            "created_at": image.get("createdAt", "(missing)")}


@dataclass(frozen=True)
class LakeObject:
    """One Parquet object of the lake: its key, size and rows, and the rows themselves as a table
    when they were read (`parquet_objects`)."""

    key: str
    size: int
    rows: int
    table: pa.Table | None = field(default=None, compare=False, repr=False)

    @property
    def partition(self) -> dict[str, str]:
        """The key=value folders of the key (Hive-style partitions), {} when it has none."""
        return dict(_KEY_VALUE_FOLDER.findall(self.key))

    @property
    def day(self) -> str:
        """`yyyy-mm-dd` of the year=/month=/day= folders, else "(unpartitioned)"."""
        return day_of(self.key)


def partitions_frame(objects: list[LakeObject]) -> pd.DataFrame:
    """Objects, bytes and rows per year/month/day partition, oldest first."""
    rows = [(o.partition.get("year", "?"), o.partition.get("month", "?"), o.partition.get("day", "?"),
             o.size, o.rows) for o in objects]
    frame = pd.DataFrame(rows, columns=["year", "month", "day", "bytes", "rows"])
    grouped = frame.groupby(["year", "month", "day"], sort=True).agg(
        objects=("rows", "size"), bytes=("bytes", "sum"), rows=("rows", "sum")
    )
    return grouped.reset_index()


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


# -- reading S3 -----------------------------------------------------------------------------------
def _list_objects(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    """ListObjectsV2 entries under `prefix`, every page."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def _bodies(s3: Any, bucket: str, prefix: str) -> Iterator[tuple[str, bytes]]:
    """(key, content) of every object under `prefix`."""
    for obj in _list_objects(s3, bucket, prefix):
        yield obj["Key"], s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()


def parquet_objects(
    bucket: str,
    prefix: str = "data/",
    columns: list[str] | None = None,
    *,
    boto3_session: boto3.Session | None = None,
) -> Iterator[LakeObject]:
    """Every object under `prefix`, read as Parquet (only `columns`, if given) into `table`."""
    for key, body in _bodies((boto3_session or default_session()).client("s3"), bucket, prefix):
        table = pq.read_table(io.BytesIO(body), columns=columns)
        yield LakeObject(key, len(body), table.num_rows, table)


def parquet_rows(
    bucket: str,
    prefix: str = "data/",
    rows_where: RowFilter | None = None,
    *,
    boto3_session: boto3.Session | None = None,
) -> Counter:
    """Rows per `yyyy-mm-dd` partition; with `rows_where`, only the rows it selects."""
    rows: Counter = Counter()
    if rows_where is None:  # the footer is enough
        for key, body in _bodies((boto3_session or default_session()).client("s3"), bucket, prefix):
            rows[day_of(key)] += _footer_rows(body)
        return rows
    for lake_object in parquet_objects(bucket, prefix, boto3_session=boto3_session):
        selected = lake_object.table.filter(rows_where(lake_object.table)).num_rows
        if selected:
            rows[lake_object.day] += selected
    return rows


def error_records(
    bucket: str,
    prefix: str = "errors/",
    errors_where: ErrorFilter | None = None,
    *,
    boto3_session: boto3.Session | None = None,
) -> list[dict]:
    """Every error record Firehose wrote (that `errors_where` keeps), with the error output type
    (`kind`) and the object `key` it came from."""
    out: list[dict] = []
    for key, body in _bodies((boto3_session or default_session()).client("s3"), bucket, prefix):
        kind = _error_kind(key, prefix)
        for line in _error_lines(body):
            record = {"kind": kind, "key": key, **json.loads(line)}
            if errors_where is None or errors_where(record):
                out.append(record)
    return out


def reconcile(
    changes_written: int,
    lake_bucket: str,
    data_prefix: str = "data/",
    error_prefix: str = "errors/",
    *,
    rows_where: RowFilter | None = None,
    errors_where: ErrorFilter | None = None,
    boto3_session: boto3.Session | None = None,
) -> Reconciliation:
    """Rows plus error records (those the filters keep, or all) against `changes_written`."""
    rows = parquet_rows(lake_bucket, data_prefix, rows_where, boto3_session=boto3_session)
    errors = error_records(lake_bucket, error_prefix, errors_where, boto3_session=boto3_session)
    return Reconciliation(
        changes_written=changes_written,
        rows_in_lake=sum(rows.values()),
        error_records=len(errors),
        rows_by_day=rows,
        errors_by_kind=Counter(e["kind"] for e in errors),
    )


@dataclass
class LakeCounter:
    """Counts the lake's Parquet rows (from each object's footer) and error records, reading every
    object once: Firehose never rewrites an object, so counts are cached by key."""

    bucket: str
    data_prefix: str = "data/"
    error_prefix: str = "errors/"
    boto3_session: boto3.Session | None = field(default=None, kw_only=True)
    _rows: dict[str, LakeObject] = field(default_factory=dict, init=False, repr=False)
    _errors: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._s3 = (self.boto3_session or default_session()).client("s3")

    def data_objects(self) -> list[LakeObject]:
        for obj in _list_objects(self._s3, self.bucket, self.data_prefix):
            key = obj["Key"]
            if key not in self._rows:
                body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                self._rows[key] = LakeObject(key, obj["Size"], _footer_rows(body))
        return sorted(self._rows.values(), key=lambda o: o.key)

    def error_records(self) -> int:
        for obj in _list_objects(self._s3, self.bucket, self.error_prefix):
            if obj["Key"] not in self._errors:
                body = self._s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                self._errors[obj["Key"]] = len(_error_lines(body))
        return sum(self._errors.values())

    def landed(self) -> int:
        """Rows plus error records: every record Firehose delivered is one or the other."""
        return sum(o.rows for o in self.data_objects()) + self.error_records()


def lake_partitions(bucket: str, prefix: str = "data/", *,
                    boto3_session: boto3.Session | None = None) -> pd.DataFrame:
    """The lake's year/month/day partitions with their object, byte and row counts."""
    return partitions_frame(LakeCounter(bucket, data_prefix=prefix, boto3_session=boto3_session).data_objects())


def wait_until(count: Callable[[], int], expected: int, timeout: float, poll: float,
               on_count: Callable[[int], None] = lambda _n: None,
               clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> int:
    """Call `count` every `poll` seconds until it reaches `expected`; return the last count.
    Raises DeliveryTimeout when `timeout` seconds pass first."""
    if expected < 0:
        raise ValueError(f"expected={expected}: a record count cannot be negative")
    deadline = clock() + timeout
    while True:
        seen = count()
        on_count(seen)
        if seen >= expected:
            return seen
        if clock() >= deadline:
            raise DeliveryTimeout(f"{seen:,} of {expected:,} records landed after {timeout:.0f} s")
        sleep(poll)


def wait_for_lake(bucket: str, expected: int, data_prefix: str = "data/", error_prefix: str = "errors/",
                  timeout: float = 300.0, poll: float = 1.0, progress: bool = True, *,
                  boto3_session: boto3.Session | None = None) -> int:
    """Wait until `expected` records landed in the lake (Parquet rows + error records) by listing
    and reading S3, the same on every backend; return how many landed."""
    counter = LakeCounter(bucket, data_prefix, error_prefix, boto3_session=boto3_session)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=expected, desc="landed in the lake", unit="record")

    def show(n: int) -> None:
        if bar is not None:
            bar.update(n - bar.n)

    try:
        return wait_until(counter.landed, expected, timeout, poll, show)
    except DeliveryTimeout as exc:
        raise DeliveryTimeout(
            f"{exc} in s3://{bucket}/{data_prefix} and {error_prefix}. Firehose may still be buffering "
            "(its buffer interval) or failing: see its CloudWatch log group /aws/kinesisfirehose/<stream>, "
            "then wait again with a larger timeout"
        ) from None
    finally:
        if bar is not None:
            bar.close()


# -- redrive --------------------------------------------------------------------------------------
REDRIVEN_PREFIX = "redriven/"
# Kinesis PutRecords limits: 500 records and 5 MiB a call, 1 MiB a record (data + partition key).
_PUT_RECORDS_MAX = 500
_PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024
_RECORD_MAX_BYTES = 1024 * 1024


class RedriveError(RuntimeError):
    """Records could not be put back on the stream after the retries; their error objects stay
    under the error prefix (redrive again once the cause is gone)."""


@dataclass
class RedriveResult:
    """What `redrive` did: error objects moved, records put back on the stream, records kept."""

    objects: int = 0
    records: int = 0
    kept: int = 0  # records `fix` declined (left under the error prefix)
    put_calls: int = 0
    retried_records: int = 0
    by_kind: Counter = field(default_factory=Counter)
    moved: list[str] = field(default_factory=list)  # the redriven objects' new keys

    def summary(self) -> str:
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(self.by_kind.items())) or "none"
        return (f"redrove {self.records:,} record(s) from {self.objects:,} error object(s) ({kinds}) in "
                f"{self.put_calls} PutRecords call(s), {self.retried_records} retried; {self.kept} kept as errors")


def _partition_key(change: dict[str, Any] | None, data: bytes) -> str:
    """The DynamoDB keys of a change (so one item's changes stay on one shard, in order), else the data's hash."""
    import hashlib

    keys = ((change or {}).get("dynamodb") or {}).get("Keys")
    basis = json.dumps(keys, sort_keys=True).encode() if keys else data
    return hashlib.md5(basis).hexdigest()  # noqa: S324 (a shard key, not security)


def _batches(records: list[tuple[bytes, str]]) -> Iterator[list[tuple[bytes, str]]]:
    """Consecutive PutRecords batches within the call limits."""
    batch: list[tuple[bytes, str]] = []
    size = 0
    for data, key in records:
        record_size = len(data) + len(key.encode())
        if record_size > _RECORD_MAX_BYTES:
            raise RedriveError(f"a record of {record_size:,} bytes is over Kinesis's 1 MiB record limit")
        if batch and (len(batch) >= _PUT_RECORDS_MAX or size + record_size > _PUT_RECORDS_MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append((data, key))
        size += record_size
    if batch:
        yield batch


def _put_all(kinesis: Any, stream_name: str, records: list[tuple[bytes, str]], result: RedriveResult,
             max_attempts: int, sleep: Callable[[float], None]) -> None:
    """PutRecords every record, resending the entries a response marks failed (FailedRecordCount)
    with exponential back-off; RedriveError when some still fail after `max_attempts`."""
    for batch in _batches(records):
        pending = batch
        for attempt in range(1, max_attempts + 1):
            response = kinesis.put_records(
                StreamName=stream_name, Records=[{"Data": d, "PartitionKey": k} for d, k in pending]
            )
            result.put_calls += 1
            if not response.get("FailedRecordCount"):
                break
            failed = [rec for rec, entry in zip(pending, response["Records"]) if entry.get("ErrorCode")]
            first = next(e for e in response["Records"] if e.get("ErrorCode"))
            if attempt == max_attempts:
                raise RedriveError(
                    f"{len(failed)} record(s) still failed after {max_attempts} PutRecords attempts "
                    f"({first['ErrorCode']}: {first.get('ErrorMessage', '')}); their error objects were left in place"
                )
            result.retried_records += len(failed)
            pending = failed
            sleep(min(5.0, 0.1 * 2 ** (attempt - 1)))


def redrive(
    lake_bucket: str,
    source_stream: str,
    error_prefix: str = "errors/",
    *,
    kinds: "set[str] | frozenset[str] | None" = None,
    fix: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    redriven_prefix: str = REDRIVEN_PREFIX,
    max_attempts: int = 8,
    sleep: Callable[[float], None] = time.sleep,
    boto3_session: boto3.Session | None = None,
) -> RedriveResult:
    """Send the records Firehose wrote under `error_prefix` through the pipeline again, once the
    cause is fixed; move each redriven error object to `redriven_prefix` + its key.

    The records go back on the delivery stream's source, the Kinesis stream `source_stream`
    (PutRecords, at most 500 records / 5 MiB a call, failed entries resent with back-off): a
    delivery stream that reads a Kinesis stream refuses PutRecordBatch ("This operation is not
    permitted on KinesisStreamAsSource delivery stream type"), on AWS as locally, so this is the
    way back into Firehose, its Lambda and its conversion. Each record's `rawData` is the DynamoDB
    change as it entered Firehose: its eventID and time are unchanged, so a redriven change is the
    same change (the same cdc_event_id) in the lake.

    `kinds` limits the redrive to some error output types (default all); `fix(change)` may repair
    a change (a dict, the decoded rawData) and return it, or return None to leave that record
    where it is (its object is rewritten with the records left).

    The reconciliation after a redrive: a moved record is no longer an error record, and once it
    lands it is a row (or, if it fails again, a new error record), so
    `changes written = rows + error records` holds again when the lake has as many records as
    before the redrive (`wait_for_lake(..., expected=<rows + errors before>)`). An object is moved
    only after all its records were put; if the redrive stops half-way, what was put may land
    twice after a second redrive: the same cdc_event_id, which the current-state view absorbs
    (`query.current_state_sql`), while the row count then exceeds the changes by those duplicates.
    """
    session = boto3_session or default_session()
    s3 = session.client("s3")
    kinesis = session.client("kinesis")
    result = RedriveResult()
    for obj in list(_list_objects(s3, lake_bucket, error_prefix)):
        key = obj["Key"]
        kind = _error_kind(key, error_prefix)
        if kinds is not None and kind not in kinds:
            continue
        body = s3.get_object(Bucket=lake_bucket, Key=key)["Body"].read()
        to_put: list[tuple[bytes, str]] = []
        kept: list[bytes] = []
        for line in _error_lines(body):
            record = json.loads(line)
            data = base64.b64decode(record["rawData"])
            change = raw_change(record)
            if fix is not None:
                if change is None:
                    kept.append(line)
                    continue
                change = fix(change)
                if change is None:
                    kept.append(line)
                    continue
                data = json.dumps(change, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            to_put.append((data, _partition_key(change, data)))
        if not to_put:
            continue
        _put_all(kinesis, source_stream, to_put, result, max_attempts, sleep)
        moved = redriven_prefix + key
        s3.put_object(Bucket=lake_bucket, Key=moved,
                      Body=b"\n".join(line for line in _error_lines(body) if line not in kept) + b"\n")
        if kept:
            s3.put_object(Bucket=lake_bucket, Key=key, Body=b"\n".join(kept) + b"\n")
        else:
            s3.delete_object(Bucket=lake_bucket, Key=key)
        result.objects += 1
        result.records += len(to_put)
        result.kept += len(kept)
        result.by_kind[kind] += len(to_put)
        result.moved.append(moved)
    return result
