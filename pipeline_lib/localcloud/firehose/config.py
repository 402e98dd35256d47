"""A delivery stream's configuration as the engine uses it, read from what DescribeDeliveryStream
returns (moto's DeliveryStream keeps the API shapes), so the engine is driven by exactly the
configuration a client can read back."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MB = 1024 * 1024
# AWS defaults (Firehose developer guide).
DEFAULT_BUFFER_MB = 5
DEFAULT_BUFFER_SECONDS = 300
DEFAULT_LAMBDA_BUFFER_MB = 1
DEFAULT_LAMBDA_BUFFER_SECONDS = 60
DEFAULT_LAMBDA_RETRIES = 3
DEFAULT_ACTIVE_PARTITION_LIMIT = 500
# S3 delivery failures (developer guide, "Handle data delivery failures"): with dynamic
# partitioning, retried for DynamicPartitioningConfiguration.RetryOptions.DurationInSeconds
# (default 300) and then written under the error prefix; otherwise retried for up to 24 hours,
# Firehose's maximum data storage time, after which the data is lost.
DEFAULT_S3_PREFIX_RETRY_SECONDS = 300
S3_MAX_RETRY_SECONDS = 24 * 3600


class UnsupportedConfiguration(ValueError):
    """The stream asks for something the local engine cannot do (it refuses, never skips)."""


@dataclass(frozen=True)
class LambdaProcessor:
    arn: str
    retries: int = DEFAULT_LAMBDA_RETRIES
    buffer_bytes: int = DEFAULT_LAMBDA_BUFFER_MB * MB
    buffer_seconds: float = DEFAULT_LAMBDA_BUFFER_SECONDS


@dataclass(frozen=True)
class FormatConversion:
    database: str
    table: str
    region: str | None
    catalog_id: str | None
    version_id: str
    deserializer: dict[str, Any]
    serializer: dict[str, Any]


@dataclass(frozen=True)
class StreamConfig:
    name: str
    arn: str
    version: int
    source_stream_arn: str | None  # None: Direct PUT
    bucket: str
    prefix: str
    error_prefix: str | None
    buffer_bytes: int
    buffer_seconds: float
    compression: str
    file_extension: str | None
    lambda_processor: LambdaProcessor | None
    metadata_query: str | None  # jq expression of the MetadataExtraction processor
    append_delimiter: bool
    deaggregate: dict[str, Any] | None  # RecordDeAggregation parameters
    dynamic_partitioning: bool
    conversion: FormatConversion | None
    log_group: str | None
    log_stream: str | None
    active_partition_limit: int = DEFAULT_ACTIVE_PARTITION_LIMIT
    s3_retry_seconds: float | None = None  # dynamic partitioning's RetryOptions; None: up to 24 h, then lost
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _params(processor: dict[str, Any]) -> dict[str, str]:
    return {p["ParameterName"]: p["ParameterValue"] for p in processor.get("Parameters", [])}


def _s3_destination(name: str, description: dict[str, Any]) -> dict[str, Any]:
    destinations = description.get("Destinations") or []
    if not destinations:
        raise UnsupportedConfiguration(f"delivery stream {name} has no destination")
    dest = destinations[0]
    s3 = dest.get("ExtendedS3DestinationDescription") or dest.get("S3DestinationDescription")
    if s3 is None:
        kinds = sorted(k.replace("DestinationDescription", "") for k in dest if k != "DestinationId")
        raise UnsupportedConfiguration(
            f"delivery stream {name}: the local cloud delivers to S3 only, not to {', '.join(kinds)}"
        )
    return s3


@dataclass(frozen=True)
class _Processing:
    lambda_processor: LambdaProcessor | None = None
    metadata_query: str | None = None
    append_delimiter: bool = False
    deaggregate: dict[str, Any] | None = None


def _processing(name: str, s3: dict[str, Any]) -> _Processing:
    processing = s3.get("ProcessingConfiguration") or {}
    if not processing.get("Enabled"):
        return _Processing()
    found: dict[str, Any] = {}
    for processor in processing.get("Processors", []):
        kind = processor.get("Type")
        params = _params(processor)
        if kind == "Lambda":
            found["lambda_processor"] = LambdaProcessor(
                arn=params["LambdaArn"],
                retries=int(params.get("NumberOfRetries", DEFAULT_LAMBDA_RETRIES)),
                buffer_bytes=int(float(params.get("BufferSizeInMBs", DEFAULT_LAMBDA_BUFFER_MB)) * MB),
                buffer_seconds=float(params.get("BufferIntervalInSeconds", DEFAULT_LAMBDA_BUFFER_SECONDS)),
            )
        elif kind == "MetadataExtraction":
            found["metadata_query"] = params.get("MetadataExtractionQuery")
        elif kind == "AppendDelimiterToRecord":
            found["append_delimiter"] = True
        elif kind == "RecordDeAggregation":
            found["deaggregate"] = params
        else:
            raise UnsupportedConfiguration(f"delivery stream {name}: processor type {kind!r} is not supported locally")
    return _Processing(**found)


def _conversion(name: str, s3: dict[str, Any]) -> FormatConversion | None:
    dfc = s3.get("DataFormatConversionConfiguration") or {}
    if not (dfc and dfc.get("Enabled", True)):
        return None
    schema = dfc.get("SchemaConfiguration") or {}
    serializer = (dfc.get("OutputFormatConfiguration") or {}).get("Serializer") or {}
    if "ParquetSerDe" not in serializer:
        raise UnsupportedConfiguration(f"delivery stream {name}: only Parquet output is supported locally (got {sorted(serializer)})")
    return FormatConversion(
        database=schema["DatabaseName"],
        table=schema["TableName"],
        region=schema.get("Region"),
        catalog_id=schema.get("CatalogId"),
        version_id=schema.get("VersionId", "LATEST"),
        deserializer=(dfc.get("InputFormatConfiguration") or {}).get("Deserializer") or {"OpenXJsonSerDe": {}},
        serializer=serializer,
    )


def _compression(name: str, s3: dict[str, Any], conversion: FormatConversion | None) -> str:
    compression = s3.get("CompressionFormat", "UNCOMPRESSED")
    if conversion is None and compression not in ("UNCOMPRESSED", "GZIP"):
        raise UnsupportedConfiguration(f"delivery stream {name}: CompressionFormat {compression} is not supported locally (use UNCOMPRESSED or GZIP)")
    return compression


def _s3_retry_seconds(s3: dict[str, Any]) -> float | None:
    """Dynamic partitioning's RetryOptions (None without dynamic partitioning: up to 24 h)."""
    dynamic_config = s3.get("DynamicPartitioningConfiguration") or {}
    if not dynamic_config.get("Enabled"):
        return None
    return float((dynamic_config.get("RetryOptions") or {}).get("DurationInSeconds", DEFAULT_S3_PREFIX_RETRY_SECONDS))


def parse_config(description: dict[str, Any]) -> StreamConfig:
    """Build a StreamConfig from a DeliveryStreamDescription (DescribeDeliveryStream's shape)."""
    name = description["DeliveryStreamName"]
    s3 = _s3_destination(name, description)
    hints = s3.get("BufferingHints") or {}
    processing = _processing(name, s3)
    conversion = _conversion(name, s3)
    logging_options = s3.get("CloudWatchLoggingOptions") or {}
    logging = bool(logging_options.get("Enabled"))
    source = (description.get("Source") or {}).get("KinesisStreamSourceDescription") or {}
    kinesis_source = description.get("DeliveryStreamType") == "KinesisStreamAsSource"
    return StreamConfig(
        name=name,
        arn=description["DeliveryStreamARN"],
        version=int(description.get("VersionId", 1)),
        source_stream_arn=source.get("KinesisStreamARN") if kinesis_source else None,
        bucket=s3["BucketARN"].split(":::")[-1],
        prefix=s3.get("Prefix", "") or "",
        error_prefix=s3.get("ErrorOutputPrefix") or None,
        buffer_bytes=int(float(hints.get("SizeInMBs", DEFAULT_BUFFER_MB)) * MB),
        buffer_seconds=float(hints.get("IntervalInSeconds", DEFAULT_BUFFER_SECONDS)),
        compression=_compression(name, s3, conversion),
        file_extension=s3.get("FileExtension"),
        lambda_processor=processing.lambda_processor,
        metadata_query=processing.metadata_query,
        append_delimiter=processing.append_delimiter,
        deaggregate=processing.deaggregate,
        dynamic_partitioning=bool((s3.get("DynamicPartitioningConfiguration") or {}).get("Enabled")),
        conversion=conversion,
        log_group=logging_options.get("LogGroupName") if logging else None,
        log_stream=logging_options.get("LogStreamName") if logging else None,
        s3_retry_seconds=_s3_retry_seconds(s3),
        raw=description,
    )
