"""DynamoDB's request path made cheap: moto's tables and behaviour, parsed and built faster.

moto's DynamoDB spends most of a write parsing the request against the botocore model (a
generic walk over every AttributeValue) and re-summing an item's size for every attribute it
sets (quadratic in the attributes). `request_parsing` compiles the same parse once per operation;
`items` builds an Item with one size check. moto keeps an item as a DynamoType object per
attribute (about 4.3 KB for a 550-byte item); `items` and `compact` keep it as its JSON in one
bytes object and build moto's objects only when moto's code reads them. Behaviour is moto's,
byte for byte (tests/unit/test_dynamodb_compact_items.py).
"""
from __future__ import annotations

from .extension import DynamoDBExtension, extension

__all__ = ["DynamoDBExtension", "extension"]
