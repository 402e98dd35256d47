"""Turning one incoming record into the records Firehose processes.

- KPL aggregation (Kinesis Producer Library): magic `F3 89 9A C2`, a protobuf
  `AggregatedRecord`, then the 16-byte MD5 of the protobuf bytes. Firehose de-aggregates such
  records when it reads a Kinesis data stream, before the Lambda. A record without the magic,
  too short, or whose MD5 does not match is a plain record (as the KCL treats it).
- The RecordDeAggregation processor (dynamic partitioning of aggregated data): SubRecordType
  JSON splits consecutive JSON objects (`{"a":1}{"a":2}` or JSON lines; an array is not a valid
  input), DELIMITED splits on the base64-encoded Delimiter. De-aggregation is capped at 500
  sub-records per record: a record with more passes through whole (it then typically fails
  metadata extraction), as does one that is not valid JSON.
- The Decompression processor (GZIP, for CloudWatch Logs subscriptions) and
  AppendDelimiterToRecord (a newline after every record).

The protobuf decoding is a minimal hand-written reader (varint and length-delimited fields).
"""
from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import re
import zlib
from dataclasses import dataclass
from typing import Iterable, Mapping

from .. import protobuf

KPL_MAGIC = b"\xf3\x89\x9a\xc2"
MD5_LENGTH = 16
MAX_SUB_RECORDS = 500
SUB_RECORD_TYPES = ("JSON", "DELIMITED")


class DeaggregationError(ValueError):
    """A record-processing configuration or input that cannot be handled."""


# ----------------------------------------------------------------------------------------------
# KPL aggregated records


@dataclass(frozen=True)
class SubRecord:
    data: bytes
    partition_key: str
    explicit_hash_key: str | None = None


class _ProtobufError(ValueError):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise _ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise _ProtobufError("varint too long")


def _fields(buf: bytes) -> Iterable[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of a protobuf message; skips 64/32-bit fields' meaning."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _ProtobufError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, wire, value
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise _ProtobufError("truncated length-delimited field")
            yield number, wire, buf[pos:pos + length]
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise _ProtobufError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise _ProtobufError("truncated fixed-width field")


def _decode_aggregated(message: bytes) -> list[SubRecord]:
    partition_keys: list[str] = []
    hash_keys: list[str] = []
    raw_records: list[bytes] = []
    for number, wire, value in _fields(message):
        if wire != 2:
            continue
        assert isinstance(value, bytes)
        if number == 1:
            partition_keys.append(value.decode("utf-8"))
        elif number == 2:
            hash_keys.append(value.decode("utf-8"))
        elif number == 3:
            raw_records.append(value)
    out: list[SubRecord] = []
    for raw in raw_records:
        pk_index: int | None = None
        ehk_index: int | None = None
        data: bytes | None = None
        for number, wire, value in _fields(raw):
            if number == 1 and wire == 0:
                pk_index = value  # type: ignore[assignment]
            elif number == 2 and wire == 0:
                ehk_index = value  # type: ignore[assignment]
            elif number == 3 and wire == 2:
                data = value  # type: ignore[assignment]
        if pk_index is None or data is None or pk_index >= len(partition_keys):
            raise _ProtobufError("record without partition_key_index or data")
        ehk = hash_keys[ehk_index] if ehk_index is not None and ehk_index < len(hash_keys) else None
        out.append(SubRecord(data, partition_keys[pk_index], ehk))
    return out


def decode_kpl(data: bytes) -> list[SubRecord] | None:
    """The sub-records of a KPL-aggregated record, or None when `data` is not one."""
    if len(data) <= len(KPL_MAGIC) + MD5_LENGTH or not data.startswith(KPL_MAGIC):
        return None
    message, digest = data[len(KPL_MAGIC):-MD5_LENGTH], data[-MD5_LENGTH:]
    if hashlib.md5(message).digest() != digest:
        return None
    try:
        return _decode_aggregated(message)
    except (_ProtobufError, UnicodeDecodeError):
        return None


def deaggregate(data: bytes) -> list[bytes]:
    """The user records inside a KPL-aggregated record; `[data]` (the same object) otherwise."""
    records = decode_kpl(data)
    if records is None:
        return [data]
    return [r.data for r in records]


def aggregate(records: Iterable[bytes | tuple[str, bytes]], partition_key: str = "a") -> bytes:
    """A KPL-aggregated record (as the KPL writes it) holding `records`: bytes, or
    (partition key, bytes) pairs. For tests and local producers."""
    keys: dict[str, int] = {}
    body = bytearray()
    for item in records:
        key, data = item if isinstance(item, tuple) else (partition_key, item)
        index = keys.setdefault(key, len(keys))
        record = protobuf.key(1, 0) + protobuf.varint(index) + protobuf.length_delimited(3, bytes(data))
        body += protobuf.length_delimited(3, record)
    message = b"".join(protobuf.length_delimited(1, k.encode("utf-8")) for k in keys) + bytes(body)
    return KPL_MAGIC + message + hashlib.md5(message).digest()


# ----------------------------------------------------------------------------------------------
# RecordDeAggregation processor

_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def split_json_records(data: bytes) -> list[bytes]:
    """Consecutive JSON objects, each as its own bytes (whitespace between them dropped).
    Returns `[data]` when the record is not a sequence of JSON objects or holds more than
    500 of them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return [data]
    decoder = json.JSONDecoder()
    parts: list[bytes] = []
    pos = _JSON_SPACE.match(text, 0).end()  # type: ignore[union-attr]
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except ValueError:
            return [data]
        if not isinstance(value, dict):
            return [data]
        parts.append(text[pos:end].encode("utf-8"))
        if len(parts) > MAX_SUB_RECORDS:
            return [data]
        pos = _JSON_SPACE.match(text, end).end()  # type: ignore[union-attr]
    return parts or [data]


def split_delimited_records(data: bytes, delimiter: bytes) -> list[bytes]:
    """`data` split on `delimiter`, empty pieces dropped; `[data]` beyond 500 pieces."""
    if not delimiter:
        raise DeaggregationError("the DELIMITED sub-record type needs a non-empty Delimiter")
    parts = [p for p in data.split(delimiter) if p]
    if not parts or len(parts) > MAX_SUB_RECORDS:
        return [data]
    return parts


class RecordDeAggregator:
    """The RecordDeAggregation processor: SubRecordType JSON or DELIMITED (Delimiter base64)."""

    def __init__(self, sub_record_type: str, delimiter_b64: str | None = None):
        if sub_record_type not in SUB_RECORD_TYPES:
            raise DeaggregationError(
                f"SubRecordType {sub_record_type!r} is not valid; use {' or '.join(SUB_RECORD_TYPES)}"
            )
        self.sub_record_type = sub_record_type
        self.delimiter: bytes | None = None
        if sub_record_type == "DELIMITED":
            if not delimiter_b64:
                raise DeaggregationError("SubRecordType DELIMITED needs a Delimiter parameter (base64, e.g. IyMjIw== for ####)")
            try:
                self.delimiter = base64.b64decode(delimiter_b64, validate=True)
            except (binascii.Error, ValueError):
                raise DeaggregationError(
                    f"Delimiter {delimiter_b64!r} is not base64: Firehose takes the delimiter base64-encoded "
                    "(#### is IyMjIw==)"
                ) from None
            if not self.delimiter:
                raise DeaggregationError("the Delimiter decodes to nothing")

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, str]) -> "RecordDeAggregator":
        if "SubRecordType" not in parameters:
            raise DeaggregationError("the RecordDeAggregation processor needs a SubRecordType parameter (JSON or DELIMITED)")
        return cls(parameters["SubRecordType"], parameters.get("Delimiter"))

    def split(self, data: bytes) -> list[bytes]:
        if self.delimiter is not None:
            return split_delimited_records(data, self.delimiter)
        return split_json_records(data)


# ----------------------------------------------------------------------------------------------
# Decompression and AppendDelimiterToRecord processors


def decompress(data: bytes, compression_format: str = "GZIP") -> bytes:
    """The Decompression processor (CompressionFormat GZIP)."""
    if compression_format != "GZIP":
        raise DeaggregationError(f"CompressionFormat {compression_format!r} is not supported by Decompression; use GZIP")
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise DeaggregationError(f"the record is not GZIP-compressed data: {exc}") from None


def append_delimiter(data: bytes, delimiter: bytes = b"\n") -> bytes:
    """AppendDelimiterToRecord: a new line after the record."""
    return data + delimiter


# ----------------------------------------------------------------------------------------------
# A delivery engine's batch


def deaggregate_records(batch: list, kinesis_source: bool, parameters: Mapping[str, str] | None) -> list:
    """KPL de-aggregation (`kinesis_source`), then the RecordDeAggregation processor
    (`parameters`, or None without one), over engine records (records.InRecord): a record that
    splits gets one record per part, `record_id` suffixed and `subsequence_number` the part's."""
    from .records import InRecord

    splitter = RecordDeAggregator.from_parameters(parameters) if parameters else None
    out: list[InRecord] = []
    for record in batch:
        parts = deaggregate(record.data) if kinesis_source else [record.data]
        if splitter is not None:
            parts = [piece for part in parts for piece in splitter.split(part)]
        if len(parts) == 1:
            out.append(record if parts[0] is record.data else
                       InRecord(record.record_id, parts[0], record.arrival_ms, record.shard_id,
                                record.partition_key, record.sequence_number, record.subsequence_number))
            continue
        for i, part in enumerate(parts):
            out.append(InRecord(f"{record.record_id}{i:06d}", part, record.arrival_ms, record.shard_id,
                                record.partition_key, record.sequence_number, i))
    return out
