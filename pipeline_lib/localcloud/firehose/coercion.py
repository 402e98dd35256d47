"""A JSON value to the value of a column's Hive type, as Firehose's OpenX / Hive JSON SerDes
coerce it (the per-column half of record format conversion; conversion.py's `Converter` parses
records, projects them onto the columns with `Coercion.projector` and writes Parquet). The
semantics are described in conversion.py.
"""
from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Context, Decimal
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

from . import error_records as codes
from .prefixes import PatternError, tokenize_java_pattern

EPOCH_MILLIS_FLOOR = 10**12  # below: epoch seconds; at or above: epoch milliseconds
_NS_MIN, _NS_MAX = -(2**63), 2**63 - 1
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DECIMAL_CONTEXT = Context(prec=200, rounding=ROUND_HALF_UP, Emax=10**9, Emin=-(10**9))
_FLOAT32_MAX = 3.4028234663852886e38
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DOUBLE_TEXT = re.compile(r"\s*[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)[fFdD]?\s*")
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_EPOCH_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_ISO_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?"
)
_LENIENT_TIMESTAMP = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?")
_DATE_TEXT = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


class ConversionError(Exception):
    """One record cannot be converted; `code`/`message` go into its error record."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class SchemaConversionError(ConversionError, ValueError):
    """The table or the deserializer options cannot drive a conversion. A ConversionError too, so
    a caller that builds the converter per record routes every record to format-conversion-failed
    (DataFormatConversion.InvalidSchema) instead of stopping."""

    def __init__(self, message: str):
        super().__init__(codes.CONVERSION_INVALID_SCHEMA.code, message)


class Mismatch(Exception):
    """A value does not fit its column (becomes MalformedData)."""


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


def _java_class(value: Any) -> str:
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


def _java_text(value: Any) -> str:
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


def _days(year: int, month: int, day: int) -> int:
    return date(year, month, day).toordinal() - _EPOCH_ORDINAL


def _nanos_of_day(hour: int, minute: int, second: int, fraction: str | None) -> int:
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError("time of day out of range")
    nanos = int(fraction) * 10 ** (9 - len(fraction)) if fraction else 0
    return ((hour * 60 + minute) * 60 + second) * 1_000_000_000 + nanos


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


# ----------------------------------------------------------------------------------------------
# TimestampFormats (Joda DateTimeFormat patterns, as the Hive JSON SerDe takes them)

_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


class _TimestampFormat:
    """A parse-only TimestampFormats entry; `millis` is epoch milliseconds."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.millis = pattern == "millis"
        if self.millis:
            return
        try:
            tokens = tokenize_java_pattern(pattern)
        except PatternError as exc:
            raise SchemaConversionError(f"TimestampFormats entry {pattern!r} is not usable: {exc}") from None
        regex: list[str] = []
        self.fields: list[tuple[str, int]] = []
        for token in tokens:
            if token.letter is None:
                regex.append(re.escape(token.text))
                continue
            letter, count = token.letter, token.count
            if letter in "yu":
                regex.append(r"(\d{2})" if count == 2 else r"(\d{4})" if count == 4 else r"(\d{1,9})")
            elif letter in "ML" and count >= 3:
                regex.append(r"([A-Za-z]{3,9})")
            elif letter in "MLdHhKkms":
                regex.append(r"(\d{1,2})")
            elif letter == "D":
                regex.append(r"(\d{1,3})")
            elif letter == "S":
                regex.append(r"(\d{1,9})")
            elif letter == "a":
                regex.append(r"([AaPp][Mm])")
            elif letter == "E":
                regex.append(r"([A-Za-z]{3,9})")
            elif letter in "XxZ":
                regex.append(r"(Z|[+-]\d{2}(?::?\d{2})?)")
            else:
                raise SchemaConversionError(
                    f"TimestampFormats entry {pattern!r}: pattern letter {letter!r} cannot be parsed locally"
                )
            self.fields.append((letter, count))
        self.regex = re.compile("".join(regex), re.IGNORECASE)

    def parse(self, text: str) -> int | None:
        """Nanoseconds since the epoch, or None when `text` does not match."""
        if self.millis:
            if _INTEGER_TEXT.fullmatch(text):
                return int(text) * 1_000_000
            return None
        match = self.regex.fullmatch(text)
        if not match:
            return None
        year, month, day, hour, minute, second = 1970, 1, 1, 0, 0, 0
        fraction: str | None = None
        pm: bool | None = None
        offset_seconds = 0
        day_of_year: int | None = None
        for (letter, count), raw in zip(self.fields, match.groups()):
            if letter in "yu":
                year = int(raw)
                if count == 2:  # Joda's pivot: within 50 years of now
                    pivot = datetime.now(timezone.utc).year
                    year += 2000 if 2000 + year <= pivot + 49 else 1900
            elif letter in "ML":
                if count >= 3:
                    name = raw[:3].lower()
                    if name not in _MONTHS:
                        return None
                    month = _MONTHS.index(name) + 1
                else:
                    month = int(raw)
            elif letter == "d":
                day = int(raw)
            elif letter == "D":
                day_of_year = int(raw)
            elif letter in "Hk":
                hour = int(raw) % 24
            elif letter in "hK":
                hour = int(raw) % 12
            elif letter == "m":
                minute = int(raw)
            elif letter == "s":
                second = int(raw)
            elif letter == "S":
                fraction = raw
            elif letter == "a":
                pm = raw.lower() == "pm"
            elif letter in "XxZ" and raw.upper() != "Z":
                sign = -1 if raw[0] == "-" else 1
                digits = raw[1:].replace(":", "")
                offset_seconds = sign * (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60)
        if pm is not None:
            hour = hour % 12 + (12 if pm else 0)
        try:
            days = (date(year, 1, 1).toordinal() + day_of_year - 1 - _EPOCH_ORDINAL) if day_of_year else _days(year, month, day)
            ns = days * 86_400_000_000_000 + _nanos_of_day(hour, minute, second, fraction)
        except ValueError:
            return None
        return ns - offset_seconds * 1_000_000_000


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
        self.timestamp_formats = [_TimestampFormat(p) for p in (timestamp_formats or [])]
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
                return self._string(path, None)
            if name in INTEGER_RANGES:
                return self._integral(name, path)
            if name in ("float", "double"):
                return self._floating(name, path)
            if name == "boolean":
                return self._boolean(path)
            if name == "timestamp":
                return self._timestamp(path)
            if name == "date":
                return self._date(path)
            raise SchemaConversionError(f"Column {path!r}: type {name} is not supported for JSON conversion.")
        if isinstance(t, CharType):
            return self._string(path, t.length)
        if isinstance(t, DecimalType):
            return self._decimal(t, path)
        if isinstance(t, ArrayType):
            return self._array(t, path)
        if isinstance(t, StructType):
            return self._struct(t, path)
        if isinstance(t, MapType):
            return self._map(t, path)
        raise SchemaConversionError(f"Column {path!r}: unsupported type {t}")

    @staticmethod
    def _text_refused() -> Mismatch:
        # The Hive JSON SerDe refuses strings in numeric columns (documented), with Jackson's message.
        return Mismatch("Current token (VALUE_STRING) not numeric, can not use numeric value accessors")

    def _key_coercer(self, t: HiveType, path: str) -> Callable[[Any], Any]:
        """Map keys are JSON object keys, always text: numeric key types parse it, even under Hive."""
        saved, self._reject_numeric_text = self._reject_numeric_text, False
        try:
            return self.coercer(t, path)
        finally:
            self._reject_numeric_text = saved

    def _string(self, path: str, length: int | None) -> Callable[[Any], Any]:
        hive, lower = self.hive, self.case_insensitive

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

    def _integral(self, type_name: str, path: str) -> Callable[[Any], int]:
        reject_text = self._reject_numeric_text
        low, high = INTEGER_RANGES[type_name]

        def coerce(value: Any) -> int:
            kind = type(value)
            if kind is int:
                number = value
            elif kind is str:
                if reject_text:
                    raise self._text_refused()
                if not _INTEGER_TEXT.fullmatch(value):
                    raise Mismatch(f'For input string: "{value}"')
                number = int(value)
            elif kind is Decimal:
                raise Mismatch(f"Value {value} is not an integer, which column {path} of type {type_name} requires.")
            else:
                raise Mismatch(f"{_java_class(value)} {_java_text(value)} is not a valid {type_name} for column {path}.")
            if not low <= number <= high:
                raise Mismatch(f"Value {number} is out of range for column {path} of type {type_name}.")
            return number

        return coerce

    def _floating(self, type_name: str, path: str) -> Callable[[Any], float]:
        reject_text = self._reject_numeric_text
        limit = _FLOAT32_MAX if type_name == "float" else math.inf

        def coerce(value: Any) -> float:
            kind = type(value)
            if kind is int or kind is Decimal:
                number = float(value)
                if math.isinf(number):
                    raise Mismatch(f"Value {value} is out of range for column {path} of type {type_name}.")
            elif kind is str:
                if reject_text:
                    raise self._text_refused()
                match = _DOUBLE_TEXT.fullmatch(value)
                if not match:
                    raise Mismatch(f'For input string: "{value}"')
                text = value.strip().rstrip("fFdD")
                number = float(text.replace("Infinity", "inf"))
            else:
                raise Mismatch(f"{_java_class(value)} {_java_text(value)} is not a valid {type_name} for column {path}.")
            if not math.isinf(number) and abs(number) > limit:
                raise Mismatch(f"Value {value} is out of range for column {path} of type {type_name}.")
            return number

        return coerce

    def _boolean(self, path: str) -> Callable[[Any], bool]:
        def coerce(value: Any) -> bool:
            if type(value) is bool:
                return value
            if isinstance(value, str) and not self.hive:
                lowered = value.lower()
                if lowered == "true":
                    return True
                if lowered == "false":
                    return False
            raise Mismatch(f"{_java_class(value)} {_java_text(value)} is not a valid boolean for column {path}.")

        return coerce

    def _decimal(self, t: DecimalType, path: str) -> Callable[[Any], Decimal]:
        reject_text = self._reject_numeric_text
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
                    raise self._text_refused()
                if not _DECIMAL_TEXT.fullmatch(value):
                    raise Mismatch(f'For input string: "{value}"')
                number = Decimal(value)
            else:
                raise Mismatch(f"{_java_class(value)} {_java_text(value)} is not a valid {t} for column {path}.")
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

    def _date(self, path: str) -> Callable[[Any], int]:
        def coerce(value: Any) -> int:
            if isinstance(value, str):
                match = _DATE_TEXT.fullmatch(value)
                if match:
                    try:
                        return _days(int(match[1]), int(match[2]), int(match[3]))
                    except ValueError:
                        pass
                raise Mismatch(f'For input string: "{value}"')
            raise Mismatch(f"{_java_class(value)} {_java_text(value)} is not a valid date for column {path}.")

        return coerce

    def _timestamp(self, path: str) -> Callable[[Any], int]:
        formats = self.timestamp_formats
        hive = self.hive
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
                    days = day_cache.get((year, month, day))
                    if days is None:
                        days = _days(int(year), int(month), int(day))
                        if len(day_cache) < 100_000:
                            day_cache[(year, month, day)] = days
                    ns = days * 86_400_000_000_000 + _nanos_of_day(int(hour), int(minute), int(second), fraction)
                except ValueError:
                    raise Mismatch(f'For input string: "{text}"') from None
                return _check_ns(ns - offset * 1_000_000_000, text, path)
            if not hive and _EPOCH_TEXT.fullmatch(text):
                return _epoch_to_ns(int(text) if _INTEGER_TEXT.fullmatch(text) else Decimal(text), path)
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
            raise Mismatch(f"{_java_class(value)} {_java_text(value)} is not a valid timestamp for column {path}.")

        return coerce

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
            raise Mismatch(f"Data is not JSONObject  but {_java_class(value)} with value {_java_text(value)}")

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
            raise Mismatch(f"Data is not JSONObject  but {_java_class(value)} with value {_java_text(value)}")

        return coerce
