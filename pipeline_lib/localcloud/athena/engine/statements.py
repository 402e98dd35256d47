"""Dispatch of the statements other than SELECT (filled in by ddl/writers)."""

from __future__ import annotations

from .errors import not_supported

__all__ = ["run"]


def run(query, con, stmt, kind: str, stype: str):
    raise not_supported(f"Statement kind {kind!r}")
