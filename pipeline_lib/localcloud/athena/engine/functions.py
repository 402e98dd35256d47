"""Trino functions DuckDB lacks or computes differently, defined in each query's DuckDB connection.

SQL macros where DuckDB can express Trino's semantics (NULL instead of '' for regexp_extract with
no match, NULL for json_extract_scalar on a non-scalar, the strict varchar->integer cast); Python
functions where only code can (URL parts as java.net.URI splits them, Java's double rendering).
Errors raised inside carry an `ATHENA[NAME]` marker the error mapping turns into Athena's error.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import threading

import duckdb

from .render import java_double, java_float

__all__ = ["install", "SharedDatabase"]

_INT_RANGES = {"TINYINT": "TINYINT", "SMALLINT": "SMALLINT", "INTEGER": "INT", "BIGINT": "BIGINT"}

_POWERS_OF_TEN = "[" + ", ".join(f"CAST('{10 ** k}' AS HUGEINT)" for k in range(39)) + "]"

_MACROS = [
    # split(s, d, limit): at most `limit` pieces, the last holding the rest (Trino).
    "CREATE MACRO trino_split_limit(s, d, n) AS CASE WHEN n <= 0 THEN "
    "error('ATHENA[INVALID_FUNCTION_ARGUMENT] Limit must be positive') "
    "WHEN len(str_split(s, d)) <= n THEN str_split(s, d) "
    "ELSE list_concat(str_split(s, d)[1:n - 1], [array_to_string(str_split(s, d)[n:], d)]) END",
    # CAST(json AS varchar): a scalar's value (strings unquoted); arrays and objects do not cast.
    "CREATE MACRO trino_json_to_varchar(j) AS CASE json_type(j) WHEN 'NULL' THEN NULL "
    "WHEN 'VARCHAR' THEN json_extract_string(j, '$') "
    "WHEN 'OBJECT' THEN error('ATHENA[INVALID_CAST_ARGUMENT] Cannot cast to varchar. ' || CAST(j AS VARCHAR)) "
    "WHEN 'ARRAY' THEN error('ATHENA[INVALID_CAST_ARGUMENT] Cannot cast to varchar. ' || CAST(j AS VARCHAR)) "
    "ELSE CAST(j AS VARCHAR) END",
    # Trino's decimal division: exact, rounded half up to the result scale. Operands are taken apart
    # from their text (digits and scale as DuckDB holds them), divided as 128-bit integers.
    f"CREATE MACRO trino_pow10(k) AS {_POWERS_OF_TEN}[k + 1]",
    "CREATE MACRO trino_dec_scale(x) AS CASE WHEN strpos(CAST(x AS VARCHAR), '.') = 0 THEN 0 "
    "ELSE length(CAST(x AS VARCHAR)) - strpos(CAST(x AS VARCHAR), '.') END",
    "CREATE MACRO trino_dec_unscaled(x) AS CAST(replace(CAST(x AS VARCHAR), '.', '') AS HUGEINT)",
    "CREATE MACRO trino_div_round(n, d) AS "
    "(CASE WHEN (n < 0) <> (d < 0) THEN -1 ELSE 1 END) * ((2 * abs(n) + abs(d)) // (2 * abs(d)))",
    "CREATE MACRO trino_unscaled_text(q, rs) AS CASE WHEN rs = 0 THEN CAST(q AS VARCHAR) "
    "ELSE (CASE WHEN q < 0 THEN '-' ELSE '' END) || CAST(abs(q) // trino_pow10(rs) AS VARCHAR) || '.' || "
    "lpad(CAST(abs(q) % trino_pow10(rs) AS VARCHAR), rs, '0') END",
    "CREATE MACRO trino_decimal_div(a, b, rs) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL ELSE "
    "trino_unscaled_text(trino_div_round(trino_dec_unscaled(a) * trino_pow10(trino_dec_scale(b) + rs), "
    "trino_dec_unscaled(b) * trino_pow10(trino_dec_scale(a))), rs) END",
    # Trino's subscripts fail where DuckDB's give NULL (element_at is the NULL-returning form).
    "CREATE MACRO trino_array_subscript(a, i) AS CASE WHEN a IS NULL OR i IS NULL THEN NULL "
    "WHEN i = 0 THEN error('ATHENA[INVALID_FUNCTION_ARGUMENT] SQL array indices start at 1') "
    "WHEN i < 0 THEN error('ATHENA[INVALID_FUNCTION_ARGUMENT] Array subscript is negative: ' || i) "
    "WHEN i > len(a) THEN error('ATHENA[INVALID_FUNCTION_ARGUMENT] Array subscript must be less than or equal "
    "to array length: ' || i || ' > ' || len(a)) ELSE a[i] END",
    "CREATE MACRO trino_map_subscript(m, k) AS CASE WHEN m IS NULL OR k IS NULL THEN NULL "
    "WHEN NOT map_contains(m, k) THEN error('ATHENA[INVALID_FUNCTION_ARGUMENT] Key not present in map: ' || k) "
    "ELSE m[k] END",
    # Trino's round(double, d): sign * Math.round(|x| * 10^d) / 10^d, Math.round rounding half up.
    "CREATE MACRO trino_round_double(x, d) AS CASE WHEN isnan(x) OR isinf(x) THEN x "
    "WHEN x < 0 THEN -(CASE WHEN (-x * pow(10, d)) - floor(-x * pow(10, d)) >= 0.5 "
    "THEN floor(-x * pow(10, d)) + 1 ELSE floor(-x * pow(10, d)) END / pow(10, d)) "
    "ELSE (CASE WHEN (x * pow(10, d)) - floor(x * pow(10, d)) >= 0.5 "
    "THEN floor(x * pow(10, d)) + 1 ELSE floor(x * pow(10, d)) END / pow(10, d)) END",
    "CREATE MACRO trino_regexp_extract(s, p, g) AS "
    "CASE WHEN regexp_matches(s, p) THEN regexp_extract(s, p, g) END",
    "CREATE MACRO trino_regexp_extract_all(s, p, g) AS regexp_extract_all(s, p, g)",
    "CREATE MACRO trino_json_extract_scalar(j, p) AS "
    "CASE WHEN json_type(CAST(j AS JSON), p) IN ('OBJECT', 'ARRAY') THEN NULL "
    "ELSE json_extract_string(CAST(j AS JSON), p) END",
    *[
        f"CREATE MACRO trino_cast_{duck.lower()}(s) AS CASE WHEN s IS NULL THEN NULL "
        f"WHEN regexp_full_match(trim(s, ' '), '[+-]?[0-9]+') THEN CAST(trim(s, ' ') AS {duck}) "
        f"ELSE error('ATHENA[INVALID_CAST_ARGUMENT] Cannot cast ''' || s || ''' to {name}') END"
        for duck, name in _INT_RANGES.items()
    ],
    *[
        f"CREATE MACRO trino_try_cast_{duck.lower()}(s) AS CASE WHEN s IS NULL THEN NULL "
        f"WHEN regexp_full_match(trim(s, ' '), '[+-]?[0-9]+') THEN TRY_CAST(trim(s, ' ') AS {duck}) END"
        for duck in _INT_RANGES
    ],
]


def _url_part(part: str):
    def fn(url: str | None) -> str | None:
        if url is None:
            return None
        try:
            u = urlsplit(url)
        except ValueError:
            return None
        if part == "host":
            return u.hostname
        if part == "path":
            return u.path
        if part == "protocol":
            return u.scheme or None
        if part == "query":
            return u.query or None
        if part == "fragment":
            return u.fragment or None
        return None
    return fn


def _url_port(url: str | None) -> int | None:
    if url is None:
        return None
    try:
        return urlsplit(url).port
    except ValueError:
        return None


def _url_parameter(url: str | None, name: str | None) -> str | None:
    if url is None or name is None:
        return None
    try:
        query = urlsplit(url).query
    except ValueError:
        return None
    for k, v in parse_qsl(query, keep_blank_values=True):
        if k == name:
            return v
    return None


_MACRO_NAMES = [m.split()[2].split("(")[0] for m in _MACROS]


def _udfs() -> dict[str, tuple]:
    V, B, D, F = "VARCHAR", "BIGINT", "DOUBLE", "FLOAT"
    out = {f"url_extract_{part}": (_url_part(part), [V], V) for part in ("host", "path", "protocol", "query", "fragment")}
    out["url_extract_port"] = (_url_port, [V], B)
    out["url_extract_parameter"] = (_url_parameter, [V, V], V)
    out["trino_double_to_varchar"] = (lambda x: None if x is None else java_double(x), [D], V)
    out["trino_real_to_varchar"] = (lambda x: None if x is None else java_float(x), [F], V)
    return out


_UDFS = _udfs()


class SharedDatabase:
    """One in-memory DuckDB database whose catalog holds the Trino macros; each query runs on its
    own connection (`cursor()`) to it, with its tables registered there (connection-local).
    Opening a database costs tens of milliseconds, a connection to it almost nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._db: duckdb.DuckDBPyConnection | None = None
        self.blobs = None  # the BlobFileSystem DuckDB reads Parquet objects from

    def connect(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._db is None:
                from .memfs import BlobFileSystem
                db = duckdb.connect()
                # Nothing remembered by path across statements: a statement's fsspec objects are
                # read once, and a memfd's path (/proc/self/fd/N) names another file once it is
                # closed, so a cache by path could serve another object's bytes (objectfiles.py).
                db.execute("SET enable_external_file_cache = false")
                db.execute("SET parquet_metadata_cache = false")
                db.execute("SET GLOBAL TimeZone = 'UTC'")  # Athena's session zone, for every connection
                db.execute(";\n".join(_MACROS))
                self.blobs = BlobFileSystem()
                db.register_filesystem(self.blobs)
                self._db = db
            return self._db.cursor()


def install(con: duckdb.DuckDBPyConnection, sql: str | None = None) -> None:
    """Define the Python functions `sql` uses (all when None) in the connection (macros are in the
    shared database already)."""
    text = sql.lower() if sql is not None else None
    for name, (fn, args, ret) in _UDFS.items():
        if text is None or name in text:
            try:
                con.create_function(name, fn, args, ret, null_handling="special")
            except duckdb.CatalogException:
                pass  # already defined on this connection
