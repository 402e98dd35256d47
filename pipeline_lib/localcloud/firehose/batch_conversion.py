"""A batch of records converted at once: every record's rows in one Arrow table, and per record
its row count or why it failed. The same function runs in the engine's process (tests, a cloud
without conversion workers) and in a conversion worker (conversion_workers.py), where the batch
crosses the process boundary as Arrow IPC bytes plus the outcomes."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

from . import error_records as codes
from .coercion import ConversionError

__all__ = ["ConvertedBatch", "convert_records", "decode", "encode"]

Outcome = "int | tuple[str, str]"


@dataclass
class ConvertedBatch:
    table: Any  # pyarrow.Table: the rows of every record that converted, in record order
    outcomes: list  # per record: its number of rows, or (error code, error message)
    cpu_seconds: float = 0.0  # CPU time the conversion took in the process that ran it

    def row_starts(self) -> list[int]:
        """Per record, the index of its first row in `table` (failed records take none)."""
        starts, at = [], 0
        for outcome in self.outcomes:
            starts.append(at)
            if type(outcome) is int:
                at += outcome
        return starts


def convert_records(converter: Any, records: Sequence[bytes]) -> ConvertedBatch:
    """Convert each record alone (a failure is that record's), then all rows into one table."""
    started = time.process_time()
    rows: list[Any] = []
    outcomes: list[Any] = []
    for data in records:
        try:
            got = converter.convert(data)
        except ConversionError as exc:
            outcomes.append((exc.code, exc.message))
            continue
        rows.extend(got)
        outcomes.append(len(got))
    try:
        table = converter.to_table(rows)
    except (TypeError, ValueError, ArithmeticError, OverflowError) as exc:
        # pyarrow refused a coerced value (ArrowInvalid is a ValueError): find the record(s)
        # whose rows it refuses, so they fail alone instead of the whole object.
        table = _table_without_refused(converter, records, outcomes, exc)
    return ConvertedBatch(table, outcomes, time.process_time() - started)


def _table_without_refused(converter: Any, records: Sequence[bytes], outcomes: list, first: Exception) -> Any:
    pieces = []
    for i, data in enumerate(records):
        if type(outcomes[i]) is not int:
            continue
        try:
            pieces.append(converter.to_table(converter.convert(data)))
        except (TypeError, ValueError, ArithmeticError, OverflowError) as exc:
            outcomes[i] = (codes.CONVERSION_MALFORMED_DATA.code, f"{codes.CONVERSION_MALFORMED_DATA.message} {exc}")
    import pyarrow as pa

    return pa.concat_tables(pieces) if pieces else converter.to_table([])


def encode(batch: ConvertedBatch) -> tuple[bytes, list, float]:
    """The batch as (Arrow IPC stream bytes, outcomes, CPU seconds): cheap to pickle and read back."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.table.schema) as writer:
        writer.write_table(batch.table)
    return sink.getvalue().to_pybytes(), batch.outcomes, batch.cpu_seconds


def decode(ipc: bytes, outcomes: list, cpu_seconds: float) -> ConvertedBatch:
    import pyarrow as pa

    return ConvertedBatch(pa.ipc.open_stream(pa.py_buffer(ipc)).read_all(), outcomes, cpu_seconds)
