"""The few protocol-buffer (proto3) wire pieces the local cloud writes: Athena's result
`.metadata` files and KPL-aggregated Kinesis records (firehose/deaggregation.py reads them too)."""
from __future__ import annotations

__all__ = ["key", "length_delimited", "varint"]


def varint(value: int) -> bytes:
    """A base-128 varint; negative int32/int64 values as proto3 encodes them (10 bytes)."""
    if value < 0:
        value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def key(field: int, wire_type: int) -> bytes:
    """A field's key: its number and wire type (0 varint, 2 length-delimited)."""
    return varint(field << 3 | wire_type)


def length_delimited(field: int, payload: bytes) -> bytes:
    """A length-delimited field (bytes, strings, embedded messages)."""
    return key(field, 2) + varint(len(payload)) + payload
