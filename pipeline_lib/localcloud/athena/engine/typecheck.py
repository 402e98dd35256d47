"""Trino's type strictness where DuckDB is lenient: no implicit varchar <-> number / date coercion.

DuckDB happily compares `bigint_col = '1'` or `date_col = '2024-01-01'` and concatenates numbers to
strings; Athena (Trino) refuses these with TYPE_MISMATCH / FUNCTION_NOT_FOUND. A query that works
here must work on AWS, so the same statements are refused here. Only operands whose types are
certain (columns, literals, casts) are judged; anything sqlglot could not type is left alone.
"""

from __future__ import annotations

from contextvars import ContextVar

from sqlglot import exp

from .catalog import position
from .errors import user_error

__all__ = ["check_types"]

T = exp.DataType.Type
_FAMILIES = {
    "number": {T.TINYINT, T.SMALLINT, T.INT, T.BIGINT, T.INT128, T.DECIMAL, T.FLOAT, T.DOUBLE},
    "string": {T.VARCHAR, T.CHAR, T.TEXT},
    "datetime": {T.DATE, T.TIMESTAMP, T.TIMESTAMPTZ, T.DATETIME},
    "boolean": {T.BOOLEAN},
}
_NAMES = {T.TINYINT: "tinyint", T.SMALLINT: "smallint", T.INT: "integer", T.BIGINT: "bigint", T.FLOAT: "real",
          T.DOUBLE: "double", T.DATE: "date", T.TIMESTAMP: "timestamp(3)", T.DATETIME: "timestamp(3)",
          T.TIMESTAMPTZ: "timestamp(3) with time zone", T.BOOLEAN: "boolean", T.VARCHAR: "varchar",
          T.TEXT: "varchar", T.CHAR: "char"}
_STRING_FUNCTIONS = (exp.Upper, exp.Lower, exp.Length, exp.Trim)
_BASE: ContextVar[set[str]] = ContextVar("athena_base_aliases", default=set())


def _certain(node: exp.Expression, base_aliases: set[str]) -> bool:
    """Literals, casts and columns of catalog tables have types known for sure."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column):
        return node.table.lower() in base_aliases
    return isinstance(node, (exp.Literal, exp.Cast)) or (isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal))


def _family(node: exp.Expression, base_aliases: set[str] | None = None) -> str | None:
    t = node.type
    if t is None or not _certain(node, _BASE.get() if base_aliases is None else base_aliases):
        return None
    return next((f for f, types in _FAMILIES.items() if t.this in types), None)


def _name(node: exp.Expression) -> str:
    t = node.type
    if isinstance(node, exp.Literal) and node.is_string:
        return f"varchar({len(node.this)})"
    if t.this == T.DECIMAL and len(t.expressions) == 2:
        return "decimal({},{})".format(*(e.this.name for e in t.expressions))
    return _NAMES.get(t.this, t.sql("trino").lower())


_OPERATORS = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=", exp.Add: "+",
              exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}


def _where(node: exp.Expression) -> str:
    first = next((n for n in node.walk(bfs=False) if isinstance(n, (exp.Literal, exp.Identifier))
                  and n.meta), None)
    return position(first) if first is not None else "line 1:1"


def check_types(stmt: exp.Expression) -> None:
    # Aliases of the catalog tables the statement reads (bound as __tN by resolve.Binder).
    aliases = {t.alias_or_name.lower() for t in stmt.find_all(exp.Table) if t.name.startswith("__t")}
    token = _BASE.set(aliases)
    try:
        _check(stmt)
    finally:
        _BASE.reset(token)


def _check(stmt: exp.Expression) -> None:
    for node in stmt.walk():
        if type(node) in _OPERATORS:
            left, right = node.left, node.right
            fl, fr = _family(left), _family(right)
            if fl and fr and fl != fr and not (type(node) in (exp.Add, exp.Sub) and {fl, fr} == {"datetime", "number"}):
                raise user_error("TYPE_MISMATCH", f"{_where(node)}: Cannot apply operator: "
                                 f"{_name(left)} {_OPERATORS[type(node)]} {_name(right)}")
        elif isinstance(node, (exp.In, exp.Between)):
            others = node.expressions if isinstance(node, exp.In) else [node.args.get("low"), node.args.get("high")]
            fl = _family(node.this)
            for other in others:
                if other is None:
                    continue
                fo = _family(other)
                if fl and fo and fl != fo:
                    raise user_error("TYPE_MISMATCH", f"{_where(node)}: Cannot apply operator: "
                                     f"{_name(node.this)} = {_name(other)}" if isinstance(node, exp.In) else
                                     f"{_where(node)}: Cannot check if {_name(node.this)} is BETWEEN "
                                     f"{_name(other)} and {_name(other)}")
        elif isinstance(node, (exp.DPipe, exp.Concat)):
            args = [node.this, node.expression] if isinstance(node, exp.DPipe) else node.expressions
            families = [_family(a) for a in args]
            if any(f not in (None, "string") for f in families):
                if isinstance(node, exp.DPipe):
                    raise user_error("TYPE_MISMATCH", f"{_where(node)}: Cannot apply operator: "
                                     f"{_name(args[0]) if families[0] else 'varchar'} || "
                                     f"{_name(args[1]) if families[1] else 'varchar'}")
                shown = ", ".join(_name(a) if f else "varchar" for a, f in zip(args, families))
                raise user_error("FUNCTION_NOT_FOUND", f"{_where(node)}: Unexpected parameters ({shown}) for function concat")
        elif isinstance(node, (exp.Case, exp.Coalesce, exp.If)):
            if isinstance(node, exp.Case):
                values, what = [i.args.get("true") for i in node.args.get("ifs") or []] + [node.args.get("default")], "CASE results"
            elif isinstance(node, exp.If):
                values, what = [node.args.get("true"), node.args.get("false")], "IF results"
            else:
                values, what = [node.this, *node.expressions], "COALESCE operands"
            typed = [(v, _family(v)) for v in values if v is not None]
            typed = [(v, f) for v, f in typed if f is not None]
            if len({f for _, f in typed}) > 1:
                first, second = typed[0][0], next(v for v, f in typed if f != typed[0][1])
                names = list(dict.fromkeys(_name(v) for v, _ in typed))
                raise user_error("TYPE_MISMATCH", f"{_where(node)}: All {what} must be the same type or coercible to a "
                                 f"common type. Cannot find common type between {_name(first)} and {_name(second)}, "
                                 f"all types (without duplicates): [{', '.join(names)}]")
        elif isinstance(node, exp.SetOperation) and isinstance(node.left, exp.Select) and isinstance(node.right, exp.Select):
            kind = {exp.Union: "UNION", exp.Intersect: "INTERSECT", exp.Except: "EXCEPT"}.get(type(node), "UNION")
            for i, (a, b) in enumerate(zip(node.left.expressions, node.right.expressions), 1):
                a, b = (a.this if isinstance(a, exp.Alias) else a), (b.this if isinstance(b, exp.Alias) else b)
                fa, fb = _family(a), _family(b)
                if fa and fb and fa != fb:
                    raise user_error("TYPE_MISMATCH", f"{_where(node)}: column {i} in {kind} query has incompatible "
                                     f"types: {_name(a)}, {_name(b)}")
        elif isinstance(node, _STRING_FUNCTIONS):
            f = _family(node.this)
            if f not in (None, "string"):
                fname = {exp.Upper: "upper", exp.Lower: "lower", exp.Length: "length", exp.Trim: "trim"}[type(node)]
                raise user_error("FUNCTION_NOT_FOUND",
                                 f"{_where(node)}: Unexpected parameters ({_name(node.this)}) for function {fname}")
