"""Dispatch of every statement kind other than a plain query, inside an undo log."""

from __future__ import annotations

from sqlglot import exp

from . import ddl, dml, show
from .changes import Changes
from .errors import not_supported

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
    def describe(expr: exp.Expression):
        table, infos, _ = dml.run_query(query, con, exp.select("*").from_(expr.subquery("_v")).limit(0)
                                        if isinstance(expr, exp.Query) else expr)
        out = []
        for f, info in zip(table.schema, infos):
            out.append((f.name, _sql_type(f.type, info), f.type))
        return out
    return describe


def _sql_type(t, info) -> str:
    import pyarrow as pa
    if info.type == "decimal":
        return f"decimal({info.precision},{info.scale})"
    if pa.types.is_list(t) or pa.types.is_map(t) or pa.types.is_struct(t):
        from pipeline_lib import schema
        return _trino(schema.from_arrow(t))
    return {"float": "real"}.get(info.type, info.type)


def _trino(t) -> str:
    from pipeline_lib import schema
    if isinstance(t, schema.ArrayType):
        return f"array({_trino(t.element)})"
    if isinstance(t, schema.MapType):
        return f"map({_trino(t.key)}, {_trino(t.value)})"
    if isinstance(t, schema.StructType):
        return "row(" + ", ".join(f"{f.name} {_trino(f.type)}" for f in t.fields) + ")"
    name = str(t)
    return {"string": "varchar", "int": "integer", "float": "real"}.get(name, name)


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
