"""Record format conversion in worker processes gives what conversion in process gives: the same
rows (compared with a table pyarrow builds from hand-written values), the same failures, the
same Parquet."""
from __future__ import annotations

import io
import os
import signal
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib.localcloud.firehose.batch_conversion import convert_records, read_piece, write_parquet
from pipeline_lib.localcloud.firehose.conversion import Converter
from pipeline_lib.localcloud.firehose.conversion_workers import ConversionWorkers, default_size

COLUMNS = [{"Name": "id", "Type": "string"}, {"Name": "n", "Type": "int"},
           {"Name": "amount", "Type": "decimal(10,2)"}, {"Name": "tags", "Type": "array<string>"}]

RECORDS = [
    b'{"id": "a", "n": 1, "amount": 1.5, "tags": ["x"]}',
    b'not json',
    b'{"ID": "b", "n": "2", "amount": 2}{"id": "c", "n": 3, "tags": "y"}',  # two rows; OpenX rules
    b'   ',
    b'{"id": "d", "n": 1.5}',  # a fraction in an int column
    b'{"id": "e", "unknown": true}',
]

# Written by hand from the OpenX rules (conversion.py's docstring), not from the converter.
EXPECTED_ROWS = [
    {"id": "a", "n": 1, "amount": Decimal("1.50"), "tags": ["x"]},
    {"id": "b", "n": 2, "amount": Decimal("2.00"), "tags": None},
    {"id": "c", "n": 3, "amount": None, "tags": ["y"]},
    {"id": "e", "n": None, "amount": None, "tags": None},
]
EXPECTED_OUTCOME_KINDS = [1, "DataFormatConversion.ParseError", 2, "DataFormatConversion.MalformedData",
                          "DataFormatConversion.MalformedData", 1]


@pytest.fixture
def workers():
    pool = ConversionWorkers(1)
    yield pool
    pool.close()


def kinds(outcomes: list) -> list:
    return [o if isinstance(o, int) else o[0] for o in outcomes]


GROUPS = [0, 0, 1, 1, 0, 1]  # the partition the engine planned for each record


def rows_of(batch) -> dict[int, list[dict]]:
    return {group: read_piece(piece).to_pylist() for group, piece in batch.pieces.items()}


def test_in_process_batch_matches_the_rules():
    batch = convert_records(Converter(COLUMNS), RECORDS, GROUPS)
    assert kinds(batch.outcomes) == EXPECTED_OUTCOME_KINDS
    assert rows_of(batch) == {0: EXPECTED_ROWS[:1], 1: EXPECTED_ROWS[1:]}


def test_a_group_without_rows_has_no_piece():
    batch = convert_records(Converter(COLUMNS), [b"{]", b'{"id": "x"}'], [0, 1])
    assert list(batch.pieces) == [1]


def test_a_worker_converts_and_writes_as_the_server_process_does(workers):
    converter = Converter(COLUMNS)
    inline = convert_records(converter, RECORDS, GROUPS)
    remote = workers.convert(converter, RECORDS, GROUPS)
    assert remote.outcomes == inline.outcomes
    assert rows_of(remote) == rows_of(inline) == {0: EXPECTED_ROWS[:1], 1: EXPECTED_ROWS[1:]}
    assert remote.cpu_seconds > 0
    # The Parquet of the pieces is the Parquet of the same rows built by pyarrow from the expected values.
    expected = pa.Table.from_pylist(EXPECTED_ROWS, schema=converter.arrow_schema)
    pieces = [remote.pieces[0], remote.pieces[1]]
    body = workers.write_parquet(converter, pieces)
    assert body == write_parquet(converter, pieces)
    read = pq.read_table(io.BytesIO(body))
    assert read.schema.equals(expected.schema)
    assert read.to_pylist() == EXPECTED_ROWS
    assert pq.ParquetFile(io.BytesIO(body)).metadata.row_group(0).column(0).compression == "SNAPPY"


def test_a_dead_worker_is_replaced_and_the_batch_converted(workers):
    converter = Converter(COLUMNS)
    workers.convert(converter, RECORDS[:1], [0])
    (worker,) = workers._idle
    os.kill(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait()
    again = workers.convert(converter, RECORDS, [0] * len(RECORDS))
    assert rows_of(again) == {0: EXPECTED_ROWS}
    assert workers.status()["replaced"] == 1


def test_rows_of_an_older_schema_are_written_by_name():
    old = Converter([{"Name": "id", "Type": "string"}, {"Name": "gone", "Type": "int"}])
    new = Converter([{"Name": "id", "Type": "string"}, {"Name": "n", "Type": "bigint"}])
    table = old.to_table(old.convert(b'{"id": "a", "gone": 1}'))
    read = pq.read_table(io.BytesIO(new.tables_to_parquet([table])))
    assert read.column_names == ["id", "n"]
    assert read.to_pylist() == [{"id": "a", "n": None}]


def test_worker_count_setting(monkeypatch):
    monkeypatch.setenv("PIPELINE_FIREHOSE_WORKERS", "0")
    assert default_size() == 0
    monkeypatch.setenv("PIPELINE_FIREHOSE_WORKERS", "many")
    with pytest.raises(ValueError, match="whole number"):
        default_size()
