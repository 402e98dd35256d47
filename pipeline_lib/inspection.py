"""Look inside the running pipeline from a notebook: the change records on the Kinesis stream, the
delivery stream's configuration, the lake's partitions, and a wait until what was written landed.

Backend-neutral: everything goes through the clients of a boto3 session. Pure functions (decoding,
summarizing, grouping) are separate from the few that call AWS.
"""
from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import boto3
import pandas as pd
import pyarrow.parquet as pq
from boto3.dynamodb.types import TypeDeserializer

from .lake import PARTITION, list_objects

_deserializer = TypeDeserializer()


class DeliveryTimeout(TimeoutError):
    """Fewer records landed in the lake than expected before the timeout."""


# -- change records (pure) ------------------------------------------------------------------------
def decode_change(data: bytes | str) -> dict[str, Any]:
    """One Kinesis record's Data (a DynamoDB change in JSON) as a dict."""
    try:
        change = json.loads(data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a DynamoDB change record (JSON expected): {exc}") from None
    if not isinstance(change, dict) or "dynamodb" not in change or "eventName" not in change:
        raise ValueError("not a DynamoDB change record: it needs 'eventName' and 'dynamodb' keys")
    return change


def plain_image(image: dict[str, Any] | None) -> dict[str, Any]:
    """A DynamoDB JSON image ({"name": {"S": "Ava"}}) as Python values (N becomes Decimal)."""
    return {name: _deserializer.deserialize(value) for name, value in (image or {}).items()}


def change_summary(change: dict[str, Any]) -> dict[str, Any]:
    """One row describing a change: the operation, the item's key, when, and which images it has."""
    ddb = change["dynamodb"]
    keys = plain_image(ddb.get("Keys"))
    created = ddb.get("ApproximateCreationDateTime")
    new_image = ddb.get("NewImage")
    image = plain_image(new_image or ddb.get("OldImage"))
    return {
        "event": change["eventName"],
        "PK": keys.get("PK"),
        "SK": keys.get("SK"),
        "approximate_time": (
            datetime.fromtimestamp(created / 1000, tz=timezone.utc) if created is not None else None
        ),
        "has_old_image": "OldImage" in ddb,
        "has_new_image": new_image is not None,
        "created_at": image.get("createdAt"),
        "size_bytes": ddb.get("SizeBytes"),
    }


def error_summary(record: dict[str, Any]) -> dict[str, Any]:
    """One Firehose error record (as `lake.error_records` returns it) with its raw data decoded."""
    row = {
        "kind": record.get("kind"),
        "error_code": record.get("errorCode"),
        "error_message": record.get("errorMessage"),
    }
    try:
        change = decode_change(base64.b64decode(record.get("rawData", "")))
    except ValueError:
        return {**row, "event": None, "PK": None, "SK": None, "created_at": None}
    summary = change_summary(change)
    image = plain_image(change["dynamodb"].get("NewImage") or change["dynamodb"].get("OldImage"))
    return {**row, "event": summary["event"], "PK": summary["PK"], "SK": summary["SK"],
            "created_at": image.get("createdAt", "(missing)")}


# -- the Kinesis stream ---------------------------------------------------------------------------
def read_stream(stream_name: str, boto3_session: boto3.Session | None = None, limit: int | None = None,
                batch: int = 1000) -> list[dict[str, Any]]:
    """Every record on the stream from TRIM_HORIZON (at most `limit`), shard by shard, each as
    {"shard", "sequence", "partition_key", "change"}. A shard is read up to its tip: until
    GetRecords returns nothing and MillisBehindLatest is 0 (or the shard is closed)."""
    kinesis = (boto3_session or boto3.Session()).client("kinesis")
    out: list[dict[str, Any]] = []
    for shard in _shards(kinesis, stream_name):
        iterator = kinesis.get_shard_iterator(
            StreamName=stream_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator and (limit is None or len(out) < limit):
            want = batch if limit is None else min(batch, limit - len(out))
            answer = kinesis.get_records(ShardIterator=iterator, Limit=want)
            for record in answer["Records"]:
                out.append({
                    "shard": shard["ShardId"],
                    "sequence": record["SequenceNumber"],
                    "partition_key": record["PartitionKey"],
                    "change": decode_change(record["Data"]),
                })
            if not answer["Records"] and answer.get("MillisBehindLatest", 0) == 0:
                break
            iterator = answer.get("NextShardIterator")
        if limit is not None and len(out) >= limit:
            break
    return out


def _shards(kinesis: Any, stream_name: str) -> Iterator[dict[str, Any]]:
    answer = kinesis.list_shards(StreamName=stream_name)
    yield from answer["Shards"]
    while answer.get("NextToken"):
        answer = kinesis.list_shards(NextToken=answer["NextToken"])
        yield from answer["Shards"]


# -- the delivery stream's configuration (pure) ---------------------------------------------------
def delivery_settings(description: dict[str, Any]) -> dict[str, Any]:
    """The settings that shape delivery, from DescribeDeliveryStream's DeliveryStreamDescription:
    source, bucket, prefixes, buffering, processors, dynamic partitioning, format conversion."""
    destinations = description.get("Destinations") or []
    s3 = next((d["ExtendedS3DestinationDescription"] for d in destinations
               if "ExtendedS3DestinationDescription" in d), None)
    if s3 is None:
        raise ValueError(f"delivery stream {description.get('DeliveryStreamName')!r} has no extended S3 destination")
    source = description.get("Source", {}).get("KinesisStreamSourceDescription", {})
    buffering = s3.get("BufferingHints", {})
    processing = s3.get("ProcessingConfiguration") or {}
    processors = [
        f"{p['Type']}: " + ", ".join(f"{x['ParameterName']}={_short_arn(x['ParameterValue'])}"
                                      for x in p.get("Parameters", []))
        for p in processing.get("Processors", [])
    ] if processing.get("Enabled") else []
    partitioning = s3.get("DynamicPartitioningConfiguration") or {}
    conversion = s3.get("DataFormatConversionConfiguration") or {}
    return {
        "source": _short_arn(source.get("KinesisStreamARN", description.get("DeliveryStreamType", ""))),
        "bucket": s3["BucketARN"].split(":::")[-1],
        "prefix": s3.get("Prefix", ""),
        "error prefix": s3.get("ErrorOutputPrefix", ""),
        "buffering": f"{buffering.get('SizeInMBs')} MB or {buffering.get('IntervalInSeconds')} s",
        "processors": processors,
        "dynamic partitioning": (
            f"enabled (retry {partitioning.get('RetryOptions', {}).get('DurationInSeconds')} s)"
            if partitioning.get("Enabled") else "disabled"
        ),
        "format conversion": _conversion(conversion),
        "compression": s3.get("CompressionFormat", ""),
    }


def _short_arn(value: str) -> str:
    """The resource name of an ARN (`...:function:Name` -> Name), other values as they are."""
    if not value.startswith("arn:"):
        return value
    return value.split(":")[-1].split("/")[-1]


def _conversion(config: dict[str, Any]) -> str:
    if not config.get("Enabled"):
        return "disabled"
    deserializer = next(iter(config.get("InputFormatConfiguration", {}).get("Deserializer", {})), "?")
    serializer_config = config.get("OutputFormatConfiguration", {}).get("Serializer", {})
    serializer = next(iter(serializer_config), "?")
    compression = serializer_config.get(serializer, {}).get("Compression")
    schema = config.get("SchemaConfiguration", {})
    return (
        f"{deserializer} -> {serializer}" + (f" ({compression})" if compression else "")
        + f", columns from Glue table {schema.get('DatabaseName')}.{schema.get('TableName')}"
        + f" (version {schema.get('VersionId', 'LATEST')})"
    )


# -- the lake -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LakeObject:
    key: str
    size: int
    rows: int

    @property
    def partition(self) -> tuple[str, str, str] | None:
        """(year, month, day) from the key's year=/month=/day= folders, None outside them."""
        match = PARTITION.search(self.key)
        return tuple(match.groups()) if match else None  # type: ignore[return-value]


def partitions_frame(objects: list[LakeObject]) -> pd.DataFrame:
    """Objects, bytes and rows per year/month/day partition, oldest first."""
    rows = [(*(o.partition or ("?", "?", "?")), o.size, o.rows) for o in objects]
    frame = pd.DataFrame(rows, columns=["year", "month", "day", "bytes", "rows"])
    grouped = frame.groupby(["year", "month", "day"], sort=True).agg(
        objects=("rows", "size"), bytes=("bytes", "sum"), rows=("rows", "sum")
    )
    return grouped.reset_index()


@dataclass
class LakeCounter:
    """Counts the lake's Parquet rows (from each object's footer) and error records (JSON lines),
    reading every object once: Firehose never rewrites an object, so counts are cached by key."""

    bucket: str
    boto3_session: boto3.Session | None = None
    data_prefix: str = "data/"
    error_prefix: str = "errors/"
    _rows: dict[str, LakeObject] = field(default_factory=dict, repr=False)
    _errors: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._s3 = (self.boto3_session or boto3.Session()).client("s3")

    def data_objects(self) -> list[LakeObject]:
        for obj in list_objects(self._s3, self.bucket, self.data_prefix):
            if obj["Key"] not in self._rows:
                body = self._s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                rows = pq.ParquetFile(io.BytesIO(body)).metadata.num_rows
                self._rows[obj["Key"]] = LakeObject(obj["Key"], obj["Size"], rows)
        return sorted(self._rows.values(), key=lambda o: o.key)

    def error_records(self) -> int:
        for obj in list_objects(self._s3, self.bucket, self.error_prefix):
            if obj["Key"] not in self._errors:
                body = self._s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                self._errors[obj["Key"]] = sum(1 for line in body.splitlines() if line.strip())
        return sum(self._errors.values())

    def landed(self) -> int:
        """Rows plus error records: every record Firehose delivered is one or the other."""
        return sum(o.rows for o in self.data_objects()) + self.error_records()


def lake_partitions(bucket: str, boto3_session: boto3.Session | None = None, prefix: str = "data/") -> pd.DataFrame:
    """The lake's year/month/day partitions with their object, byte and row counts."""
    return partitions_frame(LakeCounter(bucket, boto3_session, data_prefix=prefix).data_objects())


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


def wait_for_lake(bucket: str, expected: int, boto3_session: boto3.Session | None = None,
                  data_prefix: str = "data/", error_prefix: str = "errors/", timeout: float = 300.0,
                  poll: float = 1.0, progress: bool = True) -> int:
    """Wait until `expected` records landed in the lake (Parquet rows + error records) by listing
    and reading S3, the same on every backend; return how many landed."""
    counter = LakeCounter(bucket, boto3_session, data_prefix, error_prefix)
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
