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


def test_several_buffers_parquet_in_one_request_is_each_buffers_parquet(workers):
    converter = Converter(COLUMNS)
    remote = workers.convert(converter, RECORDS, GROUPS)
    buffers = [[remote.pieces[0]], [remote.pieces[1], remote.pieces[0]], []]
    bodies = workers.write_parquets(converter, buffers)
    assert bodies == [write_parquet(converter, pieces) for pieces in buffers]  # in process, one by one
    assert [pq.read_table(io.BytesIO(b)).num_rows for b in bodies] == [1, len(EXPECTED_ROWS), 0]


def test_buffers_are_grouped_within_the_request_bound():
    from pipeline_lib.localcloud.firehose.records import Buffer
    from pipeline_lib.localcloud.firehose.s3_delivery import _groups

    def buffer(*sizes):
        b = Buffer({})
        b.rows = [b"x" * n for n in sizes]
        return b

    a, b, c, d, e = buffer(4, 4), buffer(3), buffer(12), buffer(), buffer(1)
    # Bytes 8, 3, 12, 0, 1: a group closes before the buffer that would take it past the bound;
    # a buffer over the bound is a group of its own.
    assert _groups([a, b, c, d, e], 10) == [[a], [b], [c], [d, e]]
    assert _groups([a, b, c, d, e], 11) == [[a, b], [c], [d, e]]
    assert _groups([], 10) == []


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


@pytest.mark.parametrize("batched", [False, True], ids=["parquet-each", "parquet-batched"])
def test_an_engine_with_workers_delivers_every_batch_in_order(workers, batched):
    """Several Lambda batches in one cycle (each converting while the next is in the processor):
    each partition's object holds its records' rows in sequence order; bad records are errors."""
    import base64
    import json
    from collections import Counter

    from pipeline_lib.localcloud.firehose.config import FormatConversion, LambdaProcessor, StreamConfig
    from pipeline_lib.localcloud.firehose.engine import DeliveryEngine
    from pipeline_lib.localcloud.firehose.records import InRecord, Services

    n = 600
    payloads = [b"{broken" if i % 97 == 0 else json.dumps({"id": f"r{i}", "n": i, "day": f"{i % 3:02d}"}).encode()
                for i in range(n)]

    class Source:
        def __init__(self):
            self.positions = {"shardId-000000000000": "0"}

        def poll(self, limit):
            if self.positions["shardId-000000000000"] != "0":
                return []
            self.positions["shardId-000000000000"] = str(n)
            return [InRecord(str(i + 1), p, 1_700_000_000_000, "shardId-000000000000", "pk", str(i + 1))
                    for i, p in enumerate(payloads)]

        def lag_ms(self):
            return 0

    def enricher(arn, payload):
        out = []
        for r in json.loads(payload)["records"]:
            text = base64.b64decode(r["data"])
            day = json.loads(text)["day"] if text.startswith(b'{"') else "00"
            out.append({"recordId": r["recordId"], "result": "Ok", "data": r["data"],
                        "metadata": {"partitionKeys": {"day": day}}})
        return json.dumps({"records": out}).encode(), None

    objects: dict[str, bytes] = {}
    config = StreamConfig(
        name="s", arn="arn:aws:firehose:us-east-1:123456789012:deliverystream/s", version=1,
        source_stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/src", bucket="lake",
        prefix="data/day=!{partitionKeyFromLambda:day}/", error_prefix="errors/!{firehose:error-output-type}/",
        buffer_bytes=64 * 1024 * 1024, buffer_seconds=60, compression="UNCOMPRESSED", file_extension=None,
        # A small processor buffer: the 600 records go to the function in several invocations.
        lambda_processor=LambdaProcessor(arn="arn:aws:lambda:us-east-1:123456789012:function:f", buffer_bytes=6000),
        metadata_query=None, append_delimiter=False, deaggregate=None, dynamic_partitioning=True,
        conversion=FormatConversion("db", "t", None, None, "LATEST", {"OpenXJsonSerDe": {}}, {"ParquetSerDe": {}}),
        log_group=None, log_stream=None, s3_retry_seconds=10.0,
    )
    calls = Counter()

    def invoke(arn, payload):
        calls["invoke"] += 1
        return enricher(arn, payload)

    services = Services(put_object=lambda b, k, body: objects.__setitem__(k, body), invoke_lambda=invoke,
                        converter_for=lambda c: Converter(COLUMNS[:2]), publish_metrics=lambda ns, d: None,
                        log_event=lambda c, m: None, scaled=lambda s: s * 0.001, region="us-east-1",
                        convert_batch=workers.convert, write_parquet=workers.write_parquet)
    if batched:
        def write_parquets(converter, buffers):
            calls["parquets"] += 1
            return workers.write_parquets(converter, buffers)

        services.write_parquets = write_parquets
    engine = DeliveryEngine(config, Source(), services)
    engine.start()
    try:
        assert engine.flush(timeout=60)
    finally:
        engine.stop()
    assert calls["invoke"] > 3  # several batches, so conversions overlapped invocations
    bad = [i for i in range(n) if i % 97 == 0]
    for day in ("00", "01", "02"):
        (key,) = [k for k in objects if k.startswith(f"data/day={day}/")]
        rows = pq.read_table(io.BytesIO(objects[key])).to_pylist()
        assert rows == [{"id": f"r{i}", "n": i} for i in range(n) if i % 3 == int(day) and i not in bad]
    errors = [json.loads(line) for k, body in objects.items() if k.startswith("errors/") for line in body.splitlines()]
    assert sorted(base64.b64decode(e["rawData"]) for e in errors) == [b"{broken"] * len(bad)
    assert {e["lastErrorCode"] for e in errors} == {"DataFormatConversion.ParseError"}  # format-conversion-failed fields
    assert engine.committed_positions() == {"shardId-000000000000": str(n)} and engine.held_records() == []
    assert engine.conversion_cpu_seconds > 0 and engine.parquet_seconds > 0
    if batched:  # the flush's three partition buffers: one request for their Parquet
        assert calls["parquets"] == 1
