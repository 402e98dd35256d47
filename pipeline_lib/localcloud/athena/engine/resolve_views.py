"""Athena's Presto view encoding in Glue: ViewOriginalText = '/* Presto View: <base64 JSON> */'."""

from __future__ import annotations

import base64
import json

from .errors import user_error

__all__ = ["encode_view", "decode_view", "decode_view_sql", "VIEW_PREFIX", "VIEW_SUFFIX"]

VIEW_PREFIX = "/* Presto View: "
VIEW_SUFFIX = " */"


def encode_view(view: dict) -> str:
    return VIEW_PREFIX + base64.b64encode(json.dumps(view, separators=(",", ":")).encode()).decode() + VIEW_SUFFIX


def decode_view(text: str) -> dict:
    if not text.startswith(VIEW_PREFIX) or not text.endswith(VIEW_SUFFIX):
        raise user_error("HIVE_INVALID_VIEW_DATA", "View data missing prefix: /* Presto View: ")
    return json.loads(base64.b64decode(text[len(VIEW_PREFIX):-len(VIEW_SUFFIX)]))


def decode_view_sql(text: str) -> str | None:
    try:
        return decode_view(text)["originalSql"]
    except Exception:  # noqa: BLE001 - a view another engine wrote: no definition to show
        return None
