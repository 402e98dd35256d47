"""Firehose transformation Lambda: DynamoDB change records (via Kinesis) -> lake rows.

Each input record is one DynamoDB -> Kinesis change in JSON. Each output record is one plain
JSON object (snake_case keys, PK/SK dropped, numbers with their exact digits, plus
cdc_operation / cdc_event_time / cdc_event_id) followed by a newline, with the partition keys
year / month / day (UTC) of `createdAt` for Firehose dynamic partitioning.

A record that cannot be processed is returned as ProcessingFailed with its data unchanged, so
Firehose writes it under the error prefix; it never fails the rest of the batch.
Stdlib only: this file is deployed as is.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

OK = "Ok"
PROCESSING_FAILED = "ProcessingFailed"
OPERATIONS = ("INSERT", "MODIFY", "REMOVE")
DROPPED_ATTRIBUTES = frozenset({"PK", "SK"})  # single-table keys: not lake columns
CDC_COLUMNS = ("cdc_operation", "cdc_event_time", "cdc_event_id")
MICROSECONDS_THRESHOLD = 10**14  # epoch ms stays below this until year 5138; epoch us is above

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_encode_str = json.encoder.encode_basestring  # JSON string literal, UTF-8 kept (C-accelerated)
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_ISO_8601 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))\Z",
    re.ASCII,
)
_CAMEL_WORD = re.compile(r"([^_])([A-Z][a-z]+)")
_CAMEL_TAIL = re.compile(r"([a-z0-9])([A-Z])")


class RecordError(ValueError):
    """This record cannot be transformed; the message (with the attribute path) is the reason logged."""

    def __init__(self, reason: str, path: str = ""):
        super().__init__(f"{path}: {reason}" if path else reason)
        self.reason = reason
        self.path = path

    def inside(self, name: str) -> RecordError:
        """The same error seen from the enclosing map or list."""
        if not self.path:
            return RecordError(self.reason, name)
        joiner = "" if self.path.startswith("[") else "."
        return RecordError(self.reason, f"{name}{joiner}{self.path}")


# --- event / response types -------------------------------------------------------------


@dataclass(frozen=True)
class KinesisRecordMetadata:
    shard_id: str | None
    partition_key: str | None
    sequence_number: str | None
    subsequence_number: str | None
    approximate_arrival_timestamp: int | None

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> KinesisRecordMetadata | None:
        if not isinstance(raw, dict):
            return None
        return cls(
            shard_id=raw.get("shardId"),
            partition_key=raw.get("partitionKey"),
            sequence_number=raw.get("sequenceNumber"),
            subsequence_number=raw.get("subsequenceNumber"),
            approximate_arrival_timestamp=raw.get("approximateArrivalTimestamp"),
        )


@dataclass(frozen=True)
class FirehoseRecord:
    record_id: str
    data: Any  # base64 text as sent; kept untouched so a failed record returns it unchanged
    approximate_arrival_timestamp: int | None = None
    kinesis_record_metadata: KinesisRecordMetadata | None = None

    @classmethod
    def from_dict(cls, raw: Any) -> FirehoseRecord:
        if not isinstance(raw, dict) or not isinstance(raw.get("recordId"), str):
            # Without a recordId no answer can name this record: the event itself is malformed.
            raise ValueError("Firehose event record without a string recordId")
        return cls(
            record_id=raw["recordId"],
            data=raw.get("data"),
            approximate_arrival_timestamp=raw.get("approximateArrivalTimestamp"),
            kinesis_record_metadata=KinesisRecordMetadata.from_dict(raw.get("kinesisRecordMetadata")),
        )


@dataclass(frozen=True)
class FirehoseEvent:
    invocation_id: str | None
    delivery_stream_arn: str | None
    source_kinesis_stream_arn: str | None
    region: str | None
    records: list[FirehoseRecord]

    @classmethod
    def from_dict(cls, raw: Any) -> FirehoseEvent:
        if not isinstance(raw, dict) or not isinstance(raw.get("records", []), list):
            raise ValueError("not a Firehose transformation event: expected an object with a 'records' list")
        return cls(
            invocation_id=raw.get("invocationId"),
            delivery_stream_arn=raw.get("deliveryStreamArn"),
            source_kinesis_stream_arn=raw.get("sourceKinesisStreamArn"),
            region=raw.get("region"),
            records=[FirehoseRecord.from_dict(r) for r in raw.get("records", [])],
        )


@dataclass(frozen=True)
class TransformedRecord:
    record_id: str
    result: str
    data: Any
    partition_keys: dict[str, str] | None = None
    reason: str | None = field(default=None, compare=False)  # logged, not returned

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"recordId": self.record_id, "result": self.result, "data": self.data}
        if self.partition_keys is not None:
            out["metadata"] = {"partitionKeys": self.partition_keys}
        return out


@dataclass(frozen=True)
class DynamoDBChange:
    """The parts of a DynamoDB -> Kinesis change record the lake needs."""

    event_id: str
    event_name: str
    approximate_creation_date_time: int | float | None
    image: dict[str, Any]

    @classmethod
    def from_dict(cls, raw: Any) -> DynamoDBChange:
        if not isinstance(raw, dict):
            raise RecordError(f"not a DynamoDB change record: JSON {type(raw).__name__}, expected an object")
        if raw.get("eventSource", "aws:dynamodb") != "aws:dynamodb":
            raise RecordError(f"not a DynamoDB change record: eventSource {raw.get('eventSource')!r}")
        event_name = raw.get("eventName")
        if event_name not in OPERATIONS:
            raise RecordError(f"not a DynamoDB change record: eventName {event_name!r} is not one of {OPERATIONS}")
        event_id = raw.get("eventID")
        if not isinstance(event_id, str) or not event_id:
            raise RecordError("not a DynamoDB change record: no eventID")
        ddb = raw.get("dynamodb")
        if not isinstance(ddb, dict):
            raise RecordError("not a DynamoDB change record: no 'dynamodb' object")
        # A REMOVE carries the deleted item as OldImage; INSERT/MODIFY carry the item as written.
        image_name = "OldImage" if event_name == "REMOVE" else "NewImage"
        image = ddb.get(image_name)
        if not isinstance(image, dict) or not image:
            raise RecordError(
                f"{event_name} record has no {image_name} (the stream must carry item images, "
                "not KEYS_ONLY)"
            )
        when = ddb.get("ApproximateCreationDateTime")
        if when is not None and (isinstance(when, bool) or not isinstance(when, (int, float))):
            raise RecordError(f"ApproximateCreationDateTime {when!r} is not a number")
        return cls(event_id=event_id, event_name=event_name, approximate_creation_date_time=when, image=image)


# --- pure conversions -------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def snake_case(name: str) -> str:
    """createdAt -> created_at, unitPrice -> unit_price, HTTPCode -> http_code; snake stays snake."""
    return _CAMEL_TAIL.sub(r"\1_\2", _CAMEL_WORD.sub(r"\1_\2", name)).lower()


def json_number(text: Any) -> str:
    """The JSON text of a DynamoDB N: its own digits when they are valid JSON, never via float."""
    if not isinstance(text, str):
        raise RecordError(f"number {text!r} is not a string")
    if _JSON_NUMBER.match(text):
        return text
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise RecordError(f"number {text!r} is not a decimal number") from None
    if not number.is_finite():
        raise RecordError(f"number {text!r} is not finite")
    return str(number)  # e.g. "+5" -> "5", ".5" -> "0.5": same value, JSON spelling


def _json_value(value: Any) -> str:
    """The JSON text of one DynamoDB AttributeValue."""
    if not isinstance(value, dict) or len(value) != 1:
        raise RecordError(f"not a DynamoDB attribute value: {value!r:.80}")
    ((kind, inner),) = value.items()
    if kind == "S" or kind == "B":  # B arrives base64-encoded already
        if not isinstance(inner, str):
            raise RecordError(f"{kind} value is not a string")
        return _encode_str(inner)
    if kind == "N":
        return json_number(inner)
    if kind == "BOOL":
        if not isinstance(inner, bool):
            raise RecordError("BOOL value is not true/false")
        return "true" if inner else "false"
    if kind == "NULL":
        return "null"
    if kind == "M":
        if not isinstance(inner, dict):
            raise RecordError("M value is not an object")
        return "{" + ",".join(_json_members(inner)) + "}"
    if kind == "L":
        if not isinstance(inner, list):
            raise RecordError("L value is not an array")
        try:
            return "[" + ",".join(map(_json_value, inner)) + "]"
        except RecordError as err:
            index = next(i for i, v in enumerate(inner) if not _is_renderable(v))
            raise err.inside(f"[{index}]") from None
    if kind in ("SS", "BS", "NS"):
        if not isinstance(inner, list) or not all(isinstance(v, str) for v in inner):
            raise RecordError(f"{kind} value is not an array of strings")
        render = json_number if kind == "NS" else _encode_str
        return "[" + ",".join(map(render, inner)) + "]"
    raise RecordError(f"unknown DynamoDB type {kind!r}")


def _is_renderable(value: Any) -> bool:
    try:
        _json_value(value)
    except RecordError:
        return False
    return True


@functools.lru_cache(maxsize=4096)
def _member_prefix(name: str) -> str:
    return _encode_str(snake_case(name)) + ":"


def _json_members(attributes: dict[str, Any], skip: frozenset[str] = frozenset()) -> list[str]:
    members: list[str] = []
    for name, value in attributes.items():
        if name in skip:
            continue
        try:
            members.append(_member_prefix(name) + _json_value(value))
        except RecordError as err:
            raise err.inside(name) from None
    if len(members) != len({snake_case(name) for name in attributes if name not in skip}):
        # Two spellings of one column (createdAt and created_at): refuse rather than pick one.
        seen: dict[str, str] = {}
        for name in attributes:
            if name not in skip and seen.setdefault(snake_case(name), name) != name:
                raise RecordError(f"attributes {seen[snake_case(name)]!r} and {name!r} both map to {snake_case(name)!r}")
    return members


def parse_timestamp(text: str) -> datetime:
    """ISO-8601 with Z or an offset, with or without fractional seconds -> aware UTC datetime."""
    match = _ISO_8601.match(text)
    if not match:
        raise RecordError(
            f"createdAt {text!r} is not an ISO-8601 timestamp with Z or an offset "
            "(e.g. 2026-03-04T12:34:56.789Z)"
        )
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if not zulu:
        offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micros,
                         tzinfo=timezone(offset))
    except ValueError as err:
        raise RecordError(f"createdAt {text!r} is not a valid date/time: {err}") from None
    return local.astimezone(timezone.utc)


def partition_keys(created_at: datetime) -> dict[str, str]:
    return {"year": f"{created_at.year:04d}", "month": f"{created_at.month:02d}", "day": f"{created_at.day:02d}"}


def event_time(value: int | float | None) -> str | None:
    """ApproximateCreationDateTime (epoch ms, or epoch us for MICROSECOND precision) -> ISO-8601 Z."""
    if value is None:
        return None
    micros_per_unit = 1 if value > MICROSECONDS_THRESHOLD else 1000
    try:
        moment = _EPOCH + timedelta(microseconds=int(Decimal(str(value)) * micros_per_unit))
    except (OverflowError, InvalidOperation, ValueError):
        raise RecordError(f"ApproximateCreationDateTime {value!r} is out of range") from None
    if micros_per_unit == 1:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def created_at_of(image: dict[str, Any]) -> datetime:
    value = image.get("createdAt")
    if value is None:
        raise RecordError("item has no createdAt attribute (needed for the year/month/day partition)")
    if not isinstance(value, dict) or not isinstance(value.get("S"), str):
        raise RecordError(f"createdAt is not a string attribute: {value!r:.80}")
    return parse_timestamp(value["S"])


def lake_row(change: DynamoDBChange) -> str:
    """The JSON text (no newline) of the lake row for one change."""
    members = _json_members(change.image, skip=DROPPED_ATTRIBUTES)
    cdc = {
        "cdc_operation": change.event_name,
        "cdc_event_time": event_time(change.approximate_creation_date_time),
        "cdc_event_id": change.event_id,
    }
    for name in change.image:
        if name not in DROPPED_ATTRIBUTES and snake_case(name) in cdc:
            raise RecordError(f"attribute {name!r} collides with the added column {snake_case(name)!r}")
    members.extend(_encode_str(k) + ":" + json.dumps(v) for k, v in cdc.items())
    return "{" + ",".join(members) + "}"


def transform(record: FirehoseRecord) -> TransformedRecord:
    """One Firehose record -> Ok with the lake row, or ProcessingFailed with the data unchanged."""
    try:
        if not isinstance(record.data, str):
            raise RecordError("data is not a base64 string")
        try:
            payload = base64.b64decode(record.data, validate=True)
        except (binascii.Error, ValueError) as err:
            raise RecordError(f"data is not valid base64: {err}") from None
        try:
            raw = json.loads(payload)
        except ValueError as err:  # JSONDecodeError and UnicodeDecodeError
            raise RecordError(f"data is not JSON: {err}") from None
        change = DynamoDBChange.from_dict(raw)
        keys = partition_keys(created_at_of(change.image))
        line = lake_row(change) + "\n"
        data = base64.b64encode(line.encode("utf-8")).decode("ascii")
        return TransformedRecord(record.record_id, OK, data, keys)
    except RecordError as err:
        return TransformedRecord(record.record_id, PROCESSING_FAILED, record.data, reason=str(err))
    except Exception as err:  # noqa: BLE001 - a surprise in one record must not fail the batch
        reason = f"unexpected {type(err).__name__}: {err}"
        return TransformedRecord(record.record_id, PROCESSING_FAILED, record.data, reason=reason)


def _log(**fields: Any) -> None:
    print(json.dumps(fields, default=str))  # one JSON line per event: CloudWatch Logs Insights can parse it


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Firehose data-transformation entry point."""
    firehose_event = FirehoseEvent.from_dict(event)
    results = [transform(record) for record in firehose_event.records]
    failed = 0
    for result in results:
        if result.result == PROCESSING_FAILED:
            failed += 1
            _log(level="WARN", message="record failed", recordId=result.record_id, reason=result.reason)
    _log(
        level="INFO",
        message="batch transformed",
        invocationId=firehose_event.invocation_id,
        records=len(results),
        ok=len(results) - failed,
        failed=failed,
    )
    return {"records": [result.to_dict() for result in results]}
