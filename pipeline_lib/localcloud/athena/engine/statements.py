"""Dispatch of every statement kind other than a plain query, inside an undo log."""

from __future__ import annotations

import pyarrow as pa
from sqlglot import exp

from . import ddl, dml, show
from .changes import Changes
from .errors import not_supported, user_error
from .information_schema import trino_type
from .types import arrow_to_glue

__all__ = ["run", "RAW_KINDS"]

# Statements sqlglot keeps as raw text (exp.Command): parameters are substituted by their handler.
RAW_KINDS = {"unload", "msck", "alter_table", "show", "explain"}


def run(query, con, stmt: exp.Expression, kind: str, stype: str):
    changes = Changes(query.catalog, query.storage)
    try:
        outcome = _dispatch(query, changes, con, stmt, kind)
        query._check_cancelled()
        return outcome
    except BaseException:
        changes.rollback()
        raise


def _describe_columns(query, con):
    """The columns a view's query produces: (name, Trino type for the Presto view JSON, Arrow type)."""
    def describe(expr: exp.Expression):
        table, _, _ = dml.run_query(query, con, exp.select("*").from_(expr.subquery("_v")).limit(0)
                                    if isinstance(expr, exp.Query) else expr)
        out = []
        for f in table.schema:
            if pa.types.is_null(f.type):
                raise user_error("NOT_SUPPORTED", f"View column '{f.name}' has no type (a bare NULL); cast it")
            out.append((f.name, trino_type(arrow_to_glue(f.type)), f.type))
        return out
    return describe


def _dispatch(query, changes, con, stmt, kind):
    if kind == "ctas":
        return dml.ctas(query, changes, con, stmt)
    if kind == "insert":
        return dml.insert(query, changes, con, stmt)
    if kind == "unload":
        return dml.unload(query, changes, con, query.params)
    if kind == "explain":
        return dml.explain(query, con, query.params)
    if kind == "create_database":
        return ddl.create_database(query, changes, stmt)
    if kind in ("drop_database", "drop_table", "drop_view"):
        return ddl.drop(query, changes, stmt)
    if kind == "create_table":
        return ddl.create_table(query, changes, stmt)
    if kind == "create_view":
        return ddl.create_view(query, changes, stmt, _describe_columns(query, con))
    if kind == "msck":
        return ddl.msck_repair(query, changes, query.sql)
    if kind == "alter_table":
        return ddl.alter_table(query, changes, query.sql)
    if kind == "show":
        return show.show(query, query.sql)
    if kind == "describe":
        return show.describe(query, stmt)
    raise not_supported(f"Statement {kind.upper()}")
