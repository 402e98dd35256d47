"""moto's Item, built with one size check instead of one per attribute.

moto's `Item.__init__` stores attributes in a LimitedSizeDict whose every `__setitem__` re-sums
the sizes of all attributes set so far (to refuse items over DynamoDB's 400 KB): quadratic in an
item's attributes, and a large share of each write. Sizes are never negative, so the sum passing
the limit at some insertion is the same as the final sum passing it: the same ItemSizeTooLarge
for the same items, checked once.
"""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["ITEM_SIZE_LIMIT", "item_init"]

ITEM_SIZE_LIMIT = 405000  # moto's: AWS's 400 KB, measured between 409 and 410 KB


def item_init(original: Callable) -> Callable:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = LimitedSizeDict.__new__(LimitedSizeDict)
        total = 0
        for key, value in attrs.items():
            typed = DynamoType(value)
            total += bytesize(key) + typed.size()
            dict.__setitem__(values, key, typed)  # LimitedSizeDict's own check is the quadratic one
        if total > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = values

    return __init__
