"""Type mapping: Glue (Hive) types -> Arrow (how data is read), DuckDB result types -> Athena's.

Glue types are parsed with `pipeline_lib.schema` (one parser for the whole project). Athena's
result metadata names the Trino base type (`varchar`, `integer`, `float` for real, `row`, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa

from pipeline_lib import schema

__all__ = ["arrow_schema_to_duckdb", "arrow_to_duckdb", "glue_to_arrow", "athena_type", "AthenaType", "glue_to_athena_sql", "arrow_to_glue"]


@lru_cache(maxsize=4096)  # a pure function of the text, asked per column of every object a scan reads
def glue_to_arrow(glue_type: str) -> pa.DataType:
    """The Arrow type a Glue column reads as (timestamps in microseconds, DuckDB's TIMESTAMP)."""
    try:
        return schema.to_arrow(schema.parse_type(glue_type, catalog=True), timestamp_unit="us")
    except schema.TypeStringError as exc:
        from .errors import user_error
        raise user_error("HIVE_INVALID_METADATA", f"Glue type {glue_type!r} does not parse: {exc}") from exc


def glue_to_athena_sql(glue_type: str) -> str:
    """How Athena spells a Glue type in DESCRIBE / SHOW COLUMNS / views (Hive spelling, lower case)."""
    return str(schema.parse_type(glue_type, catalog=True))


@dataclass(frozen=True)
class AthenaType:
    name: str        # ColumnInfo.Type
    precision: int
    scale: int
    sql: str         # the full Trino type (decimal(10,2), array(integer), row(x integer))


_SIMPLE = {
    "BOOLEAN": ("boolean", 0), "TINYINT": ("tinyint", 3), "SMALLINT": ("smallint", 5),
    "INTEGER": ("integer", 10), "BIGINT": ("bigint", 19), "HUGEINT": ("bigint", 19),
    "UTINYINT": ("smallint", 5), "USMALLINT": ("integer", 10), "UINTEGER": ("bigint", 19), "UBIGINT": ("bigint", 19),
    "FLOAT": ("float", 17), "DOUBLE": ("double", 17), "VARCHAR": ("varchar", 2147483647),
    "DATE": ("date", 0), "TIMESTAMP": ("timestamp", 3), "TIMESTAMP_MS": ("timestamp", 3),
    "TIMESTAMP_NS": ("timestamp", 3), "TIMESTAMP_S": ("timestamp", 3),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3), "BLOB": ("varbinary", 1073741824),
    "TIME": ("time", 3), "INTERVAL": ("interval day to second", 0), "JSON": ("json", 0), "UUID": ("uuid", 0),
    '"NULL"': ("unknown", 0), "NULL": ("unknown", 0),
}
_TRINO_SQL = {"float": "real"}


def athena_type(duck: str) -> AthenaType:
    """Athena's result type for a DuckDB type string (DuckDBPyType's str)."""
    d = duck.strip()
    if d.endswith("[]"):
        inner = athena_type(d[:-2])
        return AthenaType("array", 0, 0, f"array({inner.sql})")
    m = re.fullmatch(r"DECIMAL\((\d+),\s*(\d+)\)", d)
    if m:
        p, s = int(m.group(1)), int(m.group(2))
        return AthenaType("decimal", p, s, f"decimal({p},{s})")
    if d.startswith("MAP("):
        k, v = _split_top(d[4:-1])
        return AthenaType("map", 0, 0, f"map({athena_type(k).sql}, {athena_type(v).sql})")
    if d.startswith("STRUCT("):
        fields = []
        for part in _split_top(d[7:-1]):
            name, _, t = part.strip().partition(" ")
            fields.append(f"{name.strip(chr(34))} {athena_type(t).sql}")
        return AthenaType("row", 0, 0, f"row({', '.join(fields)})")
    if d in _SIMPLE:
        name, precision = _SIMPLE[d]
        return AthenaType(name, precision, 0, _TRINO_SQL.get(name, name))
    return AthenaType(d.lower(), 0, 0, d.lower())


def _split_top(s: str) -> list[str]:
    """Split on commas outside parentheses and quotes."""
    out, depth, cur, quote = [], 0, [], False
    for ch in s:
        if ch == '"':
            quote = not quote
        elif not quote and ch in "([":
            depth += 1
        elif not quote and ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0 and not quote:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if cur:
        out.append("".join(cur).strip())
    return out


def arrow_to_glue(dtype: pa.DataType) -> str:
    """The Glue type CTAS records for a result column (Athena writes Hive type names)."""
    if pa.types.is_timestamp(dtype):
        return "timestamp"
    return str(schema.from_arrow(dtype))


def arrow_to_duckdb(t: pa.DataType) -> str:
    """The DuckDB type an Arrow column is scanned as (for typing statements before reading data)."""
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    for check, name in ((pa.types.is_int8, "TINYINT"), (pa.types.is_int16, "SMALLINT"), (pa.types.is_int32, "INTEGER"),
                        (pa.types.is_int64, "BIGINT"), (pa.types.is_float32, "FLOAT"), (pa.types.is_float64, "DOUBLE"),
                        (pa.types.is_date, "DATE")):
        if check(t):
            return name
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return "BLOB"
    if pa.types.is_timestamp(t):
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    if pa.types.is_map(t):
        return f"MAP({arrow_to_duckdb(t.key_type)}, {arrow_to_duckdb(t.item_type)})"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"{arrow_to_duckdb(t.value_type)}[]"
    if pa.types.is_struct(t):
        return "STRUCT(" + ", ".join(f'"{f.name}" {arrow_to_duckdb(f.type)}' for f in t) + ")"
    raise TypeError(f"no DuckDB type for {t}")


def arrow_schema_to_duckdb(s: pa.Schema) -> dict[str, str]:
    return {f.name: arrow_to_duckdb(f.type) for f in s}
