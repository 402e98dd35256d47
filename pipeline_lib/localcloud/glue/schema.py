"""What a crawler does with Glue (Hive) column types: infer them from JSON values, and merge
(widen) them across records and files.

Pure functions over pipeline_lib.schema's typed trees; that module parses, prints and maps
Arrow types (`from_arrow(..., lenient=True)` is what the crawler records for Parquet columns).
Column types travel as strings (FileSchema, table inputs), so `merge_types` and `merge_columns`
take and return strings, parsed in catalog mode: a crawler writes struct field names that are
JSON keys (`first-name`) and empty structs, which Hive's syntax has no room for.
"""
from __future__ import annotations

from typing import Any, Iterable

from pipeline_lib.schema import (
    INTEGER_RANGES,
    MAX_DECIMAL_PRECISION,
    ArrayType,
    DecimalType,
    HiveType,
    MapType,
    PrimitiveType,
    StructField,
    StructType,
    TypeStringError,
    parse_type,
)

# Integer widths in widening order; a column seen as int in one file and bigint in another is bigint.
_INTEGERS = tuple(INTEGER_RANGES)
_FLOATS = ("float", "double")
_INT32_MIN, _INT32_MAX = INTEGER_RANGES["int"]
_BIGINT_DIGITS = 19  # room a decimal needs left of the point to hold any integer type
STRING = PrimitiveType("string")


# -- JSON → Glue ---------------------------------------------------------------------------------
def json_type(value: Any) -> HiveType | None:
    """The Glue type of one JSON value (None for null: it says nothing about the type)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return PrimitiveType("boolean")
    if isinstance(value, int):
        return PrimitiveType("int" if _INT32_MIN <= value <= _INT32_MAX else "bigint")
    if isinstance(value, float):
        return PrimitiveType("double")
    if isinstance(value, str):
        return STRING
    if isinstance(value, list):
        element: HiveType | None = None
        for item in value:
            element = merge(element, json_type(item), lenient=True)
        return ArrayType(element or STRING)
    if isinstance(value, dict):
        # Keyed case-insensitively: Hive names are, so `a` and `A` are one field (first spelling kept).
        fields: dict[str, tuple[str, HiveType | None]] = {}
        for key, item in value.items():
            name, seen = fields.get(key.lower(), (key, None))
            fields[key.lower()] = (name, merge(seen, json_type(item), lenient=True))
        return StructType(tuple(StructField(name, t or STRING) for name, t in fields.values()))
    return STRING


# -- merge ---------------------------------------------------------------------------------------
def merge(a: HiveType | None, b: HiveType | None, *, lenient: bool = False) -> HiveType | None:
    """The type that holds values of both `a` and `b`; None when they conflict.

    Numbers widen (int + bigint → bigint, int + double → double), structs merge field by field.
    `lenient` (JSON inference) turns any other conflict into string instead of None.
    """
    if a is None:
        return b
    if b is None:
        return a
    merged = _merge(a, b)
    if merged is None and lenient:
        return STRING
    return merged


def merge_types(a: str | None, b: str | None, *, lenient: bool = False) -> str | None:
    """`merge` for type strings; a string that does not parse conflicts with any other."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    try:
        merged = merge(parse_type(a, catalog=True), parse_type(b, catalog=True), lenient=lenient)
    except TypeStringError:
        merged = STRING if lenient else None
    return None if merged is None else str(merged)


def _merge(a: HiveType, b: HiveType) -> HiveType | None:
    if a == b:
        return a
    if isinstance(a, PrimitiveType) and isinstance(b, PrimitiveType):
        x, y = a.name, b.name
        if x in _INTEGERS and y in _INTEGERS:
            return PrimitiveType(max(x, y, key=_INTEGERS.index))
        numeric = _INTEGERS + _FLOATS
        if x in numeric and y in numeric:
            return PrimitiveType("double")
        return None
    if isinstance(a, DecimalType) and isinstance(b, DecimalType):
        scale = max(a.scale, b.scale)
        digits = max(a.precision - a.scale, b.precision - b.scale)
        return DecimalType(min(MAX_DECIMAL_PRECISION, digits + scale), scale)
    if isinstance(a, DecimalType) or isinstance(b, DecimalType):
        dec, other = (a, b) if isinstance(a, DecimalType) else (b, a)
        if not isinstance(other, PrimitiveType):
            return None
        if other.name in _FLOATS:
            return PrimitiveType("double")
        if other.name in _INTEGERS:
            precision = min(MAX_DECIMAL_PRECISION, max(dec.precision, _BIGINT_DIGITS + dec.scale))
            return DecimalType(precision, dec.scale)
        return None
    if isinstance(a, ArrayType) and isinstance(b, ArrayType):
        element = _merge(a.element, b.element)
        return None if element is None else ArrayType(element)
    if isinstance(a, MapType) and isinstance(b, MapType):
        key, value = _merge(a.key, b.key), _merge(a.value, b.value)
        return None if key is None or value is None else MapType(key, value)
    if isinstance(a, StructType) and isinstance(b, StructType):
        fields = {f.name.lower(): f for f in a.fields}  # Hive matches field names case-insensitively
        for field in b.fields:
            known = fields.get(field.name.lower())
            if known is None:
                fields[field.name.lower()] = field
                continue
            merged = _merge(known.type, field.type)
            if merged is None:
                return None
            fields[field.name.lower()] = StructField(known.name, merged)
        return StructType(tuple(fields.values()))
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
