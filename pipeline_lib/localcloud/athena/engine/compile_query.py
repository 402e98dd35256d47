"""Compiling and running a query expression: the step every statement that reads shares (a plain
SELECT, CREATE TABLE AS, INSERT INTO, UNLOAD, EXPLAIN, a view's column types).

Below the statement modules (query, statements, ddl, dml): it imports none of them, so imports
flow one way, query -> statements -> ddl/dml/show -> compile_query -> resolve/transpile/execute.
"""

from __future__ import annotations

from sqlglot import exp

from .catalog import position
from .errors import user_error
from .execute import run_select
from .resolve import Binder
from .transpile import before_typing, fix_semantics, name_unnamed_columns, qualify_and_type, to_duckdb
from .typecheck import check_types

__all__ = ["compile_select", "run_query", "require_column_names"]


def compile_select(stmt: exp.Expression, binder: Binder, default_db: str | None) -> tuple[str, exp.Expression, dict]:
    """Bind and load the tables of a query expression; the DuckDB SQL, the typed tree, the zones."""
    original = stmt.copy()
    stmt = binder.bind(stmt, default_db)
    stmt = before_typing(stmt)
    name_unnamed_columns(stmt)
    stmt = qualify_and_type(stmt, binder.schema)
    check_types(stmt)
    binder.load(stmt)
    zones: dict[str, str] = {}
    stmt = fix_semantics(stmt, zones)
    return binder.with_scans(to_duckdb(stmt)), original, zones


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
