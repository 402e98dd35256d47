"""Glue (Hive) column types: from Arrow types and JSON values, parsed, merged and printed.

Pure functions. A parsed type is a small tuple tree:
``("prim", "bigint")``, ``("decimal", 12, 2)``, ``("array", T)``, ``("map", K, V)``,
``("struct", (("name", T), ...))``.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

HiveType = tuple

# Integer widths in widening order; a column seen as int in one file and bigint in another is bigint.
_INTEGERS = ("tinyint", "smallint", "int", "bigint")
_FLOATS = ("float", "double")
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class TypeSyntaxError(ValueError):
    """A Glue type string that does not parse."""


# -- Arrow → Glue --------------------------------------------------------------------------------
def arrow_to_glue(dt: Any) -> str:
    """The Glue type a crawler writes for a Parquet column of Arrow type `dt`."""
    import pyarrow as pa

    t = pa.types
    if t.is_dictionary(dt):
        return arrow_to_glue(dt.value_type)
    if t.is_boolean(dt):
        return "boolean"
    if t.is_int8(dt):
        return "tinyint"
    if t.is_int16(dt) or t.is_uint8(dt):
        return "smallint"
    if t.is_int32(dt) or t.is_uint16(dt):
        return "int"
    if t.is_int64(dt) or t.is_uint32(dt) or t.is_uint64(dt):
        return "bigint"
    if t.is_float16(dt) or t.is_float32(dt):
        return "float"
    if t.is_float64(dt):
        return "double"
    if t.is_decimal(dt):
        return f"decimal({dt.precision},{dt.scale})"
    if t.is_string(dt) or t.is_large_string(dt) or getattr(t, "is_string_view", lambda _x: False)(dt):
        return "string"
    if t.is_binary(dt) or t.is_large_binary(dt) or t.is_fixed_size_binary(dt):
        return "binary"
    if t.is_timestamp(dt):
        return "timestamp"
    if t.is_date(dt):
        return "date"
    if t.is_list(dt) or t.is_large_list(dt) or t.is_fixed_size_list(dt):
        return f"array<{arrow_to_glue(dt.value_type)}>"
    if t.is_map(dt):
        return f"map<{arrow_to_glue(dt.key_type)},{arrow_to_glue(dt.item_type)}>"
    if t.is_struct(dt):
        fields = ",".join(f"{dt.field(i).name}:{arrow_to_glue(dt.field(i).type)}" for i in range(dt.num_fields))
        return f"struct<{fields}>"
    # time-of-day, intervals, nulls: Hive has no faithful type; the crawler falls back to string.
    return "string"


# -- JSON → Glue ---------------------------------------------------------------------------------
def json_value_type(value: Any) -> str | None:
    """The Glue type of one JSON value (None for null: it says nothing about the type)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int" if _INT32_MIN <= value <= _INT32_MAX else "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        element: str | None = None
        for item in value:
            element = merge_types(element, json_value_type(item), lenient=True)
        return f"array<{element or 'string'}>"
    if isinstance(value, dict):
        fields: dict[str, str | None] = {}
        for key, item in value.items():
            fields[key] = merge_types(fields.get(key), json_value_type(item), lenient=True)
        return "struct<" + ",".join(f"{k}:{v or 'string'}" for k, v in fields.items()) + ">"
    return "string"


# -- parse / render ------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(<|>|,|:|\(|\)|[^<>,:()\s]+)")


def parse(text: str) -> HiveType:
    """Parse a Glue type string such as ``array<struct<a:int,b:decimal(10,2)>>``."""
    tokens = _TOKEN.findall(text)
    if "".join(tokens) != re.sub(r"\s+", "", text):
        raise TypeSyntaxError(f"cannot parse Glue type {text!r}")
    pos, result = _parse_at(tokens, 0, text)
    if pos != len(tokens):
        raise TypeSyntaxError(f"unexpected {''.join(tokens[pos:])!r} after a complete type in {text!r}")
    return result


def _expect(tokens: list[str], pos: int, token: str, text: str) -> int:
    if pos >= len(tokens) or tokens[pos] != token:
        raise TypeSyntaxError(f"expected {token!r} at token {pos} of Glue type {text!r}")
    return pos + 1


def _parse_at(tokens: list[str], pos: int, text: str) -> tuple[int, HiveType]:
    if pos >= len(tokens):
        raise TypeSyntaxError(f"Glue type {text!r} ends too early")
    name = tokens[pos].lower()
    pos += 1
    if name == "array":
        pos = _expect(tokens, pos, "<", text)
        pos, element = _parse_at(tokens, pos, text)
        return _expect(tokens, pos, ">", text), ("array", element)
    if name == "map":
        pos = _expect(tokens, pos, "<", text)
        pos, key = _parse_at(tokens, pos, text)
        pos = _expect(tokens, pos, ",", text)
        pos, value = _parse_at(tokens, pos, text)
        return _expect(tokens, pos, ">", text), ("map", key, value)
    if name == "struct":
        pos = _expect(tokens, pos, "<", text)
        fields: list[tuple[str, HiveType]] = []
        while pos < len(tokens) and tokens[pos] != ">":
            field = tokens[pos]
            pos = _expect(tokens, pos + 1, ":", text)
            pos, ftype = _parse_at(tokens, pos, text)
            fields.append((field, ftype))
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
        return _expect(tokens, pos, ">", text), ("struct", tuple(fields))
    if pos < len(tokens) and tokens[pos] == "(":
        args: list[int] = []
        pos += 1
        while pos < len(tokens) and tokens[pos] != ")":
            if tokens[pos] != ",":
                try:
                    args.append(int(tokens[pos]))
                except ValueError:
                    raise TypeSyntaxError(f"non-numeric argument {tokens[pos]!r} in Glue type {text!r}") from None
            pos += 1
        pos = _expect(tokens, pos, ")", text)
        if name == "decimal":
            precision, scale = (args + [10, 0])[:2] if args else (10, 0)
            return pos, ("decimal", precision, scale)
        return pos, ("prim", f"{name}({','.join(map(str, args))})")
    if name == "decimal":
        return pos, ("decimal", 10, 0)
    return pos, ("prim", name)


def render(t: HiveType) -> str:
    kind = t[0]
    if kind == "prim":
        return t[1]
    if kind == "decimal":
        return f"decimal({t[1]},{t[2]})"
    if kind == "array":
        return f"array<{render(t[1])}>"
    if kind == "map":
        return f"map<{render(t[1])},{render(t[2])}>"
    return "struct<" + ",".join(f"{n}:{render(ft)}" for n, ft in t[1]) + ">"


# -- merge ---------------------------------------------------------------------------------------
def merge_types(a: str | None, b: str | None, *, lenient: bool = False) -> str | None:
    """The type that holds values of both `a` and `b`; None when they conflict.

    Numbers widen (int + bigint → bigint, int + double → double), structs merge field by field.
    `lenient` (JSON inference) turns any other conflict into string instead of None.
    """
    if a is None:
        return b
    if b is None or a == b:
        return a
    merged = _merge(parse(a), parse(b))
    if merged is None:
        return "string" if lenient else None
    return render(merged)


def _merge(a: HiveType, b: HiveType) -> HiveType | None:
    if a == b:
        return a
    if a[0] == "prim" and b[0] == "prim":
        x, y = a[1], b[1]
        if x in _INTEGERS and y in _INTEGERS:
            return ("prim", max(x, y, key=_INTEGERS.index))
        numeric = _INTEGERS + _FLOATS
        if x in numeric and y in numeric:
            return ("prim", "double")
        return None
    if {a[0], b[0]} == {"prim", "decimal"}:
        other = a[1] if a[0] == "prim" else b[1]
        dec = a if a[0] == "decimal" else b
        if other in _FLOATS:
            return ("prim", "double")
        if other in _INTEGERS:  # room for a bigint's 19 digits left of the point
            return ("decimal", min(38, max(dec[1], 19 + dec[2])), dec[2])
        return None
    if a[0] == "decimal" and b[0] == "decimal":
        scale = max(a[2], b[2])
        digits = max(a[1] - a[2], b[1] - b[2])
        return ("decimal", min(38, digits + scale), scale)
    if a[0] == b[0] == "array":
        element = _merge(a[1], b[1])
        return None if element is None else ("array", element)
    if a[0] == b[0] == "map":
        key, value = _merge(a[1], b[1]), _merge(a[2], b[2])
        return None if key is None or value is None else ("map", key, value)
    if a[0] == b[0] == "struct":
        fields = dict(a[1])
        for name, ftype in b[1]:
            if name in fields:
                merged = _merge(fields[name], ftype)
                if merged is None:
                    return None
                fields[name] = merged
            else:
                fields[name] = ftype
        return ("struct", tuple(fields.items()))
    return None


def merge_columns(
    columns_list: Iterable[Iterable[tuple[str, str]]],
) -> tuple[list[tuple[str, str]], list[str]]:
    """Union of several column lists in first-seen order, types merged.

    Returns the columns and a message per conflict (the first-seen type is kept for those).
    """
    merged: dict[str, str] = {}
    conflicts: list[str] = []
    for columns in columns_list:
        for name, ctype in columns:
            if name not in merged:
                merged[name] = ctype
                continue
            combined = merge_types(merged[name], ctype)
            if combined is None:
                message = f"column {name}: {merged[name]} vs {ctype}"
                if message not in conflicts:
                    conflicts.append(message)
            else:
                merged[name] = combined
    return list(merged.items()), conflicts

