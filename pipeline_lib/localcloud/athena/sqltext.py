"""Small pure helpers over query text the service itself must understand (the engine parses SQL;
the service only recognises EXECUTE of a prepared statement and splits its USING list)."""
from __future__ import annotations

import re

__all__ = ["ExecuteStatement", "parse_deallocate", "parse_execute", "parse_prepare", "split_top_level"]

_EXECUTE = re.compile(r"^\s*EXECUTE\s+(?P<name>\"(?:[^\"]|\"\")+\"|[A-Za-z_][A-Za-z0-9_]*)"
                      r"(?:\s+USING\s+(?P<using>.*?))?\s*;?\s*$", re.IGNORECASE | re.DOTALL)


_NAME = r"(?P<name>\"(?:[^\"]|\"\")+\"|[A-Za-z_][A-Za-z0-9_]*)"
_PREPARE = re.compile(r"^\s*PREPARE\s+" + _NAME + r"\s+FROM\s+(?P<statement>.*?)\s*;?\s*$", re.IGNORECASE | re.DOTALL)
_DEALLOCATE = re.compile(r"^\s*DEALLOCATE\s+PREPARE\s+" + _NAME + r"\s*;?\s*$", re.IGNORECASE | re.DOTALL)


def _name(raw: str) -> str:
    return raw[1:-1].replace('""', '"') if raw.startswith('"') else raw


def parse_prepare(sql: str) -> tuple[str, str] | None:
    """`PREPARE name FROM statement` -> (name, statement); None for any other statement."""
    match = _PREPARE.match(sql)
    return None if match is None else (_name(match.group("name")), match.group("statement"))


def parse_deallocate(sql: str) -> str | None:
    """`DEALLOCATE PREPARE name` -> name; None for any other statement."""
    match = _DEALLOCATE.match(sql)
    return None if match is None else _name(match.group("name"))


class ExecuteStatement:
    def __init__(self, name: str, using: list[str]):
        self.name = name
        self.using = using


def split_top_level(text: str) -> list[str]:
    """`a, 'b,c', f(x, y)` -> ["a", "'b,c'", "f(x, y)"]: commas outside quotes and brackets."""
    parts: list[str] = []
    depth = 0
    quote: str | None = None
    start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                if i + 1 < len(text) and text[i + 1] == quote:  # a doubled quote stays inside
                    i += 1
                else:
                    quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    tail = text[start:].strip()
    if tail or parts:
        parts.append(tail)
    return parts


def parse_execute(sql: str) -> ExecuteStatement | None:
    """`EXECUTE name [USING v1, v2]` -> its parts; None for any other statement."""
    match = _EXECUTE.match(sql)
    if match is None:
        return None
    name = match.group("name")
    if name.startswith('"'):
        name = name[1:-1].replace('""', '"')
    using = split_top_level(match.group("using")) if match.group("using") else []
    return ExecuteStatement(name, using)
