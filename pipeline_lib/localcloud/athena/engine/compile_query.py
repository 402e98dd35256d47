"""Compiling and running a query expression: the step every statement that reads shares (a plain
SELECT, CREATE TABLE AS, INSERT INTO, UNLOAD, EXPLAIN, a view's column types).

A plain SELECT's compilation (parse, bind, analysis, translation: about as long as DuckDB takes to
answer a small query) is remembered by its text, parameters and database context, and reused
while the catalog answers the lookups it made as it did then; the data (partitions, objects) is
read again every time.

Below the statement modules (query, statements, ddl, dml): it imports none of them, so imports
flow one way, query -> statements -> ddl/dml/show -> compile_query -> resolve/transpile/execute.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from .catalog import TableName, position
from .errors import user_error
from .execute import run_select
from .resolve import Binder, TableRead
from .transpile import before_typing, fix_semantics, name_unnamed_columns, qualify_and_type, to_duckdb
from .typecheck import check_types

__all__ = ["CompiledSelects", "compile_select", "compile_select_cached", "run_query", "require_column_names"]


def _compile(stmt: exp.Expression, binder: Binder, default_db: str | None):
    """Bind and analyse, read the tables, translate: the DuckDB SQL (without its scans), the typed
    tree as written, the zones, what was read of each table."""
    original = stmt.copy()
    stmt = binder.bind(stmt, default_db)
    stmt = before_typing(stmt)
    name_unnamed_columns(stmt)
    stmt = qualify_and_type(stmt, binder.schema)
    check_types(stmt)
    reads = binder.plan(stmt)
    binder.read(reads)
    zones: dict[str, str] = {}
    stmt = fix_semantics(stmt, zones)
    return to_duckdb(stmt), original, zones, reads


def compile_select(stmt: exp.Expression, binder: Binder, default_db: str | None) -> tuple[str, exp.Expression, dict]:
    """Bind and load the tables of a query expression; the DuckDB SQL, the typed tree, the zones."""
    sql, original, zones, _ = _compile(stmt, binder, default_db)
    return binder.with_scans(sql), original, zones


@dataclass(frozen=True)
class _Compiled:
    sql: str  # DuckDB's text, before the scans of this run are put in front
    original: exp.Expression  # read only (error positions)
    zones: dict[str, str]
    reads: list[TableRead]
    tables: list[TableName]
    lookups: tuple[tuple[str, tuple, Any], ...]  # (catalog method, arguments, answer) made by the binding


class _RecordingCatalog:
    """The catalog as the binding sees it, with the databases and tables it looked up recorded."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.lookups: list[tuple[str, tuple, Any]] = []

    def get_database(self, name: str) -> dict | None:
        answer = self.inner.get_database(name)
        self.lookups.append(("get_database", (name,), answer))
        return answer

    def get_table(self, database: str, name: str) -> dict | None:
        answer = self.inner.get_table(database, name)
        self.lookups.append(("get_table", (database, name), answer))
        return answer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CompiledSelects:
    """Compiled SELECTs, at most `limit` (least recently used dropped first). An entry is used only
    when every catalog lookup its binding made gives the same answer again (a table's Glue dict
    carries its VersionId and CreateTime: an updated, dropped or re-created table or view, or a
    database that appeared or went, is a miss and compiles afresh)."""

    def __init__(self, limit: int = 256) -> None:
        self._limit = limit
        self._entries: "OrderedDict[Hashable, _Compiled]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, catalog: Any) -> _Compiled | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is None:
            return None
        if any(getattr(catalog, method)(*args) != answer for method, args, answer in entry.lookups):
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            return None
        return entry

    def put(self, key: Hashable, entry: _Compiled) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


# Entries are small (a statement tree, the Glue dicts of its tables): 256 of them is a few MB at most.
COMPILED = CompiledSelects(256)


def compile_select_cached(key: Hashable, statement: Callable[[], exp.Expression], binder: Binder,
                          default_db: str | None, cache: CompiledSelects = COMPILED) -> tuple[str, exp.Expression, dict]:
    """`compile_select` of `statement()` (parsed only when the cache cannot answer), remembered under
    `key`, which must name everything the compilation depends on beyond the catalog's answers."""
    hit = cache.get(key, binder.catalog)
    if hit is not None:
        binder.tables.extend(hit.tables)
        binder.read(hit.reads)
        return binder.with_scans(hit.sql), hit.original, dict(hit.zones)
    recorder = _RecordingCatalog(binder.catalog)
    binder.catalog = recorder
    try:
        stmt = statement()
        sql, original, zones, reads = _compile(stmt, binder, default_db)
    finally:
        binder.catalog = recorder.inner
    if binder.cacheable:
        cache.put(key, _Compiled(sql, original, dict(zones), reads, list(binder.tables), tuple(recorder.lookups)))
    return binder.with_scans(sql), original, zones


def run_query(query, con, expr: exp.Expression):
    """Run a query expression for `query` (an engine Query: its binder, database, cancellation):
    the Arrow rows, their Athena column infos, the binder (what was read)."""
    binder = query.binder(con)
    sql, original, zones = compile_select(expr, binder, query.database)
    query._check_cancelled()
    table, infos = run_select(con, sql, original, zones)
    return table, infos, binder


def require_column_names(expr: exp.Expression) -> None:
    """CTAS and views need a name for every column (Trino: MISSING_COLUMN_NAME)."""
    select = expr
    while isinstance(select, (exp.SetOperation, exp.Subquery)):
        select = select.this
    if isinstance(select, exp.Select):
        for i, e in enumerate(select.expressions, 1):
            if not isinstance(e, (exp.Alias, exp.Column, exp.Star, exp.Dot)):
                raise user_error("MISSING_COLUMN_NAME", f"{position(e)}: Column name not specified at position {i}")
