"""One Athena query execution: parse, dispatch by statement kind, run, shape the outcome.

Each run has its own in-process DuckDB connection. Writes (CTAS, INSERT, UNLOAD, DDL) go through
`Changes`, which undoes what was done if the statement fails, so a failed query leaves the catalog
and storage as they were.
"""

from __future__ import annotations

import threading

import duckdb
from sqlglot import exp

from . import functions, prepared, statements
from .errors import AthenaQueryError, MalformedQuery, not_supported
from .execute import map_duckdb_error, run_select
from .outcome import QueryOutcome
from .parse import classify, parse, statement_type
from .resolve import Binder
from .compile_query import compile_select_cached
from .objectfiles import object_files
from .transpile import substitute_parameters

__all__ = ["Query", "warm_up"]

# The engine's DuckDB database (macros only, no data): shared by queries, each on its own connection.
_DATABASE = functions.SharedDatabase()


def warm_up() -> None:
    """Pay now what the first queries would: the shared DuckDB database (its macros), pyarrow's
    first conversion of Python values (partition values), which imports pandas (~0.5 s), and the
    object files' probe."""
    import pyarrow as pa

    pa.array(["warm"], pa.string())
    _DATABASE.connect().close()
    object_files()  # its settings read, memfds probed


class Query:
    def __init__(self, sql: str, *, catalog, storage, database: str | None, catalog_name: str = "AwsDataCatalog",
                 params: list[str] | None = None, query_id: str, output_location: str | None,
                 prepared_statements=None) -> None:
        self.sql = sql
        self.catalog = catalog
        self.storage = storage
        # awswrangler passes the database quoted in backticks (`db`); Athena accepts either.
        self.database = database.strip().strip("`").lower() if database else None
        self.catalog_name = catalog_name.lower()
        self.params = params
        self.query_id = query_id
        self.output_location = output_location
        self.prepared_statements = prepared_statements  # PreparedStatements, for PREPARE/EXECUTE in SQL
        self._cancelled = threading.Event()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._binders: list[Binder] = []

    def cancel(self) -> None:
        self._cancelled.set()
        with self._lock:
            if self._con is not None:
                try:
                    self._con.interrupt()
                except duckdb.Error:
                    pass

    def _connection(self) -> duckdb.DuckDBPyConnection:
        con = _DATABASE.connect()
        with self._lock:
            self._con = con
        return con

    def _check_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise AthenaQueryError("USER_CANCELLED", "Query was cancelled by user", error_category=2)

    def run(self) -> QueryOutcome:
        kind = classify(self.sql)
        if kind == "prepare":
            parse(self.sql)
            return prepared.prepare(self, self.sql)
        if kind == "deallocate":
            return prepared.deallocate(self, self.sql)
        if kind == "execute":
            self.sql, self.params = prepared.resolve_execute(self, self.sql, self.params)
            kind = classify(self.sql)
            if kind in ("execute", "prepare", "deallocate"):
                raise not_supported(f"A prepared {kind.upper()} statement")
        stype = statement_type(self.sql)
        if kind == "select":
            stmt = None  # parsed by the compilation, unless it is remembered
        else:
            (stmt,) = parse(self.sql)
            if kind not in statements.RAW_KINDS:
                stmt = substitute_parameters(stmt, self.params)
        self._check_cancelled()
        con = self._connection()
        try:
            if kind == "select":
                return self._select(con, stype)
            return statements.run(self, con, stmt, kind, stype)
        except duckdb.InterruptException:
            raise AthenaQueryError("USER_CANCELLED", "Query was cancelled by user") from None
        except (AthenaQueryError, MalformedQuery):
            raise
        except duckdb.Error as err:
            raise map_duckdb_error(err) from None
        except Exception as err:  # noqa: BLE001 - a bug here must still end the query FAILED, as Athena's do
            raise AthenaQueryError("GENERIC_INTERNAL_ERROR", f"{type(err).__name__}: {err}", error_category=1,
                                   retryable=False) from err
        finally:
            with self._lock:
                self._con = None
            con.close()
            for binder in self._binders:
                binder.close()
            self._check_cancelled()

    def binder(self, con: duckdb.DuckDBPyConnection) -> Binder:
        binder = Binder(con, self.catalog, self.storage, self.catalog_name, self._cancelled, _DATABASE.blobs,
                        object_files())
        self._binders.append(binder)
        return binder

    def _statement(self) -> exp.Query:
        (stmt,) = parse(self.sql)
        if not isinstance(stmt, exp.Query):
            raise not_supported(f"Statement {type(stmt).__name__}")
        return substitute_parameters(stmt, self.params)

    def _select(self, con, stype) -> QueryOutcome:
        binder = self.binder(con)
        # The compilation depends on the text, its parameters, the database context and catalog
        # (and on the catalog's answers, which the cache checks).
        key = (self.sql, tuple(self.params or ()), self.database, self.catalog_name)
        sql, original, zones = compile_select_cached(key, self._statement, binder, self.database)
        self._check_cancelled()
        table, columns = run_select(con, sql, original, zones)
        return QueryOutcome(statement_type=stype, result_format="csv", columns=columns, table=table,
                            data_scanned_bytes=binder.bytes_read)
