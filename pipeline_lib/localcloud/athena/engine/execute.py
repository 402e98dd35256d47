"""Running a bound, transpiled SELECT in DuckDB and shaping the result as Athena's.

DuckDB errors become Athena's (DIVISION_BY_ZERO, INVALID_CAST_ARGUMENT, FUNCTION_NOT_FOUND, ...);
result columns get Athena's types (HUGEINT sums are bigint, as Trino's sum(bigint)).
"""

from __future__ import annotations

import re
import warnings

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from .catalog import position
from .errors import AthenaQueryError, not_supported, user_error
from .outcome import ColumnInfo
from .types import athena_type

__all__ = ["run_select", "map_duckdb_error"]

# DuckDB warns that Arrow from an executed statement copies the rows once more than a relation's
# fetch; measured, that copy costs less than the second bind (every Parquet footer read again) a
# relation makes.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)


def map_duckdb_error(err: duckdb.Error, stmt: exp.Expression | None = None) -> AthenaQueryError:
    text = str(err)
    m = re.search(r"ATHENA\[([A-Z_]+)\] (.*)", text, re.S)
    if m:
        return AthenaQueryError(m.group(1), m.group(2).strip())
    if "Division by zero" in text:
        return user_error("DIVISION_BY_ZERO", "Division by zero")
    m = re.search(r"Could not convert string '(.*?)' to (\w+)", text)
    if m:
        return user_error("INVALID_CAST_ARGUMENT", f"Cannot cast '{m.group(1)}' to {m.group(2)}")
    if isinstance(err, duckdb.ConversionException):
        return user_error("INVALID_CAST_ARGUMENT", text.split("\n")[0].replace("Conversion Error: ", ""))
    if isinstance(err, duckdb.OutOfRangeException) or "out of range" in text.lower() or "Overflow" in text:
        return user_error("NUMERIC_VALUE_OUT_OF_RANGE", text.split("\n")[0].split(": ", 1)[-1])
    m = re.search(r"(?:Scalar |Aggregate |Table )?Function with name \"?(\w+)\"? does not exist", text)
    if m:
        name = m.group(1)
        node = None
        if stmt is not None:
            node = next((f for f in stmt.find_all(exp.Func) if (f.sql_name() if not isinstance(f, exp.Anonymous)
                                                                  else f.name).lower() == name.lower()), None)
        return user_error("FUNCTION_NOT_FOUND", f"{position(node)}: Function '{name.lower()}' not registered")
    m = re.search(r'Referenced column "?(\w+)"? not found', text)
    if m:
        return user_error("COLUMN_NOT_FOUND", f"line 1:1: Column '{m.group(1)}' cannot be resolved")
    if "No function matches" in text or "Could not choose a best candidate" in text or "Cannot compare" in text \
            or "Cannot mix" in text:
        return user_error("TYPE_MISMATCH", "line 1:1: " + text.split("\n")[0].split(": ", 1)[-1])
    if isinstance(err, duckdb.InvalidInputException):
        return user_error("INVALID_FUNCTION_ARGUMENT", text.split("\n")[0].split(": ", 1)[-1])
    return not_supported(f"This query (DuckDB: {text.splitlines()[0]})")


def _athena_column(col: pa.ChunkedArray, duck_type: str, zone: str | None) -> tuple[pa.ChunkedArray, ColumnInfo]:
    at = athena_type(duck_type)
    if duck_type in ("HUGEINT", "UBIGINT"):
        try:
            col = col.cast(pa.int64())
        except pa.ArrowInvalid:
            raise user_error("NUMERIC_VALUE_OUT_OF_RANGE", "bigint addition overflow") from None
    if zone is not None and pa.types.is_timestamp(col.type):
        # A wall-clock time computed for a zone: Trino's timestamp with time zone in that zone.
        col = pc.assume_timezone(col.cast(pa.timestamp("us")), zone).cast(pa.timestamp("us", tz=zone))
        at = athena_type("TIMESTAMP WITH TIME ZONE")
    if pa.types.is_timestamp(col.type) and col.type.tz and col.type.tz in ("Etc/UTC",):
        col = col.cast(pa.timestamp(col.type.unit, tz="UTC"))
    info = ColumnInfo(name="", type=at.name, precision=at.precision, scale=at.scale,
                      case_sensitive=at.name == "varchar")
    return col, info


def run_select(con: duckdb.DuckDBPyConnection, sql: str, stmt: exp.Expression,
               zones: dict[str, str]) -> tuple[pa.Table, list[ColumnInfo]]:
    from .functions import install
    install(con, sql)
    try:
        # Run once: a relation (`con.sql`) binds the statement, and so reads every Parquet footer,
        # again when it is fetched.
        con.execute(sql)
        description = con.description or []
        names = [d[0] for d in description]
        types = [str(d[1]) for d in description]
        table = (con.to_arrow_table if hasattr(con, "to_arrow_table") else con.fetch_arrow_table)()
    except duckdb.Error as err:
        raise map_duckdb_error(err, stmt) from None
    columns, infos = [], []
    for i, (name, duck) in enumerate(zip(names, types)):
        col, info = _athena_column(table.column(i), duck, zones.get(name))
        info.name = name
        columns.append(col)
        infos.append(info)
    out = pa.Table.from_arrays(columns, names=names) if columns else table
    return out, infos
