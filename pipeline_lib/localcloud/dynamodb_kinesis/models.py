"""The DynamoDB → Kinesis change record, built from an item's old and new images (pure logic).

The format is "Kinesis Data Streams for DynamoDB", not DynamoDB Streams: no eventVersion,
SequenceNumber or StreamViewType; both images always; ApproximateCreationDateTime as epoch
milliseconds (or microseconds, and then the record says so in ApproximateCreationDateTimePrecision,
as AWS's records do). Field order follows AWS's records. SizeBytes is the DynamoDB item size
(attribute names + values, per the developer guide's sizing rules) of Keys + NewImage + OldImage,
which reproduces the SizeBytes of AWS's published sample records exactly.

Images are DynamoDB JSON (``{"attr": {"S": "x"}}``) as moto renders items; binary values may be
bytes (moto) or base64 text (JSON) and are written as base64.
"""
from __future__ import annotations

import base64
import hashlib
import orjson
from dataclasses import dataclass
from typing import Any

MILLISECOND = "MILLISECOND"
MICROSECOND = "MICROSECOND"
PRECISIONS = (MILLISECOND, MICROSECOND)

Image = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Change:
    """One committed item change, captured under the table's lock."""

    table_name: str
    region: str
    key_names: tuple[str, ...]  # hash key, then range key if the table has one
    old_image: Image | None
    new_image: Image | None
    time_ns: int  # commit time, epoch nanoseconds
    stream_arn: str
    precision: str


def event_name(old_image: Image | None, new_image: Image | None) -> str:
    if old_image is None and new_image is None:
        raise ValueError("a change needs an old image, a new image or both")
    if old_image is None:
        return "INSERT"
    if new_image is None:
        return "REMOVE"
    return "MODIFY"


def keys_of(image: Image, key_names: tuple[str, ...]) -> Image:
    missing = [name for name in key_names if name not in image]
    if missing:
        raise ValueError(f"the image lacks key attribute(s) {missing}")
    return {name: image[name] for name in key_names}


def approximate_creation_date_time(time_ns: int, precision: str) -> int:
    if precision == MILLISECOND:
        return time_ns // 1_000_000
    if precision == MICROSECOND:
        return time_ns // 1_000
    raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")


def _binary_length(value: Any) -> int:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return len(base64.b64decode(value))


def _number_size(text: Any) -> int:
    # 1 byte per two significant digits plus 1; leading and trailing zeroes do not count.
    mantissa = str(text).strip().lstrip("+-").split("e")[0].split("E")[0]
    digits = mantissa.replace(".", "").lstrip("0").rstrip("0")
    return (len(digits) + 1) // 2 + 1


def _text_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))  # isascii is O(1)


def value_size(value: dict[str, Any]) -> int:
    """Size in bytes of one DynamoDB attribute value (without its name)."""
    (kind, inner), = value.items()
    if kind == "S":
        return _text_size(inner)
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return _binary_length(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_text_size(s) for s in inner)
    if kind == "NS":
        return sum(_number_size(n) for n in inner)
    if kind == "BS":
        return sum(_binary_length(b) for b in inner)
    if kind == "L":  # 3 bytes of overhead, plus 1 per element
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(_text_size(k) + value_size(v) + 1 for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def image_size(image: Image | None) -> int:
    if not image:
        return 0
    # value_size, with the common kinds (S, N) inline: this runs for every attribute of every change.
    total = 0
    for name, value in image.items():
        total += len(name) if name.isascii() else len(name.encode("utf-8"))
        if len(value) == 1:
            kind = next(iter(value))
            if kind == "S":
                inner = value["S"]
                total += len(inner) if inner.isascii() else len(inner.encode("utf-8"))
                continue
            if kind == "N":
                total += _number_size(value["N"])
                continue
        total += value_size(value)
    return total


def partition_key(table_name: str, keys: Image) -> str:
    """A stable Kinesis partition key per item (so one item's records share a shard and stay ordered).

    AWS uses an MD5-looking hex string derived from the item; this is the MD5 of the table name and
    the item's key attributes (names, types and values, in name order).
    """
    digest = hashlib.md5(table_name.encode("utf-8"))
    for name in sorted(keys):
        (kind, value), = keys[name].items()
        if isinstance(value, (bytes, bytearray)):
            value = base64.b64encode(value).decode("ascii")
        digest.update(f"\x1f{name}\x1e{kind}\x1e{value}".encode())
    return digest.hexdigest().upper()


def build_record(change: Change, event_id: str) -> dict[str, Any]:
    """The JSON document AWS writes to the stream for one change."""
    image = change.new_image if change.new_image is not None else change.old_image
    keys = keys_of(image or {}, change.key_names)
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": approximate_creation_date_time(change.time_ns, change.precision),
        "Keys": keys,
    }
    if change.new_image is not None:
        dynamodb["NewImage"] = change.new_image
    if change.old_image is not None:
        dynamodb["OldImage"] = change.old_image
    dynamodb["SizeBytes"] = image_size(keys) + image_size(change.new_image) + image_size(change.old_image)
    if change.precision == MICROSECOND:
        dynamodb["ApproximateCreationDateTimePrecision"] = MICROSECOND
    return {
        "awsRegion": change.region,
        "eventID": event_id,
        "eventName": event_name(change.old_image, change.new_image),
        "userIdentity": None,
        "recordFormat": "application/json",
        "tableName": change.table_name,
        "dynamodb": dynamodb,
        "eventSource": "aws:dynamodb",
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} into a change record")


def encode_record(record: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as AWS writes it: the bytes of ``json.dumps(record, separators=(",",
    ":"), ensure_ascii=False)`` (orjson writes them about ten times faster; records hold no floats,
    the one place their output differs)."""
    return orjson.dumps(record, default=_json_default)
