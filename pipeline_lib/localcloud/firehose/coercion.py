"""A JSON value to the value of a column's Hive type, as Firehose's OpenX / Hive JSON SerDes
coerce it (the per-column half of record format conversion; conversion.py's `Converter` parses
records, projects them onto the columns with `Coercion.projector` and writes Parquet). The
semantics are described in conversion.py. The scalar types' coercers are in scalar_coercers.py,
TimestampFormats in timestamp_formats.py; this module picks them per column and builds the
nested ones (array, struct, map) and the key matching of objects.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from pipeline_lib.schema import (
    INTEGER_RANGES,
    ArrayType,
    CharType,
    DecimalType,
    HiveType,
    MapType,
    PrimitiveType,
    StructType,
)

from . import scalar_coercers as scalar
from .coercion_errors import ConversionError, Mismatch, SchemaConversionError
from .scalar_coercers import EPOCH_MILLIS_FLOOR
from .timestamp_formats import TimestampFormat

__all__ = ["EPOCH_MILLIS_FLOOR", "Coercion", "ConversionError", "Mismatch", "SchemaConversionError"]


# ----------------------------------------------------------------------------------------------
# The converter

class Coercion:
    """Per-column coercers for one SerDe configuration: `coercer(type, path)` -> fn(non-null JSON
    value) -> the column's value, raising `Mismatch` (or ValueError / ArithmeticError) when the
    value does not fit; `projector` maps a JSON object onto columns in one pass."""

    def __init__(self, *, hive: bool, case_insensitive: bool, dots_to_underscores: bool,
                 timestamp_formats: Iterable[str] | None):
        self.hive = hive
        self.case_insensitive = case_insensitive
        self.dots_to_underscores = dots_to_underscores
        self.timestamp_formats = [TimestampFormat(p) for p in (timestamp_formats or [])]
        self._reject_numeric_text = hive
        # Keys need normalizing (lower case, dots) before they can match: look up through an index.
        self._indexed = case_insensitive or dots_to_underscores
        self._norm_cache: dict[str, str] = {}

    def normalize(self, key: str) -> str:
        if self.dots_to_underscores:
            key = key.replace(".", "_")
        return key.lower() if self.case_insensitive else key

    def normalized(self, key: str) -> str:
        """`normalize` with a cache: records repeat the same keys."""
        found = self._norm_cache.get(key)
        if found is None:
            found = self.normalize(key)
            if len(self._norm_cache) < 100_000:  # bounded: keys may be data (map-like records)
                self._norm_cache[key] = found
        return found

    def projector(self, targets: list[tuple[str, str, Callable[[Any], Any]]]) -> Callable[[dict], dict]:
        """fn(JSON object) -> {name: coerced value} for (name, normalized JSON key, coerce) targets:
        one pass over the object's keys; unknown keys dropped, missing ones null."""
        template: dict[str, Any] = dict.fromkeys(name for name, _key, _coerce in targets)
        by_key: dict[str, list[tuple[str, Callable[[Any], Any]]]] = {}
        for name, key, coerce in targets:
            by_key.setdefault(key, []).append((name, coerce))
        cache = self._norm_cache
        normalized = self.normalized

        if not self._indexed:
            def project(obj: dict) -> dict:
                out = template.copy()
                for key, value in obj.items():
                    for name, coerce in by_key.get(key, ()):
                        out[name] = None if value is None else coerce(value)
                return out
            return project

        def project_normalized(obj: dict) -> dict:
            out = template.copy()
            # Reversed, so that of two keys normalizing alike the first one written wins.
            for key, value in reversed(obj.items()):
                for name, coerce in by_key.get(cache.get(key) or normalized(key), ()):
                    out[name] = None if value is None else coerce(value)
            return out
        return project_normalized

    # -- coercers (built once per column; each takes a non-null JSON value) ---------------------
    def coercer(self, t: HiveType, path: str) -> Callable[[Any], Any]:
        if isinstance(t, PrimitiveType):
            name = t.name
            if name == "string":
                return scalar.string(path, None, hive=self.hive, lower=self.case_insensitive)
            if name in INTEGER_RANGES:
                return scalar.integral(name, path, reject_text=self._reject_numeric_text)
            if name in ("float", "double"):
                return scalar.floating(name, path, reject_text=self._reject_numeric_text)
            if name == "boolean":
                return scalar.boolean(path, hive=self.hive)
            if name == "timestamp":
                return scalar.timestamp(path, formats=self.timestamp_formats, hive=self.hive)
            if name == "date":
                return scalar.date_days(path)
            raise SchemaConversionError(f"Column {path!r}: type {name} is not supported for JSON conversion.")
        if isinstance(t, CharType):
            return scalar.string(path, t.length, hive=self.hive, lower=self.case_insensitive)
        if isinstance(t, DecimalType):
            return scalar.decimal(t, path, reject_text=self._reject_numeric_text)
        if isinstance(t, ArrayType):
            return self._array(t, path)
        if isinstance(t, StructType):
            return self._struct(t, path)
        if isinstance(t, MapType):
            return self._map(t, path)
        raise SchemaConversionError(f"Column {path!r}: unsupported type {t}")

    def _key_coercer(self, t: HiveType, path: str) -> Callable[[Any], Any]:
        """Map keys are JSON object keys, always text: numeric key types parse it, even under Hive."""
        saved, self._reject_numeric_text = self._reject_numeric_text, False
        try:
            return self.coercer(t, path)
        finally:
            self._reject_numeric_text = saved

    def _array(self, t: ArrayType, path: str) -> Callable[[Any], list]:
        element = self.coercer(t.element, f"{path}[]")
        hive = self.hive

        def coerce(value: Any) -> list:
            if type(value) is list:
                return [None if v is None else element(v) for v in value]
            if hive:
                raise Mismatch("java.io.IOException: Start of Array expected")
            return [element(value)]  # OpenX wraps a lone value into an array

        return coerce

    def _struct(self, t: StructType, path: str) -> Callable[[Any], dict]:
        fields = [(f.name, self.normalize(f.name), self.coercer(f.type, f"{path}.{f.name}")) for f in t.fields]
        project = self.projector(fields)
        hive = self.hive

        def coerce(value: Any) -> dict:
            kind = type(value)
            if kind is dict:
                return project(value)
            if hive:
                raise Mismatch("java.io.IOException: Start of Object expected")
            if kind is list:  # OpenX fills a struct from an array by position
                return {name: (None if i >= len(value) or value[i] is None else field(value[i]))
                        for i, (name, _key, field) in enumerate(fields)}
            raise Mismatch(f"Data is not JSONObject  but {scalar.java_class(value)} with value {scalar.java_text(value)}")

        return coerce

    def _map(self, t: MapType, path: str) -> Callable[[Any], list]:
        key_coerce = self._key_coercer(t.key, f"{path}.key")
        value_coerce = self.coercer(t.value, f"{path}.value")
        lower = self.case_insensitive and not self.hive

        def coerce(value: Any) -> list:
            if type(value) is dict:
                return [
                    (key_coerce(k.lower() if lower else k), None if v is None else value_coerce(v))
                    for k, v in value.items()
                ]
            if self.hive:
                raise Mismatch("java.io.IOException: Start of Object expected")
            if type(value) is list:
                raise Mismatch(f"A map column cannot hold a JSON array (column {path}).")
            raise Mismatch(f"Data is not JSONObject  but {scalar.java_class(value)} with value {scalar.java_text(value)}")

        return coerce
