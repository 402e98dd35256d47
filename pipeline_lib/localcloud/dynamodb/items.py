"""moto's Item, built with one size check instead of one per attribute, and sizes summed without
moto's generic walk.

moto's `Item.__init__` stores attributes in a LimitedSizeDict whose every `__setitem__` re-sums
the sizes of all attributes set so far (to refuse items over DynamoDB's 400 KB): quadratic in an
item's attributes, and a large share of each write. Sizes are never negative, so the sum passing
the limit at some insertion is the same as the final sum passing it: the same ItemSizeTooLarge
for the same items, checked once. `attribute_size` is `DynamoType.size()` with the common types
(strings, numbers, binaries, booleans, null, string and number sets, lists and maps of them)
summed directly; anything else is asked of moto. Items whose attributes can be packed
(compact.py) are stored packed (packed.py), the others as moto stores them.
"""
from __future__ import annotations

import base64
from typing import Any, Callable

import orjson

from .compact import packable_size
from .packed import pack

__all__ = ["ITEM_SIZE_LIMIT", "attribute_size", "item_init", "json_dump"]

ITEM_SIZE_LIMIT = 405000  # moto's: AWS's 400 KB, measured between 409 and 410 KB
_COMPOSITE = frozenset({"SS", "NS", "BS", "L", "M"})


def _text_size(text: str) -> int:
    """moto's bytesize: a str's UTF-8 length (bytes: their length)."""
    if type(text) is str:
        return len(text) if text.isascii() else len(text.encode("utf-8"))
    return len(text if isinstance(text, bytes) else text.encode("utf-8"))


def attribute_size(typed: Any) -> int:
    """`typed.size()` of a moto DynamoType, the same number, in moto's order of cases."""
    kind, value = typed.type, typed.value
    if kind == "N":
        return len(str(value))
    if kind in _COMPOSITE:
        if type(value) is list:
            if kind == "SS":
                total = 0
                for member in value:
                    if type(member) is not str:
                        return typed.size()
                    total += len(member) if member.isascii() else len(member.encode("utf-8"))
                return total
            if kind == "NS":
                return sum([len(str(member)) for member in value])
            if kind == "L":  # members are DynamoTypes (DynamoType.__init__ made them)
                total = 0
                for member in value:
                    if type(member) is not type(typed):
                        return typed.size()
                    total += attribute_size(member)
                return total
        elif kind == "M" and type(value) is dict:
            total = 0
            for name, member in value.items():
                if type(member) is not type(typed):
                    return typed.size()
                total += _text_size(name) + attribute_size(member)
            return total
        return typed.size()  # lists, maps, binary sets, anything odd: moto's walk
    kind_of_value = type(value)
    if kind_of_value is str:
        return _text_size(value)
    if kind_of_value is bytes:
        return len(value)
    if kind_of_value is bool:
        return 1
    return typed.size()


def item_init(original: Callable) -> Callable:
    """moto's Item.__init__: the attributes packed (compact.py) when they can be, else moto's
    LimitedSizeDict of DynamoTypes; the same ItemSizeTooLarge for the same items either way."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        size = packable_size(attrs)
        if size is not None:
            if size > ITEM_SIZE_LIMIT:
                raise ItemSizeTooLarge
            try:
                packed = pack(attrs)
            except orjson.JSONEncodeError:  # a str orjson refuses (lone surrogates): moto's way
                packed = None
            if packed is not None:
                self._packed, self._size, self._plain = packed, size, None
                return
        values = LimitedSizeDict.__new__(LimitedSizeDict)
        total = 0
        for key, value in attrs.items():
            typed = DynamoType(value)
            total += _text_size(key) + attribute_size(typed)
            dict.__setitem__(values, key, typed)  # LimitedSizeDict's own check is the quadratic one
        if total > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = values

    return __init__


def _json_default(value: Any) -> Any:
    """What moto's DynamoJsonEncoder makes of what JSON has no type for."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("utf-8")
    if hasattr(value, "to_json"):
        return value.to_json()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_dump(dynamo_object: Any) -> str:
    """moto's `dynamo_json_dump` (json.dumps with its DynamoJsonEncoder) through orjson: the
    same values and key order, without spaces. BatchWriteItem compares these texts to find
    duplicate requests, and two requests' texts are equal here exactly when they are in moto."""
    return orjson.dumps(dynamo_object, default=_json_default).decode("utf-8")
