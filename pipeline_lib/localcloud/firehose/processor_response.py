"""Validation of a transformation Lambda's response (developer guide, "Required parameters for
data transformation"): every returned record carries the `recordId` it was given, a `result` of
Ok | Dropped | ProcessingFailed, base64 `data`, and with dynamic partitioning
`metadata.partitionKeys` (string -> string).

Outcomes are per record, as the service behaves: a record whose id is missing from the response
fails with Lambda.MissingRecordId, a duplicated id fails that record with
Lambda.DuplicatedRecordId, entries naming ids that were not sent are ignored, a bad `result` or
`data` fails that record (Lambda.InvalidReturnFormat), and Ok records of the same response are
still delivered. Only a payload that is not JSON at all fails the invocation as a whole
(LambdaResponseError, Lambda.JsonProcessingException). A response the function returned is not
retried: retries are for invocation errors.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Collection, Sequence

from . import error_records as codes

RESULTS = ("Ok", "Dropped", "ProcessingFailed")


class LambdaResponseError(Exception):
    """The invocation as a whole failed; every record of it goes to processing-failed."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class ProcessedRecord:
    """What happened to one record of the invocation.

    `result` is the function's result, or ProcessingFailed when Firehose rejected the entry;
    then `error_code`, `error_message` and `error_output_type` say what to write.
    """

    record_id: str
    result: str
    data: bytes | None = None
    partition_keys: dict[str, str] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    error_output_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.result == "Ok"


def _failed(record_id: str, error: codes.ErrorCode, detail: str = "") -> ProcessedRecord:
    code, message = error.with_detail(detail)
    return ProcessedRecord(record_id, "ProcessingFailed", error_code=code, error_message=message,
                           error_output_type=error.output_type)


def _partition_keys(entry: dict[str, Any]) -> dict[str, str] | str | None:
    """The entry's partition keys; None when absent; a string describing what is wrong."""
    metadata = entry.get("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return f"metadata is a JSON {type(metadata).__name__}, not an object."
    keys = metadata.get("partitionKeys")
    if keys is None:
        return None
    if not isinstance(keys, dict):
        return f"partitionKeys is a JSON {type(keys).__name__}, not an object."
    bad = [k for k, v in keys.items() if not isinstance(v, str)]
    if bad:
        return f"partition key(s) {', '.join(sorted(bad))} have non-string values."
    return dict(keys)


def validate_lambda_response(
    request_record_ids: Sequence[str],
    response_payload: bytes | str,
    dynamic_partitioning: bool,
    *,
    required_partition_keys: Collection[str] | None = None,
) -> list[ProcessedRecord]:
    """One ProcessedRecord per requested record id, in request order.

    With `dynamic_partitioning`, an Ok record must carry `metadata.partitionKeys`; pass
    `required_partition_keys` (e.g. the prefix's partitionKeyFromLambda names) to require
    exactly those keys instead (an empty collection requires none: partition keys may come
    from a MetadataExtraction query). Without dynamic partitioning, metadata is ignored.
    """
    by_id, duplicated = _entries_by_id(_parse(response_payload))
    out: list[ProcessedRecord] = []
    for rid in request_record_ids:
        if rid in duplicated:
            out.append(_failed(rid, codes.LAMBDA_DUPLICATED_RECORD_ID))
        elif rid not in by_id:
            out.append(_failed(rid, codes.LAMBDA_MISSING_RECORD_ID))
        else:
            out.append(_processed(rid, by_id[rid], dynamic_partitioning, required_partition_keys))
    return out


def _parse(response_payload: bytes | str) -> Any:
    try:
        return json.loads(response_payload)
    except (ValueError, TypeError) as exc:
        raise LambdaResponseError(
            codes.LAMBDA_JSON_PROCESSING.code, f"{codes.LAMBDA_JSON_PROCESSING.message} ({exc})"
        ) from None


def _entries_by_id(body: Any) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """The response's entries by record id (the first of each), and the ids returned twice."""
    entries = body.get("records") if isinstance(body, dict) else None
    by_id: dict[str, dict[str, Any]] = {}
    duplicated: set[str] = set()
    if isinstance(entries, list):
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("recordId"), str):
                continue  # cannot be matched to a record: its record counts as missing
            rid = entry["recordId"]
            if rid in by_id:
                duplicated.add(rid)
            else:
                by_id[rid] = entry
    return by_id, duplicated


def _processed(rid: str, entry: dict[str, Any], dynamic_partitioning: bool,
               required_partition_keys: Collection[str] | None) -> ProcessedRecord:
    """The outcome of one record the response has exactly one entry for."""
    result = entry.get("result")
    if result not in RESULTS:
        return _failed(rid, codes.LAMBDA_INVALID_RESULT, f"Got {result!r}.")
    if result == "Dropped":
        return ProcessedRecord(rid, "Dropped")
    if result == "ProcessingFailed":
        return ProcessedRecord(rid, "ProcessingFailed", error_code=codes.LAMBDA_PROCESSING_FAILED.code,
                               error_message=codes.LAMBDA_PROCESSING_FAILED.message,
                               error_output_type=codes.LAMBDA_PROCESSING_FAILED.output_type)
    decoded = _data(rid, entry)
    if isinstance(decoded, ProcessedRecord):
        return decoded
    keys: dict[str, str] | ProcessedRecord = {}
    if dynamic_partitioning:
        keys = _required_keys(rid, entry, required_partition_keys)
        if isinstance(keys, ProcessedRecord):
            return keys
    return ProcessedRecord(rid, "Ok", decoded, keys)


def _data(rid: str, entry: dict[str, Any]) -> bytes | ProcessedRecord:
    """An Ok entry's decoded `data`, or the record's failure."""
    data = entry.get("data")
    if data is None:
        return _failed(rid, codes.LAMBDA_NULL_DATA)
    if not isinstance(data, str):
        return _failed(rid, codes.LAMBDA_INVALID_DATA, f"Got a JSON {type(data).__name__}.")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        return _failed(rid, codes.LAMBDA_INVALID_DATA, f"({exc})")


def _required_keys(rid: str, entry: dict[str, Any],
                   required_partition_keys: Collection[str] | None) -> dict[str, str] | ProcessedRecord:
    """An Ok entry's partition keys (dynamic partitioning), or the record's failure."""
    found = _partition_keys(entry)
    if isinstance(found, str):
        return _failed(rid, codes.INVALID_PARTITION_KEYS, found)
    if required_partition_keys is None:
        if not found:
            return _failed(rid, codes.PARTITION_KEY_MISSING,
                           "The Lambda function returned no metadata.partitionKeys for this Ok record.")
    else:
        missing = [k for k in required_partition_keys if k not in (found or {})]
        if missing:
            return _failed(rid, codes.PARTITION_KEY_MISSING, f"Missing from metadata.partitionKeys: {', '.join(missing)}.")
    return found or {}
