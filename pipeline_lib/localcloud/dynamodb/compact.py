"""An item's attributes as one bytes object (pure logic): which attributes can be packed, their
DynamoDB size, and moto's DynamoTypes turned back into the typed JSON they were built from.

A packed item is `orjson.dumps` of its typed JSON (`{"name": {"S": "x"}, ...}`), exactly what
moto's `Item.to_json()["Attributes"]` gives for it, and `DynamoType(v)` for each value loaded
back builds the same objects moto's `Item.__init__` builds. That holds when every value is plain
JSON whose round trip is exact: one-key AttributeValues of the types below with str/bool members.
Binary values (bytes in moto, base64 text in JSON: not told apart once loaded) and anything odd
are not packed; such items stay as moto keeps them.
"""
from __future__ import annotations

from typing import Any

__all__ = ["packable_size", "typed_json"]


def _text(value: str) -> int:
    return len(value) if value.isascii() else len(value.encode("utf-8"))


def _value_size(typed: Any) -> int | None:
    """DynamoType(typed).size() for a packable AttributeValue, or None if it is not packable."""
    if type(typed) is not dict or len(typed) != 1:
        return None
    for kind, value in typed.items():
        kind_of_value = type(value)
        if kind == "S":
            return _text(value) if kind_of_value is str else None
        if kind == "N":  # moto: len(str(value)), characters not bytes
            return len(value) if kind_of_value is str else None
        if kind == "BOOL" or kind == "NULL":
            return 1 if kind_of_value is bool else None
        if kind_of_value is list:
            total = 0
            if kind == "SS" or kind == "NS":
                measure = _text if kind == "SS" else len  # NS, as N: characters
                for member in value:
                    if type(member) is not str:
                        return None
                    total += measure(member)
                return total
            if kind == "L":
                for member in value:
                    size = _value_size(member)
                    if size is None:
                        return None
                    total += size
                return total
            return None
        if kind == "M" and kind_of_value is dict:
            total = 0
            for name, member in value.items():
                size = _value_size(member)
                if size is None or type(name) is not str:
                    return None
                total += _text(name) + size
            return total
        return None  # B, BS, unknown types, mistyped values
    return None


def packable_size(attrs: dict[str, Any]) -> int | None:
    """The item's size as moto's `Item.size()` counts it (names + values), or None when an
    attribute cannot be packed exactly (then the item is kept as moto keeps it)."""
    if type(attrs) is not dict:
        return None
    total = 0
    for name, typed in attrs.items():
        size = _value_size(typed)
        if size is None or type(name) is not str:
            return None
        total += _text(name) + size
    return total


class _Unpackable:
    """Stands where a value is not a DynamoType (a raw value a write put in a list or map):
    loading the packed form would make it one, so the item is not packed."""


_UNPACKABLE = _Unpackable()


def _typed(value: Any, dynamo_type: type) -> Any:
    """A DynamoType as the typed JSON it was built from (L and M members recursively)."""
    if type(value) is not dynamo_type:
        return _UNPACKABLE
    kind, inner = value.type, value.value
    if kind == "L" and type(inner) is list:
        inner = [_typed(member, dynamo_type) for member in inner]
    elif kind == "M" and type(inner) is dict:
        inner = {name: _typed(member, dynamo_type) for name, member in inner.items()}
    elif type(inner) is list:  # sets: their members are plain values
        inner = list(inner)
    return {kind: inner}


def typed_json(attrs: dict[str, Any], dynamo_type: type) -> dict[str, Any]:
    """moto's attributes (name -> DynamoType) as typed JSON, to be packed again after a write
    changed them; `packable_size` of the result says whether it can be."""
    return {name: _typed(value, dynamo_type) for name, value in attrs.items()}
