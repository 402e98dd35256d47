"""Bring your own data: a CSV, JSON-lines or Parquet file turned into a lake schema and a data set
of DynamoDB WriteRequests, ready for the stack (pure logic but for reading and writing files).

    prepared = data.prepare_data("counties.csv", pk="STATE#{State}", sk="COUNTY#{County}",
                                 created_at="Founded")
    prepared.schema.glue_columns(), prepared.requests[0]
    folder = data.write_data_set(prepared, "build/byod")

Inference, per column, over its non-empty values (an empty cell is a missing value: the item has
no such attribute and the lake row holds NULL):
- integers (no leading zero, so codes like "01234" stay text) within bigint -> `bigint`
- decimals without exponent -> `decimal(p,s)` sized to hold every value (p <= 38), else `double`
- true/false -> `boolean`; yyyy-mm-dd -> `date`; ISO-8601 date-times -> `timestamp` (UTC)
- anything else (UTF-8 kept as is) -> `string`
Column names are made Athena-safe: camelCase split, accents folded to ASCII, anything but
[a-z0-9] to `_`, a leading digit prefixed with `c_`; a name the pipeline uses itself (created_at,
the cdc_* columns, the year/month/day partitions) gets `_value` appended; repeats get `_2`, `_3`.
The lake row of an item also has `created_at` (from `created_at=COLUMN`, spread over
`created_at_range`, or the run's time), which drives the year/month/day partitions.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
import shutil
import string
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Sequence

from ..schema import TableSchema, schema_from_dict

__all__ = [
    "CDC_COLUMNS", "DataError", "InferredColumn", "PreparedData", "athena_safe_name", "infer_column_type",
    "key_template_columns", "prepare_data", "prepare_rows", "read_rows", "write_data_set",
]

# Columns the enricher adds to every row, and the partition keys Firehose writes.
CDC_COLUMNS = ("cdc_operation", "cdc_event_time", "cdc_event_id")
PARTITION_KEYS = ("year", "month", "day")
CREATED_AT = "created_at"
RESERVED = frozenset({CREATED_AT, *CDC_COLUMNS, *PARTITION_KEYS})
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet",
            ".pq": "parquet"}
MAX_DECIMAL_PRECISION = 38
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1

_INTEGER = re.compile(r"[+-]?(?:0|[1-9][0-9]*)\Z")
# No leading zeros before the point (codes like "01234" or "007.5" stay text).
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:(?:0|[1-9][0-9]*)\.[0-9]*|\.[0-9]+)\Z")
_FLOAT = re.compile(r"[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})\Z")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?\Z"
)
_BOOLEANS = {"true": True, "false": False}
_CAMEL = re.compile(r"([a-z0-9])([A-Z])|([A-Z]+)([A-Z][a-z])")


class DataError(ValueError):
    """The data file cannot become a data set; the message says which row or column and what to do."""


@dataclass(frozen=True)
class InferredColumn:
    source: str  # the column's name in the file
    name: str  # its Athena-safe name (the DynamoDB attribute and the lake column)
    type: str  # the Glue type inferred


@dataclass
class PreparedData:
    """What `prepare_data` made of a file: the lake schema, the columns, the WriteRequests."""

    source: str
    schema: TableSchema
    columns: list[InferredColumn]
    requests: list[dict[str, Any]]
    key_columns: list[str]  # Athena-safe names of the columns the PK/SK templates use
    created_at: str  # where created_at came from, in words
    missing_cells: int = 0
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return len(self.requests)


# -- names ----------------------------------------------------------------------------------------
def athena_safe_name(name: str) -> str:
    """A column name Athena and Glue keep as written: lower-case [a-z0-9_], not starting with a digit."""
    text = _CAMEL.sub(lambda m: f"{m[1]}_{m[2]}" if m[1] else f"{m[3]}_{m[4]}", str(name))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    if not text:
        text = "column"
    if text[0].isdigit():
        text = "c_" + text
    return text


def _safe_names(sources: Sequence[str], created_at_source: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    taken: set[str] = set()
    for source in sources:
        name = athena_safe_name(source)
        if name in RESERVED and not (name == CREATED_AT and source == created_at_source):
            name += "_value"
        base, n = name, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        out[source] = name
    return out


def key_template_columns(template: str, columns: Sequence[str], which: str = "key") -> list[str]:
    """The columns a key template like 'STATE#{State}' names; DataError for a field naming no
    column, a template naming none, or a malformed template."""
    try:
        fields = [f for _lit, f, _spec, _conv in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise DataError(f"--{which} {template!r} is not a key template ({exc}); write e.g. 'STATE#{{State}}'") from None
    if not fields or not any(fields):
        raise DataError(
            f"--{which} {template!r} names no column: put column names in braces, e.g. 'STATE#{{State}}' "
            f"(columns: {', '.join(columns)})"
        )
    missing = [f for f in fields if f not in columns]
    if missing:
        raise DataError(
            f"--{which} {template!r} names column(s) {', '.join(repr(m) for m in missing)} that the file does not have; "
            f"its columns are: {', '.join(columns)}"
        )
    return list(dict.fromkeys(fields))


# -- reading --------------------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    """One cell as text for inference ("" and None are missing)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return None if math.isnan(value) else repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    text = str(value)
    return text if text.strip() else None


def read_rows(path: str | os.PathLike[str]) -> tuple[list[str], list[dict[str, str | None]], dict[str, str]]:
    """(column names, rows of text cells (None = missing), type hints) of a CSV, JSON-lines or
    Parquet file; DataError when it cannot be read or has no rows."""
    p = Path(path)
    kind = SUFFIXES.get(p.suffix.lower())
    if kind is None:
        raise DataError(f"{p}: cannot tell the format from the suffix {p.suffix!r}; use .csv, .jsonl or .parquet")
    try:
        body = p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{p}: no such file") from None
    except OSError as exc:
        raise DataError(f"{p}: cannot read it ({exc.strerror or exc})") from None
    if not body.strip():
        raise DataError(f"{p} is empty: it needs a header row and at least one data row")
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}[kind]
    columns, rows, hints = reader(body, p)
    if not columns:
        raise DataError(f"{p} has no columns")
    if not rows:
        raise DataError(f"{p} has a header but no data rows: nothing to load")
    return columns, rows, hints


def _read_csv(body: bytes, p: Path) -> tuple[list[str], list[dict[str, str | None]], dict[str, str]]:
    import csv

    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{p} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise DataError(f"{p} is not a readable CSV file ({exc})") from None
    records = [r for r in records if any(cell.strip() for cell in r)]
    if not records:
        raise DataError(f"{p} is empty: it needs a header row and at least one data row")
    header = [h.strip() for h in records[0]]
    if any(not h for h in header):
        raise DataError(f"{p}: the header row has an empty column name (column {header.index('') + 1})")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise DataError(f"{p}: the header repeats column name(s) {dupes}")
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if len(record) > len(header):
            raise DataError(f"{p} line {number}: {len(record)} cells but the header has {len(header)} columns")
        cells = record + [""] * (len(header) - len(record))
        rows.append({h: (c if c.strip() else None) for h, c in zip(header, cells)})
    return header, rows, {}


def _read_jsonl(body: bytes, p: Path) -> tuple[list[str], list[dict[str, str | None]], dict[str, str]]:
    columns: dict[str, None] = {}
    parsed = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataError(f"{p} line {number}: not a JSON object per line ({exc})") from None
        if not isinstance(record, dict):
            raise DataError(f"{p} line {number}: expected a JSON object, got {type(record).__name__}")
        columns.update(dict.fromkeys(record))
        parsed.append(record)
    rows = [{c: _text(r.get(c)) for c in columns} for r in parsed]
    return list(columns), rows, {}


def _read_parquet(body: bytes, p: Path) -> tuple[list[str], list[dict[str, str | None]], dict[str, str]]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyarrow.types as pt

    try:
        table = pq.read_table(io.BytesIO(body))
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"{p} is not a readable Parquet file ({exc})") from None
    hints = {}
    for f in table.schema:
        if pt.is_floating(f.type):
            hints[f.name] = "double"  # a float is inexact: do not guess a decimal from its digits
        elif pt.is_timestamp(f.type):
            hints[f.name] = "timestamp"
    rows = [{c: _text(v) for c, v in r.items()} for r in table.to_pylist()]
    return list(table.column_names), rows, hints


# -- types ----------------------------------------------------------------------------------------
def _parse_timestamp(text: str) -> datetime | None:
    match = _TIMESTAMP.match(text.strip())
    if not match:
        return None
    y, mo, d, h, mi, s, frac, zulu, sign, oh, om = match.groups()
    try:
        moment = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0),
                          int((frac or "0")[:6].ljust(6, "0")), tzinfo=timezone.utc)
    except ValueError:
        return None
    if sign:
        moment -= timedelta(hours=int(oh), minutes=int(om)) * (1 if sign == "+" else -1)
    return moment


def _is_date(text: str) -> bool:
    match = _DATE.match(text.strip())
    if not match:
        return False
    try:
        date(*map(int, match.groups()))
    except ValueError:
        return False
    return True


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def infer_column_type(values: Sequence[str | None], hint: str | None = None) -> str:
    """The Glue type of a column from its text cells (None = missing); `string` when all are missing."""
    present = [v.strip() for v in values if v is not None]
    if not present:
        return "string"
    if hint in ("double", "timestamp"):
        return hint
    if all(_INTEGER.match(v) for v in present) and all(BIGINT_MIN <= int(v) <= BIGINT_MAX for v in present):
        return "bigint"
    if all(_INTEGER.match(v) or _PLAIN_DECIMAL.match(v) for v in present):
        whole = scale = 0
        for v in present:
            digits = v.lstrip("+-")
            int_part, _, frac = digits.partition(".")
            whole = max(whole, len(int_part.lstrip("0")))
            scale = max(scale, len(frac))
        precision = max(1, whole + scale)
        if precision <= MAX_DECIMAL_PRECISION:
            return f"decimal({precision},{scale})"
        return "double"
    if all(_FLOAT.match(v) for v in present) and all(math.isfinite(float(v)) for v in present):
        return "double"
    if all(v.lower() in _BOOLEANS for v in present):
        return "boolean"
    if all(_is_date(v) for v in present):
        return "date"
    if all(_is_date(v) or _parse_timestamp(v) is not None for v in present):
        return "timestamp"  # dates among date-times: midnight UTC
    return "string"


def _attribute(text: str, type_: str) -> dict[str, Any]:
    """The DynamoDB attribute value of one present cell of a column of `type_`."""
    text = text.strip() if type_ != "string" else text
    if type_ == "bigint" or type_.startswith("decimal"):
        return {"N": str(Decimal(text))}
    if type_ == "double":
        number = Decimal(text)
        return {"N": str(number)}
    if type_ == "boolean":
        return {"BOOL": _BOOLEANS[text.lower()]}
    if type_ == "timestamp":
        return {"S": _iso_z(_moment(text, "a timestamp"))}
    return {"S": text}


# -- created_at -----------------------------------------------------------------------------------
def _moment(text: str, what: str) -> datetime:
    """A date (midnight UTC) or timestamp given as text."""
    text = text.strip()
    if _is_date(text):
        return datetime(*map(int, text.split("-")), tzinfo=timezone.utc)
    moment = _parse_timestamp(text)
    if moment is None:
        raise DataError(f"{what}: {text!r} is not a date (yyyy-mm-dd) or an ISO-8601 date-time")
    return moment


def _created_at_values(rows: list[dict[str, str | None]], columns: list[str], created_at: str | None,
                       created_at_range: tuple[str, str] | None, now: datetime) -> tuple[list[str], str]:
    if created_at is not None and created_at_range is not None:
        raise DataError("give either created_at (a column) or created_at_range (start, end), not both")
    if created_at is not None:
        if created_at not in columns:
            raise DataError(f"--created-at {created_at!r} is not a column of the file; its columns are: {', '.join(columns)}")
        out = []
        for number, row in enumerate(rows, start=1):
            value = row[created_at]
            if value is None:
                raise DataError(f"data row {number}: column {created_at!r} (--created-at) is empty; "
                                "every row needs a date for its partition")
            out.append(_iso_z(_moment(value, f"data row {number}, column {created_at!r} (--created-at)")))
        return out, f"column {created_at!r}"
    if created_at_range is not None:
        start = _moment(created_at_range[0], "--created-at-range START")
        end = _moment(created_at_range[1], "--created-at-range END")
        if end < start:
            raise DataError(f"--created-at-range: END {created_at_range[1]} is before START {created_at_range[0]}")
        n = len(rows)
        step = (end - start) / (n - 1) if n > 1 else timedelta(0)
        return [_iso_z(start + step * i) for i in range(n)], f"spread evenly from {_iso_z(start)} to {_iso_z(end)}"
    stamp = _iso_z(now)
    return [stamp] * len(rows), f"the time of the run, {stamp}"


# -- the whole preparation ------------------------------------------------------------------------
def prepare_rows(
    columns: list[str],
    rows: list[dict[str, str | None]],
    pk: str,
    sk: str,
    *,
    table: str,
    created_at: str | None = None,
    created_at_range: tuple[str, str] | None = None,
    hints: dict[str, str] | None = None,
    now: datetime | None = None,
    source: str = "<rows>",
) -> PreparedData:
    """Infer the schema of text rows and make one PutRequest per row (pure)."""
    if not rows:
        raise DataError(f"{source} has no data rows: nothing to load")
    pk_columns = key_template_columns(pk, columns, "pk")
    sk_columns = key_template_columns(sk, columns, "sk")
    created, created_words = _created_at_values(rows, columns, created_at, created_at_range,
                                                now or datetime.now(timezone.utc))
    names = _safe_names(columns, created_at)
    types = {c: infer_column_type([r[c] for r in rows], (hints or {}).get(c)) for c in columns}
    # The --created-at column named like the lake's created_at column is that column (a timestamp).
    merged = created_at is not None and names[created_at] == CREATED_AT
    inferred = [InferredColumn(c, names[c], "timestamp" if merged and c == created_at else types[c]) for c in columns]

    table_name = athena_safe_name(table)
    schema_columns = [{"name": col.name, "type": col.type, "comment": f"from {col.source!r}"[:255]}
                      for col in inferred if not (merged and col.source == created_at)]
    schema_columns.append({"name": CREATED_AT, "type": "timestamp",
                           "comment": f"drives the year/month/day partitions: {created_words}"[:255]})
    schema_columns += [
        {"name": "cdc_operation", "type": "string", "comment": "INSERT | MODIFY | REMOVE"},
        {"name": "cdc_event_time", "type": "timestamp", "comment": "ApproximateCreationDateTime of the change"},
        {"name": "cdc_event_id", "type": "string", "comment": "eventID of the DynamoDB change record"},
    ]
    schema = schema_from_dict({
        "table": table_name,
        "description": f"Rows of {source}, inferred by pipeline_lib.data.prepare_data.",
        "columns": schema_columns,
        "partition_keys": [{"name": k, "type": "string", "comment": f"{k} of created_at (UTC)"} for k in PARTITION_KEYS],
    }, source)

    requests: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    missing = 0
    for number, (row, stamp) in enumerate(zip(rows, created), start=1):
        for key_column in (*pk_columns, *sk_columns):
            if row[key_column] is None:
                raise DataError(f"data row {number}: key column {key_column!r} is empty; every row needs its key")
        key = (pk.format(**{c: row[c] for c in pk_columns}), sk.format(**{c: row[c] for c in sk_columns}))
        if key in seen:
            raise DataError(
                f"duplicate key: data rows {seen[key]} and {number} both have PK={key[0]!r}, SK={key[1]!r}; "
                "choose --pk/--sk templates that tell rows apart (e.g. add a column)"
            )
        seen[key] = number
        item: dict[str, Any] = {"PK": {"S": key[0]}, "SK": {"S": key[1]}}
        for col in inferred:
            value = row[col.source]
            if value is None:
                missing += 1
                continue
            if merged and col.source == created_at:
                continue  # written as createdAt below
            item[col.name] = _attribute(value, col.type)
        item["createdAt"] = {"S": stamp}  # the enricher partitions by it and writes it as created_at
        requests.append({"PutRequest": {"Item": item}})

    key_columns = list(dict.fromkeys(names[c] for c in (*pk_columns, *sk_columns)))
    return PreparedData(
        source=source, schema=schema, columns=inferred, requests=requests, key_columns=key_columns,
        created_at=created_words, missing_cells=missing,
        summary={"rows": len(requests), "columns": len(inferred), "missing_cells": missing},
    )


def prepare_data(
    path: str | os.PathLike[str],
    pk: str,
    sk: str,
    *,
    created_at: str | None = None,
    created_at_range: tuple[str, str] | None = None,
    table: str | None = None,
    now: datetime | None = None,
) -> PreparedData:
    """Read a CSV / JSON-lines / Parquet file and prepare it for the pipeline: the inferred lake
    schema (table `table`, default the file's name made Athena-safe) and one PutRequest per row
    with PK/SK from the templates (e.g. pk='STATE#{State}', sk='COUNTY#{County}').
    created_at: the column whose date/time drives the partitions; created_at_range: (start, end)
    spread over the rows in file order; neither: the time of the run. Raises DataError."""
    columns, rows, hints = read_rows(path)
    return prepare_rows(columns, rows, pk, sk, table=table or Path(path).stem, created_at=created_at,
                        created_at_range=created_at_range, hints=hints, now=now, source=str(path))


def write_data_set(prepared: PreparedData, root: str | os.PathLike[str]) -> Path:
    """Write items.jsonl, an empty changes.jsonl and schema.json into a folder under `root` named
    by their content hash; written into a temporary sibling and renamed, so a folder that exists
    is complete. Returns the folder."""
    items = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n"
                    for r in prepared.requests).encode("utf-8")
    schema = json.dumps({
        "table": prepared.schema.table,
        "description": prepared.schema.description,
        "columns": [{"name": c.name, "type": c.type, "comment": c.comment} for c in prepared.schema.columns],
        "partition_keys": [{"name": c.name, "type": c.type, "comment": c.comment} for c in prepared.schema.partition_keys],
    }, indent=1, ensure_ascii=False).encode("utf-8")
    digest = hashlib.sha256(items + b"\0" + schema).hexdigest()[:16]
    root = Path(root)
    target = root / f"{prepared.schema.table}-{digest}"
    if (target / "schema.json").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=root))
    try:
        (staging / "items.jsonl").write_bytes(items)
        (staging / "changes.jsonl").write_bytes(b"")
        (staging / "schema.json").write_bytes(schema)  # last: its presence marks the folder complete
        try:
            staging.rename(target)
        except OSError:
            if not (target / "schema.json").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
