"""Partition projection: a table's partitions computed from its properties, without a crawl.

Athena's `projection.enabled` table properties
(https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html):
`projection.<col>.type` = integer (range, interval, digits), date (range with NOW[+-]N<UNIT>,
format as a Java date pattern, interval, interval.unit), enum (values), injected (the value must
come from the query's WHERE as a static equality); `storage.location.template` with `${col}`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

from .errors import AthenaQueryError, user_error

__all__ = ["is_projected", "projected_partitions", "java_date_to_strftime"]


def is_projected(table: dict) -> bool:
    return (table.get("Parameters") or {}).get("projection.enabled", "").lower() == "true"


_JAVA = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"), ("mm", "%M"), ("ss", "%S")]


def java_date_to_strftime(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        for java, py in _JAVA:
            if pattern.startswith(java, i):
                out.append(py)
                i += len(java)
                break
        else:
            if pattern[i] == "'":
                end = pattern.index("'", i + 1)
                out.append(pattern[i + 1:end] or "'")
                i = end + 1
            else:
                out.append(pattern[i].replace("%", "%%"))
                i += 1
    return "".join(out)


_UNITS = {"YEARS": "years", "MONTHS": "months", "WEEKS": "weeks", "DAYS": "days", "HOURS": "hours",
          "MINUTES": "minutes", "SECONDS": "seconds"}


def _add(d: dt.datetime, n: int, unit: str) -> dt.datetime:
    unit = unit.upper().rstrip("S") + "S"
    if unit == "YEARS":
        return d.replace(year=d.year + n)
    if unit == "MONTHS":
        m = d.month - 1 + n
        return d.replace(year=d.year + m // 12, month=m % 12 + 1)
    return d + dt.timedelta(**{_UNITS[unit]: n})


def _date_bound(text: str, fmt: str, now: dt.datetime) -> dt.datetime:
    m = re.fullmatch(r"\s*NOW\s*(?:([+-])\s*(\d+)\s*([A-Za-z]+))?\s*", text)
    if m:
        if not m.group(1):
            return now
        return _add(now, int(m.group(2)) * (1 if m.group(1) == "+" else -1), m.group(3))
    return dt.datetime.strptime(text.strip(), fmt)


def _values(col: str, params: dict, injected: dict[str, list[str]], now: dt.datetime) -> list[str]:
    p = f"projection.{col}."
    kind = params.get(p + "type", "").lower()
    if kind == "enum":
        return [v.strip() for v in params.get(p + "values", "").split(",") if v.strip()]
    if kind == "integer":
        lo, hi = (int(x) for x in params[p + "range"].split(","))
        step = int(params.get(p + "interval", "1"))
        digits = int(params.get(p + "digits", "0"))
        return [str(v).zfill(digits) if digits else str(v) for v in range(lo, hi + 1, step)]
    if kind == "date":
        fmt = java_date_to_strftime(params[p + "format"])
        lo_text, hi_text = params[p + "range"].split(",")
        lo, hi = _date_bound(lo_text, fmt, now), _date_bound(hi_text, fmt, now)
        step = int(params.get(p + "interval", "1"))
        unit = params.get(p + "interval.unit") or ("DAYS" if "%d" in fmt else "MONTHS" if "%m" in fmt else "YEARS")
        out, d = [], lo
        while d <= hi:
            out.append(d.strftime(fmt))
            d = _add(d, step, unit)
        return out
    if kind == "injected":
        if col not in injected:
            raise AthenaQueryError(
                "CONSTRAINT_VIOLATION",
                f"For the injected projected partition column {col}, the WHERE clause must contain only "
                "static equality conditions, and at least one such condition must be present.")
        return injected[col]
    raise user_error("INVALID_TABLE_PROPERTY", f"Unsupported projection type '{kind}' for column {col}")


def projected_partitions(table: dict, injected: dict[str, list[str]],
                         now: dt.datetime | None = None) -> list[tuple[list[str], str]]:
    """[(values, location)] of every projected partition."""
    params = table.get("Parameters") or {}
    keys = [k["Name"] for k in table.get("PartitionKeys") or []]
    now = now or dt.datetime.utcnow()
    per_key = [_values(k, params, injected, now) for k in keys]
    template = params.get("storage.location.template")
    base = (table.get("StorageDescriptor") or {}).get("Location", "").rstrip("/")
    out = []
    for combo in itertools.product(*per_key):
        if template:
            loc = template
            for k, v in zip(keys, combo):
                loc = loc.replace("${" + k + "}", v)
        else:
            loc = base + "/" + "/".join(f"{k}={v}" for k, v in zip(keys, combo))
        out.append((list(combo), loc.rstrip("/") + "/"))
    return out
