"""Values as Athena renders them as varchar (GetQueryResults VarCharValue, the result CSV).

Trino's client rendering: doubles as Java's Double.toString (`1.0E20`, `0.1`), reals as
Float.toString, decimals with their scale, timestamps with milliseconds, arrays `[1, 2]`,
maps `{a=1}`, rows `{x=1, y=2}`, varbinary as space-separated hex bytes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math

import numpy as np
import pyarrow as pa

__all__ = ["java_double", "java_float", "render_value", "render_column"]


def _java_from_repr(digits_repr: str, value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    d = decimal.Decimal(digits_repr.lstrip("-"))
    sign_digits, exponent = d.as_tuple().digits, d.as_tuple().exponent
    digits = "".join(map(str, sign_digits)).lstrip("0") or "0"
    # position of the decimal point relative to the first significant digit
    point = len("".join(map(str, sign_digits)).lstrip("0")) + exponent  # digits before the point
    digits = digits.rstrip("0") or "0"
    a = abs(value)
    if 1e-3 <= a < 1e7:
        if point <= 0:
            return f"{sign}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{sign}{digits}{'0' * (point - len(digits))}.0"
        return f"{sign}{digits[:point]}.{digits[point:]}"
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{point - 1}"


def java_double(value: float) -> str:
    """Java's Double.toString (shortest round-trip digits, as JDK 19+ prints them)."""
    value = float(value)
    if 1e-3 <= abs(value) < 1e7:
        return repr(value)  # Python's repr is the same plain notation here ("0.1", "100.0")
    return _java_from_repr(repr(value), value)


def java_float(value: float) -> str:
    """Java's Float.toString for a real."""
    f32 = np.float32(value)
    return _java_from_repr(np.format_float_positional(f32, unique=True, trim="-") if np.isfinite(f32) else "0", float(f32))


def _timestamp(v: dt.datetime) -> str:
    base = v.strftime("%Y-%m-%d %H:%M:%S") + f".{v.microsecond // 1000:03d}"
    if v.tzinfo is not None:
        zone = getattr(v.tzinfo, "key", None)
        zone = "UTC" if zone in ("Etc/UTC", "UTC", "Z") else zone
        zone = zone or ("UTC" if v.utcoffset() == dt.timedelta(0) else v.strftime("%z"))
        base += f" {zone}"
    return base


def render_value(v, t: pa.DataType, nested: bool = False) -> str | None:
    if v is None:
        return "null" if nested else None
    if pa.types.is_boolean(t):
        return "true" if v else "false"
    if pa.types.is_floating(t):
        return java_float(v) if t.bit_width == 32 else java_double(v)
    if pa.types.is_integer(t):
        return str(v)
    if pa.types.is_decimal(t):
        return format(decimal.Decimal(v).quantize(decimal.Decimal(1).scaleb(-t.scale)), "f")
    if pa.types.is_timestamp(t):
        return _timestamp(v)
    if pa.types.is_date(t):
        return v.isoformat()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return " ".join(f"{b:02x}" for b in v)
    if pa.types.is_map(t):
        return "{" + ", ".join(
            f"{render_value(k, t.key_type, True)}={render_value(x, t.item_type, True)}" for k, x in v) + "}"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return "[" + ", ".join(render_value(x, t.value_type, True) for x in v) + "]"
    if pa.types.is_struct(t):
        return "{" + ", ".join(
            f"{f.name}={render_value(v.get(f.name), f.type, True)}" for f in t) + "}"
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S") + f".{v.microsecond // 1000:03d}"
    if isinstance(v, dt.timedelta):
        total = v.total_seconds()
        sign = "-" if total < 0 else ""
        total = abs(v)
        days = total.days
        h, rem = divmod(total.seconds, 3600)
        m, s = divmod(rem, 60)
        return f"{sign}{days} {h:02d}:{m:02d}:{s:02d}.{total.microseconds // 1000:03d}"
    return str(v)


def render_column(col: pa.ChunkedArray | pa.Array) -> list[str | None]:
    """A whole column as Athena's varchar values (None for NULL). Arrow's own string casts where
    they print what Trino prints (integers, varchar, booleans, decimals with their scale, dates,
    timestamps to the millisecond); Java's double rendering and nested values value by value."""
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_boolean(t) \
            or pa.types.is_decimal(t) or pa.types.is_date32(t):
        return pc.cast(col, pa.string()).to_pylist()
    if pa.types.is_timestamp(t):
        # Floor (not truncate) to the second, so times before 1970 keep their second too.
        seconds = pc.cast(pc.floor_temporal(col, unit="second"), pa.timestamp("s", tz=t.tz))
        text = pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
        millis = pc.utf8_lpad(pc.cast(pc.millisecond(col), pa.string()), 3, "0")
        text = pc.binary_join_element_wise(text, millis, ".")
        if t.tz:
            zone = "UTC" if t.tz in ("UTC", "Etc/UTC", "Z", "+00:00") else t.tz
            text = pc.binary_join_element_wise(text, pa.scalar(zone), " ")
        return text.to_pylist()
    if pa.types.is_float64(t):
        return [None if v is None else java_double(v) for v in col.to_pylist()]
    return [render_value(v, t) for v in col.to_pylist()]
