"""Parsing Athena SQL: the syntax check StartQueryExecution makes, and what kind of statement it is.

sqlglot's `athena` dialect reads Hive DDL (CREATE EXTERNAL TABLE, ...) and Trino DML; statements
it does not model (SHOW, MSCK, UNLOAD, EXPLAIN) come back as `exp.Command`, recognised here by
their leading words.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from .errors import MalformedQuery

__all__ = ["parse_check", "statement_type", "parse", "classify", "strip_comments"]

# sqlglot logs "falling back to Command" for statements it does not model; that is expected here.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_LEADING = re.compile(r"^\s*(?:(?:--[^\n]*\n)|(?:/\*.*?\*/)|\s)*", re.S)


def strip_comments(sql: str) -> str:
    return _LEADING.sub("", sql, count=1)


def _first_words(sql: str, n: int = 3) -> list[str]:
    return re.findall(r"[A-Za-z_]+", strip_comments(sql))[:n]


_KNOWN_FIRST = {"SELECT", "WITH", "VALUES", "TABLE", "CREATE", "DROP", "ALTER", "INSERT", "UNLOAD", "MSCK",
                "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "PREPARE", "EXECUTE", "DEALLOCATE", "USE"}


def classify(sql: str) -> str:
    """A fine-grained kind: select, ctas, create_view, create_table, create_database, drop_table,
    drop_view, drop_database, insert, unload, msck, alter_table, show, describe, explain."""
    words = [w.upper() for w in _first_words(sql, 6)]
    if not words:
        return "empty"
    head = words[0]
    if head in ("SELECT", "WITH", "VALUES", "TABLE") or strip_comments(sql).startswith("("):
        return "select"
    if head == "CREATE":
        rest = [w for w in words[1:] if w not in ("OR", "REPLACE", "EXTERNAL", "IF", "NOT", "EXISTS")]
        kind = rest[0] if rest else ""
        if kind in ("DATABASE", "SCHEMA"):
            return "create_database"
        if kind == "VIEW":
            return "create_view"
        if kind == "TABLE":
            return "ctas" if re.search(r"\)\s*AS\s*(\(|SELECT|WITH|VALUES)|\bAS\s*(\(|SELECT|WITH|VALUES)",
                                       _without_strings(sql), re.I) else "create_table"
        return "create_other"
    if head == "DROP":
        kind = words[1] if len(words) > 1 else ""
        return {"DATABASE": "drop_database", "SCHEMA": "drop_database", "VIEW": "drop_view"}.get(kind, "drop_table")
    if head == "DEALLOCATE":
        return "deallocate"
    return {"INSERT": "insert", "UNLOAD": "unload", "MSCK": "msck", "ALTER": "alter_table", "SHOW": "show",
            "DESCRIBE": "describe", "DESC": "describe", "EXPLAIN": "explain"}.get(head, head.lower())


def _without_strings(sql: str) -> str:
    return re.sub(r"'(?:[^']|'')*'", "''", sql)


def statement_type(sql: str) -> str:
    """Athena's StatementType: DML for queries and data writes, DDL for catalog changes, UTILITY for
    SHOW/DESCRIBE/EXPLAIN."""
    kind = classify(sql)
    if kind in ("select", "ctas", "insert", "unload"):
        return "DML"
    if kind in ("show", "describe", "explain"):
        return "UTILITY"
    return "DDL"


def _position(sql: str, err: ParseError) -> tuple[int, int, str]:
    info = err.errors[0] if err.errors else {}
    line = info.get("line") or 1
    col = info.get("col") or 1
    token = (info.get("highlight") or "").strip()
    if token:
        # sqlglot reports where the offending token ends; Athena the column where it starts (1-based).
        col = max(1, col - len(token) + 1)
    return line, col, token


def parse(sql: str) -> list[exp.Expression]:
    """sqlglot expressions for the statement (one statement; a trailing ';' is allowed)."""
    text = sql.strip()
    if not text:
        raise MalformedQuery("line 1:1: mismatched input '<EOF>'. Expecting: 'ALTER', 'ANALYZE', 'CALL', "
                             "'CREATE', 'DEALLOCATE', 'DELETE', 'DESC', 'DESCRIBE', 'DROP', 'EXECUTE', 'EXPLAIN', "
                             "'GRANT', 'INSERT', 'MERGE', 'PREPARE', 'RESET', 'REVOKE', 'ROLLBACK', 'SELECT', "
                             "'SET', 'SHOW', 'START', 'UNLOAD', 'UPDATE', 'USE', 'VALUES', 'WITH', <query>")
    words = _first_words(text, 1)
    if words and words[0].upper() not in _KNOWN_FIRST and not strip_comments(text).startswith("("):
        word = words[0]
        start = text.find(word)
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        raise MalformedQuery(f"line {line}:{col}: mismatched input '{word}'. Expecting: 'ALTER', 'ANALYZE', "
                             "'CALL', 'CREATE', 'DEALLOCATE', 'DELETE', 'DESC', 'DESCRIBE', 'DROP', 'EXECUTE', "
                             "'EXPLAIN', 'GRANT', 'INSERT', 'MERGE', 'PREPARE', 'RESET', 'REVOKE', 'ROLLBACK', "
                             "'SELECT', 'SET', 'SHOW', 'START', 'UNLOAD', 'UPDATE', 'USE', 'VALUES', 'WITH', <query>")
    try:
        statements = [s for s in sqlglot.parse(text, read="athena") if s is not None]
    except ParseError as err:
        line, col, token = _position(text, err)
        info = err.errors[0] if err.errors else {}
        at_end = bool(token) and text.rstrip().rstrip(";").endswith(token) and bool(
            re.search(r"Required keyword|Expect", str(info.get("description", ""))))
        if not token or at_end:
            # The statement ended where more was expected: Trino reports '<EOF>' after the last character.
            lines = text.rstrip().split("\n")
            line, col, token = len(lines), len(lines[-1]) + 1, ""
        found = f"'{token}'" if token else "'<EOF>'"
        raise MalformedQuery(f"line {line}:{col}: mismatched input {found}") from None
    except TokenError as err:
        raise MalformedQuery(f"line 1:1: {err}") from None
    if len(statements) != 1:
        raise MalformedQuery("line 1:1: Only one sql statement is allowed. Got: " + str(len(statements)))
    return statements


class _Accepted:
    """Texts that parsed, the most recently checked kept up to `limit` characters in all: a client
    that runs the same statements again (a dashboard, a poll) is not parsed again on every call."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._held = 0
        self._texts: "OrderedDict[str, None]" = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, sql: str) -> bool:
        with self._lock:
            if sql in self._texts:
                self._texts.move_to_end(sql)
                return True
        return False

    def add(self, sql: str) -> None:
        if len(sql) > self._limit:
            return
        with self._lock:
            if sql not in self._texts:
                self._texts[sql] = None
                self._held += len(sql)
            while self._held > self._limit:
                dropped, _ = self._texts.popitem(last=False)
                self._held -= len(dropped)


_ACCEPTED = _Accepted(1_000_000)


def parse_check(sql: str) -> None:
    """Raise MalformedQuery if StartQueryExecution would refuse the text."""
    if sql in _ACCEPTED:
        return
    parse(sql)
    _ACCEPTED.add(sql)
