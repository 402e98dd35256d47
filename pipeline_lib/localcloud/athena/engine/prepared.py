"""PREPARE, EXECUTE ... USING and DEALLOCATE PREPARE (Athena's SQL for prepared statements)."""

from __future__ import annotations

import re

from .errors import not_supported, user_error
from .results import ddl_outcome

__all__ = ["prepare", "deallocate", "resolve_execute", "split_literals"]

_PREPARE = re.compile(r"^\s*PREPARE\s+(\w+)\s+FROM\s+(.+?)\s*;?\s*$", re.I | re.S)
_EXECUTE = re.compile(r"^\s*EXECUTE\s+(\w+)(?:\s+USING\s+(.+?))?\s*;?\s*$", re.I | re.S)
_DEALLOCATE = re.compile(r"^\s*DEALLOCATE\s+PREPARE\s+(\w+)\s*;?\s*$", re.I | re.S)


def _store(query):
    if query.prepared_statements is None:
        raise not_supported("Prepared statements without a work group store")
    return query.prepared_statements


def split_literals(text: str) -> list[str]:
    """`1, 'a,b', DATE '2024-01-01'` -> the literals' SQL texts (commas inside quotes/brackets kept)."""
    out, cur, depth, quote = [], [], 0, False
    for ch in text:
        if ch == "'":
            quote = not quote
        elif not quote and ch in "([":
            depth += 1
        elif not quote and ch in ")]":
            depth -= 1
        elif ch == "," and not quote and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def prepare(query, sql: str):
    m = _PREPARE.match(sql)
    if not m:
        raise user_error("SYNTAX_ERROR", "line 1:1: expected PREPARE <name> FROM <statement>")
    from .parse import parse
    parse(m.group(2))  # a statement that does not parse is refused now, not at EXECUTE
    _store(query).put_prepared_statement(m.group(1), m.group(2))
    return ddl_outcome()


def deallocate(query, sql: str):
    m = _DEALLOCATE.match(sql)
    if not m:
        raise user_error("SYNTAX_ERROR", "line 1:1: expected DEALLOCATE PREPARE <name>")
    store = _store(query)
    if store.get_prepared_statement(m.group(1)) is None:
        raise user_error("NOT_FOUND", f"Prepared statement not found: {m.group(1)}")
    store.delete_prepared_statement(m.group(1))
    return ddl_outcome()


def resolve_execute(query, sql: str, params: list[str] | None) -> tuple[str, list[str] | None]:
    """EXECUTE name [USING ...]: the prepared statement's text and its parameters (USING values,
    else the execution parameters)."""
    m = _EXECUTE.match(sql)
    if not m:
        raise user_error("SYNTAX_ERROR", "line 1:1: expected EXECUTE <name> [USING <values>]")
    text = _store(query).get_prepared_statement(m.group(1))
    if text is None:
        raise user_error("NOT_FOUND", f"Prepared statement not found: {m.group(1)}")
    if m.group(2):
        if params:
            raise user_error("INVALID_PARAMETER_USAGE", "Use either EXECUTE ... USING or execution parameters, not both")
        params = split_literals(m.group(2))
    return text, params
