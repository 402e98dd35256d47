"""The change records: what DynamoDB puts on the Kinesis stream, read and decoded, and the
delivery stream's configuration, summarized.

Backend-neutral: the one function that calls AWS (`read_stream`) goes through a boto3 session's
clients; the rest is pure (decoding, summarizing).
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from .backend import session as default_session

__all__ = ["change_summary", "decode_change", "delivery_settings", "plain_image", "read_stream"]

_deserializer = TypeDeserializer()


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



# -- the Kinesis stream ---------------------------------------------------------------------------
def read_stream(stream_name: str, limit: int | None = None, batch: int = 1000, *,
                boto3_session: boto3.Session | None = None) -> list[dict[str, Any]]:
    """Every record on the stream from TRIM_HORIZON (at most `limit`), shard by shard, each as
    {"shard", "sequence", "partition_key", "change"}. A shard is read up to its tip: until
    GetRecords returns nothing and MillisBehindLatest is 0 (or the shard is closed)."""
    kinesis = (boto3_session or default_session()).client("kinesis")
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
