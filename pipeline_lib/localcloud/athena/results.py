"""The files Athena writes for a query, as bytes (pure: no S3, no moto).

- SELECT (and every statement with a CSV result set): ``<id>.csv`` — a header row of the column
  names, then one line per row; every non-NULL field in double quotes with ``"`` doubled, NULL an
  empty (unquoted) field, ``\\n`` line ends — and ``<id>.csv.metadata``.
- DDL/utility output (SHOW, DESCRIBE, ...): ``<id>.txt`` and ``<id>.txt.metadata``.
- CTAS, INSERT INTO, UNLOAD: the data files (written by the engine), ``<id>-manifest.csv`` (their
  ``s3://`` URIs, one a line) and ``<id>.metadata``.

The ``.metadata`` files are Athena's binary result-set metadata: a protobuf message whose field 1
is the engine's query id (``yyyyMMdd_HHmmss_NNNNN_xxxxx``) and whose repeated field 4 holds one
ColumnInfo each (1 CatalogName, 2 SchemaName, 3 TableName, 4 Name, 5 Label, 6 Type, 7 Precision,
8 Scale, 9 Nullable (1 NOT_NULL, 2 NULLABLE, 3 UNKNOWN), 10 CaseSensitive), proto3 encoding:
fields with their default value are left out. This is the layout of files Athena wrote (a
published hexdump: ``0a 1b "20190423_125128_00001_ehtur" 22 19 0a 04 "hive" 22 03 "ary" 2a 03
"ary" 32 05 "array" 48 03``).
"""
from __future__ import annotations

import random
import string
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any

from .. import protobuf

__all__ = [
    "NULLABLE_CODES",
    "csv_bytes",
    "csv_line",
    "engine_query_id",
    "manifest_bytes",
    "metadata_bytes",
]

NULLABLE_CODES = {"NOT_NULL": 1, "NULLABLE": 2, "UNKNOWN": 3}


def csv_line(fields: Sequence[str | None]) -> str:
    """One CSV line as Athena writes it: quoted values, quotes doubled, NULL empty."""
    return ",".join("" if value is None else '"' + value.replace('"', '""') + '"' for value in fields) + "\n"


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str | None]]) -> bytes:
    """``<id>.csv``: the header row (names quoted like values), then the rows."""
    parts = [csv_line(header)]
    parts.extend(csv_line(row) for row in rows)
    return "".join(parts).encode("utf-8")


def manifest_bytes(uris: Iterable[str]) -> bytes:
    """``<id>-manifest.csv``: one ``s3://`` URI a line (each line ends with ``\\n``)."""
    return "".join(f"{uri}\n" for uri in uris).encode("utf-8")


def engine_query_id(when: datetime | None = None, sequence: int = 0, rng: random.Random | None = None) -> str:
    """A Trino-style query id (``20190423_125128_00001_ehtur``), as the metadata files carry."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    rng = rng or random.Random()
    suffix = "".join(rng.choice(string.ascii_lowercase) for _ in range(5))
    return f"{when:%Y%m%d_%H%M%S}_{sequence % 100000:05d}_{suffix}"


# -- protobuf (proto3) encoding, the few wire types the metadata uses ------------------------------
def _string(field: int, value: str) -> bytes:
    if not value:
        return b""
    data = value.encode("utf-8")
    return protobuf.length_delimited(field, data)


def _int(field: int, value: int) -> bytes:
    return b"" if not value else protobuf.key(field, 0) + protobuf.varint(value)


def _column(info: dict[str, Any]) -> bytes:
    return b"".join((
        _string(1, info.get("CatalogName", "")),
        _string(2, info.get("SchemaName", "")),
        _string(3, info.get("TableName", "")),
        _string(4, info.get("Name", "")),
        _string(5, info.get("Label", "")),
        _string(6, info.get("Type", "")),
        _int(7, int(info.get("Precision", 0))),
        _int(8, int(info.get("Scale", 0))),
        _int(9, NULLABLE_CODES.get(info.get("Nullable", "UNKNOWN"), 3)),
        _int(10, 1 if info.get("CaseSensitive") else 0),
    ))


def metadata_bytes(engine_id: str, columns: Sequence[dict[str, Any]]) -> bytes:
    """A ``.metadata`` file: the engine query id and the result set's ColumnInfo (API shape)."""
    out = bytearray(_string(1, engine_id))
    for info in columns:
        body = _column(info)
        out += protobuf.length_delimited(4, body)
    return bytes(out)


def parse_csv(body: bytes) -> list[list[str | None]]:
    """The rows of a result CSV as Athena wrote it (header included): a quoted field is a value
    (quotes doubled inside, line breaks allowed), an empty unquoted field is NULL."""
    text = body.decode("utf-8")
    rows: list[list[str | None]] = []
    row: list[str | None] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            j = i + 1
            parts = []
            while True:
                k = text.index('"', j)
                parts.append(text[j:k])
                if k + 1 < n and text[k + 1] == '"':
                    parts.append('"')
                    j = k + 2
                    continue
                i = k + 1
                break
            row.append("".join(parts))
        else:
            row.append(None)  # an empty unquoted field
        if i >= n or text[i] == "\n":
            rows.append(row)
            row = []
            i += 1
        elif text[i] == ",":
            i += 1
            if i >= n or text[i] == "\n":  # a trailing empty field
                row.append(None)
                rows.append(row)
                row = []
                i += 1
        else:
            raise ValueError(f"not a result CSV: unexpected {text[i]!r} at offset {i}")
    return rows
