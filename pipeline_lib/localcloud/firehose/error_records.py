"""The error records Firehose writes under the evaluated error prefix, one JSON document per
line, and the error codes and messages they carry.

Shapes:
- processing-failed (Lambda transformation): rawData, errorCode, errorMessage, attemptsMade,
  arrivalTimestamp, attemptEndingTimestamp, lambdaARN. The guide spells the last `lambdaArn`;
  objects written by the service carry `lambdaARN` (observed), which is what we write.
- format-conversion-failed: attemptsMade, arrivalTimestamp, lastErrorCode, lastErrorMessage,
  attemptEndingTimestamp, rawData, sequenceNumber, subSequenceNumber (Kinesis sources),
  dataCatalogTable {catalogId, databaseName, tableName, region, versionId, roleArn, catalogArn}.
- dynamic partitioning failures: attemptsMade, arrivalTimestamp, errorCode, errorMessage,
  attemptEndingTimestamp, rawData.

Timestamps are epoch milliseconds; rawData is the base64 of the record as it entered Firehose.

Error-output types: `processing-failed`, `format-conversion-failed` (documented),
`metadata-extraction-failed` (what the service uses for jq metadata-extraction failures,
observed), `s3-delivery-failed` (ours, in the dynamic-partitioning shape: records whose S3 prefix
could not be written within the retry duration; AWS does not document the type's name),
`partitioning-failed` (ours, for Lambda partition keys that are missing or invalid and
for the active-partition limit: AWS does not document those records).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from .prefixes import Prefix, PrefixError, parse_prefix

# Error-output types (the value of !{firehose:error-output-type}).
PROCESSING_FAILED = "processing-failed"
FORMAT_CONVERSION_FAILED = "format-conversion-failed"
METADATA_EXTRACTION_FAILED = "metadata-extraction-failed"
PARTITIONING_FAILED = "partitioning-failed"
S3_DELIVERY_FAILED = "s3-delivery-failed"
OUTPUT_TYPES = (PROCESSING_FAILED, FORMAT_CONVERSION_FAILED, METADATA_EXTRACTION_FAILED, PARTITIONING_FAILED,
                S3_DELIVERY_FAILED)


@dataclass(frozen=True)
class ErrorCode:
    code: str
    message: str
    output_type: str

    def with_detail(self, detail: str) -> tuple[str, str]:
        """(code, message + detail) for a record-specific message."""
        return self.code, f"{self.message} {detail}".strip()


# Lambda transformation. Messages of FunctionError, MissingRecordId, DuplicatedRecordId,
# ProcessingFailedStatus and the null-data InvalidReturnFormat are the service's own; the
# JsonProcessingException, ResourceNotFound and InvokeAccessDenied ones are the documented
# CloudWatch Logs messages; the other InvalidReturnFormat texts are ours.
LAMBDA_FUNCTION_ERROR = ErrorCode(
    "Lambda.FunctionError", "The Lambda function was successfully invoked but it returned an error result.", PROCESSING_FAILED)
LAMBDA_MISSING_RECORD_ID = ErrorCode(
    "Lambda.MissingRecordId",
    "One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids.",
    PROCESSING_FAILED)
LAMBDA_DUPLICATED_RECORD_ID = ErrorCode(
    "Lambda.DuplicatedRecordId",
    "Multiple records were returned with the same record Id. Ensure that the Lambda function returns a unique record "
    "Id for each record.", PROCESSING_FAILED)
LAMBDA_JSON_PROCESSING = ErrorCode(
    "Lambda.JsonProcessingException",
    "There was an error parsing returned records from the Lambda function. Ensure that the returned records follow "
    "the status model required by Firehose.", PROCESSING_FAILED)
LAMBDA_PROCESSING_FAILED = ErrorCode("Lambda.ProcessingFailedStatus", "ProcessingFailed status set for record", PROCESSING_FAILED)
LAMBDA_NULL_DATA = ErrorCode(
    "Lambda.InvalidReturnFormat",
    "The data field cannot be null when the SourceType is DirectPut or KinesisStreamAsSource and processing result "
    "is Ok.", PROCESSING_FAILED)
LAMBDA_INVALID_RESULT = ErrorCode(
    "Lambda.InvalidReturnFormat", "The result field must be one of Ok, Dropped or ProcessingFailed.", PROCESSING_FAILED)
LAMBDA_INVALID_DATA = ErrorCode(
    "Lambda.InvalidReturnFormat", "The data field of an Ok record must be base64-encoded.", PROCESSING_FAILED)
LAMBDA_RESOURCE_NOT_FOUND = ErrorCode(
    "Lambda.ResourceNotFound", "The specified Lambda function does not exist. Use a different function that does exist.",
    PROCESSING_FAILED)
LAMBDA_INVOKE_ACCESS_DENIED = ErrorCode(
    "Lambda.InvokeAccessDenied", "Access was denied. Ensure that the access policy allows access to the Lambda function.",
    PROCESSING_FAILED)
LAMBDA_FUNCTION_TIMED_OUT = ErrorCode(
    "Lambda.FunctionTimedOut",
    "Firehose encountered timeout errors when calling AWS Lambda. The maximum supported function timeout is 5 minutes.",
    PROCESSING_FAILED)

# Record format conversion (per record; the empty-record text is the service's own).
CONVERSION_PARSE_ERROR = ErrorCode("DataFormatConversion.ParseError", "Encountered malformed JSON.", FORMAT_CONVERSION_FAILED)
CONVERSION_MALFORMED_DATA = ErrorCode("DataFormatConversion.MalformedData", "Data does not match the schema.", FORMAT_CONVERSION_FAILED)
CONVERSION_EMPTY_RECORD = ErrorCode(
    "DataFormatConversion.MalformedData", "The record was empty or contained only whitespace.", FORMAT_CONVERSION_FAILED)
CONVERSION_TOP_LEVEL_PRIMITIVE = ErrorCode(
    "DataFormatConversion.MalformedData",
    "The input JSON contained a primitive at the top level. The top level must be an object or array.",
    FORMAT_CONVERSION_FAILED)
# Whole-schema problems (every record of the batch fails with them).
CONVERSION_INVALID_SCHEMA = ErrorCode("DataFormatConversion.InvalidSchema", "The schema is invalid.", FORMAT_CONVERSION_FAILED)
CONVERSION_ENTITY_NOT_FOUND = ErrorCode(
    "DataFormatConversion.EntityNotFound",
    "The specified table/database could not be found. Please ensure that the table/database exists and that the "
    "values provided in the schema configuration are correct, especially with regards to casing.",
    FORMAT_CONVERSION_FAILED)

# Dynamic partitioning. MetadataExtractionFailed / "Non JSON record provided" are the service's;
# the rest are ours.
METADATA_EXTRACTION_FAILED_CODE = ErrorCode(
    "DynamicPartitioning.MetadataExtractionFailed", "Non JSON record provided", METADATA_EXTRACTION_FAILED)
PARTITION_KEY_MISSING = ErrorCode(
    "DynamicPartitioning.PartitionKeyMissing",
    "The record has no value for a partition key that the S3 prefix uses.", PARTITIONING_FAILED)
INVALID_PARTITION_KEYS = ErrorCode(
    "DynamicPartitioning.InvalidPartitionKeys",
    "metadata.partitionKeys must be a JSON object mapping key names to string values.", PARTITIONING_FAILED)
ACTIVE_PARTITIONS_EXCEEDED = ErrorCode(
    "DynamicPartitioning.ActivePartitionsLimitExceeded",
    "activePartitionExceeded: the delivery stream has reached its limit of active partitions.", PARTITIONING_FAILED)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def processing_failed_record(
    *, raw_data: bytes, error_code: str, error_message: str, attempts_made: int, arrival_ms: int,
    attempt_ending_ms: int, lambda_arn: str,
) -> dict[str, Any]:
    """A processing-failed line (key order as the service writes it)."""
    return {
        "rawData": _b64(raw_data),
        "errorCode": error_code,
        "errorMessage": error_message,
        "attemptsMade": attempts_made,
        "arrivalTimestamp": arrival_ms,
        "attemptEndingTimestamp": attempt_ending_ms,
        "lambdaARN": lambda_arn,
    }


def data_catalog_table(
    *, database_name: str, table_name: str, region: str, catalog_id: str, version_id: str = "LATEST",
    role_arn: str | None = None,
) -> dict[str, Any]:
    """The dataCatalogTable block of a format-conversion-failed record."""
    return {
        "catalogId": catalog_id,
        "databaseName": database_name,
        "tableName": table_name,
        "region": region,
        "versionId": version_id or "LATEST",
        "roleArn": role_arn,
        "catalogArn": f"arn:aws:glue:{region}:{catalog_id}:catalog",
    }


def format_conversion_failed_record(
    *, raw_data: bytes, error_code: str, error_message: str, attempts_made: int, arrival_ms: int,
    attempt_ending_ms: int, catalog_table: dict[str, Any], sequence_number: str | None = None,
    subsequence_number: int | None = None,
) -> dict[str, Any]:
    """A format-conversion-failed line. Sequence numbers are present for Kinesis sources."""
    record: dict[str, Any] = {
        "attemptsMade": attempts_made,
        "arrivalTimestamp": arrival_ms,
        "lastErrorCode": error_code,
        "lastErrorMessage": error_message,
        "attemptEndingTimestamp": attempt_ending_ms,
        "rawData": _b64(raw_data),
    }
    if sequence_number is not None:
        record["sequenceNumber"] = sequence_number
        record["subSequenceNumber"] = subsequence_number
    record["dataCatalogTable"] = catalog_table
    return record


def partitioning_failed_record(
    *, raw_data: bytes, error_code: str, error_message: str, attempts_made: int, arrival_ms: int,
    attempt_ending_ms: int,
) -> dict[str, Any]:
    """A dynamic-partitioning failure line (metadata-extraction-failed, partitioning-failed)."""
    return {
        "attemptsMade": attempts_made,
        "arrivalTimestamp": arrival_ms,
        "errorCode": error_code,
        "errorMessage": error_message,
        "attemptEndingTimestamp": attempt_ending_ms,
        "rawData": _b64(raw_data),
    }


def _arn_parts(arn: str) -> tuple[str, str]:
    """(region, account) of an ARN such as arn:aws:firehose:us-east-1:123456789012:deliverystream/x."""
    parts = (arn or "").split(":")
    if len(parts) < 6:
        raise ValueError(f"not an ARN: {arn!r}")
    return parts[3], parts[4]


def _catalog_table_from_config(config: Any) -> dict[str, Any]:
    conversion = config.conversion
    if conversion is None:
        raise ValueError(f"delivery stream {config.name} has no format conversion; no dataCatalogTable to report")
    region, account = _arn_parts(config.arn)
    role_arn = None
    raw = getattr(config, "raw", None) or {}
    for dest in raw.get("Destinations") or []:
        s3 = dest.get("ExtendedS3DestinationDescription") or {}
        schema = (s3.get("DataFormatConversionConfiguration") or {}).get("SchemaConfiguration") or {}
        role_arn = schema.get("RoleARN") or role_arn
    return data_catalog_table(
        database_name=conversion.database,
        table_name=conversion.table,
        region=conversion.region or region,
        catalog_id=conversion.catalog_id or account,
        version_id=conversion.version_id,
        role_arn=role_arn,
    )


def error_record(
    *,
    output_type: str,
    raw_data: bytes,
    error_code: str,
    error_message: str,
    attempts_made: int,
    arrival_ms: int,
    attempt_ending_ms: int,
    lambda_arn: str | None = None,
    config: Any = None,
    catalog_table: dict[str, Any] | None = None,
    sequence_number: str | None = None,
    subsequence_number: int | None = None,
) -> bytes:
    """One error record as a JSON line (with its newline), in the shape of `output_type`.

    processing-failed needs `lambda_arn`; format-conversion-failed needs `catalog_table` or a
    StreamConfig-like `config` (name, arn, conversion, raw) to build it from.
    """
    if output_type == PROCESSING_FAILED:
        if not lambda_arn:
            raise ValueError("a processing-failed record needs the Lambda function's ARN (lambda_arn)")
        record = processing_failed_record(
            raw_data=raw_data, error_code=error_code, error_message=error_message, attempts_made=attempts_made,
            arrival_ms=arrival_ms, attempt_ending_ms=attempt_ending_ms, lambda_arn=lambda_arn)
    elif output_type == FORMAT_CONVERSION_FAILED:
        if catalog_table is None:
            if config is None:
                raise ValueError("a format-conversion-failed record needs catalog_table or the stream's config")
            catalog_table = _catalog_table_from_config(config)
        record = format_conversion_failed_record(
            raw_data=raw_data, error_code=error_code, error_message=error_message, attempts_made=attempts_made,
            arrival_ms=arrival_ms, attempt_ending_ms=attempt_ending_ms, catalog_table=catalog_table,
            sequence_number=sequence_number, subsequence_number=subsequence_number)
    elif output_type in (METADATA_EXTRACTION_FAILED, PARTITIONING_FAILED, S3_DELIVERY_FAILED):
        record = partitioning_failed_record(
            raw_data=raw_data, error_code=error_code, error_message=error_message, attempts_made=attempts_made,
            arrival_ms=arrival_ms, attempt_ending_ms=attempt_ending_ms)
    else:
        raise ValueError(f"unknown error output type {output_type!r}; known: {', '.join(OUTPUT_TYPES)}")
    return dumps_error_records([record])


def engine_error_record(record: Any, config: Any, output_type: str, code: str, message: str, attempts: int,
                        *, attempt_ending_ms: int, lambda_arn: str | None = None) -> bytes:
    """`error_record` for a delivery engine's record (records.InRecord): its data, arrival time
    and, when it came from a Kinesis stream, its sequence and subsequence numbers."""
    return error_record(
        output_type=output_type,
        raw_data=record.data,
        error_code=code,
        error_message=message,
        attempts_made=attempts,
        arrival_ms=record.arrival_ms,
        attempt_ending_ms=attempt_ending_ms,
        lambda_arn=lambda_arn,
        config=config,
        sequence_number=record.sequence_number,
        subsequence_number=record.subsequence_number if record.sequence_number else None,
    )


def dumps_error_records(records: Iterable[dict[str, Any]]) -> bytes:
    """JSON lines: one compact document per record, each ending with a newline."""
    return b"".join(json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n" for r in records)


def evaluate_error_prefix(error_prefix: Prefix | str | None, config: Any, output_type: str, arrival: datetime) -> str:
    """Where failed records of `output_type` go.

    With an ErrorOutputPrefix: its evaluation (`<it><type>/yyyy/MM/dd/HH/` when it has no
    expressions). Without one: `<Prefix><type>/yyyy/MM/dd/HH/`, which AWS allows only when the
    Prefix has no expressions. `config` is the StreamConfig (its `prefix`) or the Prefix string.
    """
    if isinstance(error_prefix, str):
        error_prefix = parse_prefix(error_prefix) if error_prefix else None
    if error_prefix is None:
        template = config if isinstance(config, str) else (getattr(config, "prefix", "") or "")
        fallback = parse_prefix(template)
        if fallback.has_expressions:
            raise PrefixError("ErrorOutputPrefix can't be null when Prefix contains expressions.")
        error_prefix = fallback
    return error_prefix.evaluate_error(arrival=arrival, error_output_type=output_type)
