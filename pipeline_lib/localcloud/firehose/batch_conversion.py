"""The engine's Arrow work, as two requests that run in a conversion worker (conversion_workers.py)
or, with the same functions, in the engine's process (tests, a cloud without workers):

- `convert_records`: a batch of JSON records to rows, grouped by the partition the engine planned
  for each record: per group one Arrow IPC stream ("piece") of its rows in record order, and per
  record its row count or why it failed;
- `write_parquet`: the pieces of one buffer as one Parquet file.

Partition buffers hold the pieces as bytes, so the server process does no Arrow work at all (each
pyarrow call there gives up the interpreter lock, and under load getting it back costs more than
the call).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from . import error_records as codes
from .coercion import ConversionError

__all__ = ["ConvertedBatch", "convert_records", "read_piece", "write_parquet"]

Outcome = "int | tuple[str, str]"


@dataclass
class ConvertedBatch:
    outcomes: list  # per record: its number of rows, or (error code, error message)
    pieces: dict[int, bytes] = field(default_factory=dict)  # group -> Arrow IPC stream of its rows
    cpu_seconds: float = 0.0  # CPU time the conversion took in the process that ran it


def convert_records(converter: Any, records: Sequence[bytes], groups: Sequence[int]) -> ConvertedBatch:
    """Convert each record alone (a failure is that record's); the rows of each group (`groups[i]`
    is record i's) as one piece."""
    started = time.process_time()
    rows: dict[int, list[Any]] = {}
    members: dict[int, list[int]] = {}
    outcomes: list[Any] = []
    for i, (data, group) in enumerate(zip(records, groups, strict=True)):
        try:
            got = converter.convert(data)
        except ConversionError as exc:
            outcomes.append((exc.code, exc.message))
            continue
        rows.setdefault(group, []).extend(got)
        members.setdefault(group, []).append(i)
        outcomes.append(len(got))
    pieces = {}
    for group, group_rows in rows.items():
        try:
            table = converter.to_table(group_rows)
        except (TypeError, ValueError, ArithmeticError, OverflowError):
            # pyarrow refused a coerced value (ArrowInvalid is a ValueError): the record(s) whose
            # rows it refuses fail alone instead of the whole object.
            table = _table_without_refused(converter, records, members[group], outcomes)
        if table.num_rows:
            pieces[group] = _ipc(table)
    return ConvertedBatch(outcomes, pieces, time.process_time() - started)


def _table_without_refused(converter: Any, records: Sequence[bytes], indexes: list[int], outcomes: list) -> Any:
    import pyarrow as pa

    tables = []
    for i in indexes:
        try:
            tables.append(converter.to_table(converter.convert(records[i])))
        except (TypeError, ValueError, ArithmeticError, OverflowError) as exc:
            outcomes[i] = (codes.CONVERSION_MALFORMED_DATA.code, f"{codes.CONVERSION_MALFORMED_DATA.message} {exc}")
    return pa.concat_tables(tables) if tables else converter.to_table([])


def write_parquet(converter: Any, pieces: Sequence[bytes]) -> bytes:
    """One Parquet file of the pieces' rows, in order (conversion.Converter.tables_to_parquet)."""
    return converter.tables_to_parquet([read_piece(p) for p in pieces])


def _ipc(table: Any) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def read_piece(piece: bytes) -> Any:
    import pyarrow as pa

    return pa.ipc.open_stream(pa.py_buffer(piece)).read_all()
