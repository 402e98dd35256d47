"""Coercers of the scalar Hive types (string, char, the integers, float, double, boolean,
decimal, date, timestamp), as the OpenX and Hive JSON SerDes coerce a JSON value: each factory
builds, once per column, fn(non-null JSON value) -> the column's value, raising `Mismatch` (or
ValueError / ArithmeticError) when the value does not fit. `Coercion` (coercion.py) picks them."""
from __future__ import annotations

import json
import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any, Callable

from pipeline_lib.schema import INTEGER_RANGES, DecimalType

from .coercion_errors import Mismatch
from .timestamp_formats import INTEGER_TEXT, TimestampFormat, days, nanos_of_day

__all__ = ["EPOCH_MILLIS_FLOOR", "boolean", "date_days", "decimal", "floating", "integral", "java_class",
           "java_text", "string", "timestamp"]

EPOCH_MILLIS_FLOOR = 10**12  # below: epoch seconds; at or above: epoch milliseconds
_NS_MIN, _NS_MAX = -(2**63), 2**63 - 1
_DECIMAL_CONTEXT = Context(prec=200, rounding=ROUND_HALF_UP, Emax=10**9, Emin=-(10**9))
_FLOAT32_MAX = 3.4028234663852886e38
_DOUBLE_TEXT = re.compile(r"\s*[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)[fFdD]?\s*")
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_EPOCH_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_ISO_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?"
)
_LENIENT_TIMESTAMP = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?")
_DATE_TEXT = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


# ----------------------------------------------------------------------------------------------
# Helpers


def _java_double_text(value: float) -> str:
    """Java's Double.toString (what OpenX puts in a string column for a JSON number)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)  # plain notation in this range, like Java
    shortest = Decimal(repr(value))  # the shortest digits that round-trip, as Java prints them
    digits = "".join(map(str, shortest.as_tuple().digits)).rstrip("0") or "0"
    return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:] or '0'}E{shortest.adjusted()}"


def java_class(value: Any) -> str:
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Long" if _NS_MIN <= value <= _NS_MAX else "java.math.BigInteger"
    if isinstance(value, (float, Decimal)):
        return "java.lang.Double"
    if isinstance(value, str):
        return "java.lang.String"
    if isinstance(value, dict):
        return "org.openx.data.jsonserde.json.JSONObject"
    return "org.openx.data.jsonserde.json.JSONArray" if isinstance(value, list) else type(value).__name__


def java_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (float, Decimal)):
        return _java_double_text(float(value))
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    raise TypeError(f"not JSON: {value!r}")


def _lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.setdefault(k.lower(), _lower_keys(v))
        return out
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def _check_ns(ns: int, text: Any, path: str) -> int:
    if not _NS_MIN <= ns <= _NS_MAX:
        raise Mismatch(f"Value {text} is out of range for column {path} of type timestamp.")
    return ns


def _epoch_to_ns(value: int | Decimal, path: str) -> int:
    """Epoch seconds (|v| < 1e12, fraction kept) or milliseconds, as nanoseconds."""
    if isinstance(value, int):
        ns = value * 1_000_000_000 if abs(value) < EPOCH_MILLIS_FLOOR else value * 1_000_000
        return _check_ns(ns, value, path)
    if not value.is_finite() or value.adjusted() > 25:
        raise Mismatch(f"Value {value} is out of range for column {path} of type timestamp.")
    if value.is_zero() or value.adjusted() < -10:
        return 0
    scale = 1_000_000_000 if abs(value) < EPOCH_MILLIS_FLOOR else 1_000_000
    ns = int(_DECIMAL_CONTEXT.multiply(value, scale).to_integral_value(rounding=ROUND_HALF_UP, context=_DECIMAL_CONTEXT))
    return _check_ns(ns, value, path)


def _text_refused() -> Mismatch:
    # The Hive JSON SerDe refuses strings in numeric columns (documented), with Jackson's message.
    return Mismatch("Current token (VALUE_STRING) not numeric, can not use numeric value accessors")


# ----------------------------------------------------------------------------------------------
# The coercers


def string(path: str, length: int | None, *, hive: bool, lower: bool) -> Callable[[Any], Any]:
    """string, or char(length): JSON scalars as Java prints them; objects and arrays as compact
    JSON (keys lower-cased when `lower`), refused under the Hive SerDe."""

    def coerce(value: Any) -> str:
        kind = type(value)
        if kind is str:
            text = value
        elif kind is bool:
            text = "true" if value else "false"
        elif kind is int:
            text = str(value)
        elif kind is Decimal:
            text = _java_double_text(float(value))
        elif hive:
            raise Mismatch("One or more fields have incorrect format. Exception when validating field (root)")
        else:
            text = _json_text(_lower_keys(value) if lower else value)
        return text[:length] if length is not None else text

    return coerce


def integral(type_name: str, path: str, *, reject_text: bool) -> Callable[[Any], int]:
    low, high = INTEGER_RANGES[type_name]

    def coerce(value: Any) -> int:
        kind = type(value)
        if kind is int:
            number = value
        elif kind is str:
            if reject_text:
                raise _text_refused()
            if not INTEGER_TEXT.fullmatch(value):
                raise Mismatch(f'For input string: "{value}"')
            number = int(value)
        elif kind is Decimal:
            raise Mismatch(f"Value {value} is not an integer, which column {path} of type {type_name} requires.")
        else:
            raise Mismatch(f"{java_class(value)} {java_text(value)} is not a valid {type_name} for column {path}.")
        if not low <= number <= high:
            raise Mismatch(f"Value {number} is out of range for column {path} of type {type_name}.")
        return number

    return coerce


def floating(type_name: str, path: str, *, reject_text: bool) -> Callable[[Any], float]:
    limit = _FLOAT32_MAX if type_name == "float" else math.inf

    def coerce(value: Any) -> float:
        kind = type(value)
        if kind is int or kind is Decimal:
            number = float(value)
            if math.isinf(number):
                raise Mismatch(f"Value {value} is out of range for column {path} of type {type_name}.")
        elif kind is str:
            if reject_text:
                raise _text_refused()
            match = _DOUBLE_TEXT.fullmatch(value)
            if not match:
                raise Mismatch(f'For input string: "{value}"')
            text = value.strip().rstrip("fFdD")
            number = float(text.replace("Infinity", "inf"))
        else:
            raise Mismatch(f"{java_class(value)} {java_text(value)} is not a valid {type_name} for column {path}.")
        if not math.isinf(number) and abs(number) > limit:
            raise Mismatch(f"Value {value} is out of range for column {path} of type {type_name}.")
        return number

    return coerce


def boolean(path: str, *, hive: bool) -> Callable[[Any], bool]:
    def coerce(value: Any) -> bool:
        if type(value) is bool:
            return value
        if isinstance(value, str) and not hive:
            lowered = value.lower()
            if lowered == "true":
                return True
            if lowered == "false":
                return False
        raise Mismatch(f"{java_class(value)} {java_text(value)} is not a valid boolean for column {path}.")

    return coerce


def decimal(t: DecimalType, path: str, *, reject_text: bool) -> Callable[[Any], Decimal]:
    precision, scale = t.precision, t.scale
    quantum = Decimal(1).scaleb(-scale)
    max_adjusted = precision - scale - 1  # highest power of ten the integer part may reach
    zero = Decimal(0).quantize(quantum)

    def coerce(value: Any) -> Decimal:
        kind = type(value)
        if kind is Decimal:
            number = value
        elif kind is int:
            number = Decimal(value)
        elif kind is str:
            if reject_text:
                raise _text_refused()
            if not _DECIMAL_TEXT.fullmatch(value):
                raise Mismatch(f'For input string: "{value}"')
            number = Decimal(value)
        else:
            raise Mismatch(f"{java_class(value)} {java_text(value)} is not a valid {t} for column {path}.")
        if not number.is_finite():
            raise Mismatch(f'For input string: "{value}"')
        # Decided from the exponent first: "1e1000000000" must not be written out.
        if number.is_zero() or number.adjusted() < -scale - 1:
            return zero
        if number.adjusted() > max_adjusted:
            raise Mismatch(f"Value {value} is out of range for column {path} of type {t}.")
        rounded = number.quantize(quantum, rounding=ROUND_HALF_UP, context=_DECIMAL_CONTEXT)
        # Quantized to `scale`, its digits are adjusted() + scale + 1 (a carry, 99.995 -> 100.00,
        # shows in adjusted()); cheaper than counting as_tuple().digits, a hot spot per value.
        if rounded.adjusted() > max_adjusted and not rounded.is_zero():
            raise Mismatch(f"Value {value} is out of range for column {path} of type {t}.")
        return rounded

    return coerce


def date_days(path: str) -> Callable[[Any], int]:
    def coerce(value: Any) -> int:
        if isinstance(value, str):
            match = _DATE_TEXT.fullmatch(value)
            if match:
                try:
                    return days(int(match[1]), int(match[2]), int(match[3]))
                except ValueError:
                    pass
            raise Mismatch(f'For input string: "{value}"')
        raise Mismatch(f"{java_class(value)} {java_text(value)} is not a valid date for column {path}.")

    return coerce


def timestamp(path: str, *, formats: list[TimestampFormat], hive: bool) -> Callable[[Any], int]:
    accepts_numbers = not hive or any(f.millis for f in formats)
    day_cache: dict[tuple[str, str, str], int] = {}  # days since the epoch by (y, m, d) text

    def from_text(text: str) -> int:
        for fmt in formats:
            ns = fmt.parse(text)
            if ns is not None:
                return _check_ns(ns, text, path)
        match = None if hive else _ISO_TIMESTAMP.fullmatch(text)
        offset = 0
        if match:
            zone = match[8]
            if zone and zone != "Z":
                sign = -1 if zone[0] == "-" else 1
                digits = zone[1:].replace(":", "")
                offset = sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
        else:
            match = _LENIENT_TIMESTAMP.fullmatch(text)
        if match:
            year, month, day, hour, minute, second, fraction = match.groups()[:7]
            try:
                day_number = day_cache.get((year, month, day))
                if day_number is None:
                    day_number = days(int(year), int(month), int(day))
                    if len(day_cache) < 100_000:
                        day_cache[(year, month, day)] = day_number
                ns = day_number * 86_400_000_000_000 + nanos_of_day(int(hour), int(minute), int(second), fraction)
            except ValueError:
                raise Mismatch(f'For input string: "{text}"') from None
            return _check_ns(ns - offset * 1_000_000_000, text, path)
        if not hive and _EPOCH_TEXT.fullmatch(text):
            return _epoch_to_ns(int(text) if INTEGER_TEXT.fullmatch(text) else Decimal(text), path)
        raise Mismatch(f'For input string: "{text}"')

    def coerce(value: Any) -> int:
        kind = type(value)
        if kind is str:
            return from_text(value)
        if (kind is int or kind is Decimal) and accepts_numbers:
            if hive:  # only through the `millis` format
                if kind is not int:
                    raise Mismatch(f"Value {value} is not epoch milliseconds for column {path}.")
                return _check_ns(value * 1_000_000, value, path)
            return _epoch_to_ns(value, path)
        raise Mismatch(f"{java_class(value)} {java_text(value)} is not a valid timestamp for column {path}.")

    return coerce
