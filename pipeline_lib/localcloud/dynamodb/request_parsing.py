"""moto's JSON request parse (moto.core.parse.JSONParser), compiled once per operation.

moto parses every request by walking the operation's botocore input shape generically
(`getattr(self, f"_parse_{type}")` per node, every member of every structure tried), which is
most of a DynamoDB write's cost: an item is a map of AttributeValue structures of ten members
each. Here each shape becomes a small closure once (recursive shapes through a cache), with the
same results: unknown and null structure members dropped, blobs base64-decoded, numbers as
float/int, timestamps through moto's parser, documents as they are; a body that is not JSON
becomes {"message": body} as in moto. The body is decoded with orjson.
"""
from __future__ import annotations

import base64
from typing import Any, Callable

import orjson

__all__ = ["CompiledParser", "compile_shape"]

Parse = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def compile_shape(shape: Any, timestamp: Parse, cache: dict[str, Parse] | None = None) -> Parse:
    """A function parsing a JSON value of `shape` as moto's BaseJSONParser._parse_shape does."""
    cache = {} if cache is None else cache
    kind = shape.type_name
    if kind == "structure":
        key = f"structure:{shape.name}"
        if key in cache:
            return cache[key]
        if shape.is_document_type:
            cache[key] = _identity
            return _identity
        members: dict[str, tuple[str, Parse]] = {}

        def parse_structure(value: Any) -> Any:
            if value is None:
                return None
            out = {}
            for json_name, raw in value.items():  # moto: value.get(json_name) for every member
                member = members.get(json_name)
                if member is not None and raw is not None:
                    out[member[0]] = member[1](raw)
            return out

        cache[key] = parse_structure  # before the members: AttributeValue contains itself
        for name, member_shape in shape.members.items():
            members[member_shape.serialization.get("name", name)] = (name, compile_shape(member_shape, timestamp, cache))
        return parse_structure
    if kind == "list":
        member = compile_shape(shape.member, timestamp, cache)
        if member is _identity:
            return list
        return lambda node: [member(item) for item in node]
    if kind == "map":
        keys, values = compile_shape(shape.key, timestamp, cache), compile_shape(shape.value, timestamp, cache)
        if keys is _identity and values is _identity:
            return dict
        return lambda node: {keys(k): values(v) for k, v in node.items()}
    if kind == "blob":
        return base64.b64decode
    if kind == "timestamp":
        return timestamp
    if kind in ("float", "double"):
        return float
    if kind in ("integer", "long", "short", "byte"):
        return int
    return _identity  # string, boolean: as JSON gave them


class CompiledParser:
    """One operation's request parse: `parse(body bytes) -> params` (moto's JSONParser.parse)."""

    def __init__(self, operation_model: Any, timestamp: Parse, cache: dict[str, Parse]):
        shape = operation_model.input_shape
        self._parse = compile_shape(shape, timestamp, cache) if shape is not None else None

    def parse(self, body: bytes | str) -> Any:
        if self._parse is None:
            return {}
        if not body:
            return self._parse({})
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
            document = {"message": text}
        return self._parse(document)
