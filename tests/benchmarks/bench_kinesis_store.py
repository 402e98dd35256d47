"""Kinesis and DynamoDB→Kinesis throughput, measured in one run and printed as ratios (no assertions
on speed). Run: `pytest -m benchmark -s tests/benchmarks/bench_kinesis_store.py`.

1. moto's own Kinesis put_records against the kinesis_store seams, in-process (the seams are applied
   and restored around the second measurement): records/s per block as one shard fills, and what
   8 concurrent writers keep.
2. DynamoDB BatchWriteItem through the local cloud (HTTP), 20k items into a table without and with
   an ACTIVE Kinesis destination (the forwarder working), and the time until every change is on
   the stream.
"""
from __future__ import annotations

import threading
import time
import uuid
from base64 import b64encode
from concurrent.futures import ThreadPoolExecutor

import pytest

from pipeline_lib.localcloud import lifecycle
from pipeline_lib.localcloud.kinesis.seams import build_seams
from polling import wait_for  # tests/polling.py

pytestmark = pytest.mark.benchmark

FILL_RECORDS = 60_000
BLOCK = 10_000
ITEMS = 20_000


def fill_one_shard() -> list[float]:
    """records/s of each BLOCK of PutRecords (500 a call) into one shard of a fresh backend."""
    from moto.kinesis.models import KinesisBackend

    backend = KinesisBackend("us-east-1", "123456789012")
    stream = backend.create_stream("bench", 1)
    payload = b64encode(b"x" * 200).decode()
    rates = []
    for _ in range(FILL_RECORDS // BLOCK):
        start = time.perf_counter()
        for _ in range(BLOCK // 500):
            backend.put_records(stream.arn, None, [{"PartitionKey": f"k{i}", "Data": payload} for i in range(500)])
        rates.append(BLOCK / (time.perf_counter() - start))
    return rates


def concurrent_keep(threads: int = 8, per_thread: int = 5_000) -> int:
    """How many of threads × per_thread concurrently put records the shards hold afterwards."""
    from moto.kinesis.models import KinesisBackend

    backend = KinesisBackend("us-east-1", "123456789012")
    stream = backend.create_stream("bench", 2)
    payload = b64encode(b"y" * 100).decode()

    def writer(t: int) -> None:
        for _ in range(per_thread // 100):
            backend.put_records(stream.arn, None, [{"PartitionKey": f"t{t}-{i}", "Data": payload} for i in range(100)])

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(len(shard.records) for shard in stream.shards.values())


def test_kinesis_put_records_moto_vs_store():
    seams = build_seams()
    seams.restore()  # moto as shipped (a no-op unless something in this process applied the seams)
    original_rates, original_kept = fill_one_shard(), concurrent_keep()
    seams.apply()
    try:
        store_rates, store_kept = fill_one_shard(), concurrent_keep()
    finally:
        seams.restore()

    def row(rates: list[float]) -> str:
        return ", ".join(f"{r:,.0f}" for r in rates)

    print(f"\n[bench] Kinesis PutRecords into one shard, records/s per {BLOCK:,} records up to {FILL_RECORDS:,} (in-process):")
    print(f"  moto 5.2.5     : {row(original_rates)}   last/first {original_rates[-1] / original_rates[0]:.2f}")
    print(f"  kinesis_store  : {row(store_rates)}   last/first {store_rates[-1] / store_rates[0]:.2f}")
    print(f"  store/moto     : first block x{store_rates[0] / original_rates[0]:.1f}, "
          f"last block x{store_rates[-1] / original_rates[-1]:.1f}")
    print(f"  8 concurrent writers x 5,000 records: moto kept {original_kept:,}, kinesis_store kept {store_kept:,}")


def retained_bytes_per_record(records: int = 20_000) -> tuple[int, float]:
    """(data bytes, bytes the backend retains per record) for a DynamoDB change record put `records`
    times (traced allocations still alive after the puts, divided by the records)."""
    import gc
    import json
    import tracemalloc

    from moto.kinesis.models import KinesisBackend

    change = json.dumps({
        "awsRegion": "us-east-1", "eventID": "0b9c7b7e-1b0b-4f5e-9d8a-3a0d7f9c1e2a", "eventName": "INSERT",
        "userIdentity": None, "recordFormat": "application/json", "tableName": "CdcWorkbench-Table",
        "dynamodb": {"ApproximateCreationDateTime": 1764768000000,
                     "Keys": {"PK": {"S": "CUSTOMER#c-000001"}, "SK": {"S": "ORDER#o-0000001"}},
                     "NewImage": {"PK": {"S": "CUSTOMER#c-000001"}, "SK": {"S": "ORDER#o-0000001"},
                                  "status": {"S": "PAID"}, "total": {"N": "123.45"},
                                  "createdAt": {"S": "2026-03-04T12:34:56.789Z"}, "customerId": {"S": "c-000001"}},
                     "SizeBytes": 300},
        "eventSource": "aws:dynamodb"}).encode()
    payload = b64encode(change).decode()
    backend = KinesisBackend("us-east-1", "123456789012")
    stream = backend.create_stream("bench", 1)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for block in range(records // 500):
            backend.put_records(stream.arn, None, [{"PartitionKey": f"{block * 500 + i:032X}", "Data": payload}
                                                   for i in range(500)])
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return len(change), (after - before) / records


def test_kinesis_retained_bytes_per_record_moto_vs_store():
    seams = build_seams()
    seams.restore()
    size, moto_bytes = retained_bytes_per_record()
    seams.apply()
    try:
        _size, store_bytes = retained_bytes_per_record()
    finally:
        seams.restore()
    print(f"\n[bench] Kinesis memory retained per record ({size} data bytes, a DynamoDB change record): "
          f"moto 5.2.5 {moto_bytes:,.0f} B, kinesis_store {store_bytes:,.0f} B (x{store_bytes / moto_bytes:.2f})")
    assert store_bytes < moto_bytes


def batch_write(session, table: str, prefix: str, threads: int = 4) -> float:
    """Seconds to BatchWriteItem ITEMS items (25 a call, `threads` calls in flight)."""
    clients = [session.client("dynamodb") for _ in range(threads)]
    batches = [
        [{"PutRequest": {"Item": {"pk": {"S": f"{prefix}-{i}"}, "sk": {"S": "PROFILE"}, "n": {"N": str(i)},
                                   "name": {"S": f"customer {i}"}, "createdAt": {"S": "2026-03-04T12:34:56.789Z"}}}}
         for i in range(start, start + 25)]
        for start in range(0, ITEMS, 25)
    ]

    def send(index: int) -> None:
        client = clients[index % threads]
        response = client.batch_write_item(RequestItems={table: batches[index]})
        assert not response.get("UnprocessedItems")

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(send, range(len(batches))))
    return time.perf_counter() - start


def test_dynamodb_batch_write_with_and_without_the_forwarder(local_cloud, boto_session):
    ddb, kinesis = boto_session.client("dynamodb"), boto_session.client("kinesis")
    tables = []
    for _ in range(2):
        name = f"bench-{uuid.uuid4().hex[:8]}"
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                               {"AttributeName": "sk", "AttributeType": "S"}])
        tables.append(name)
    plain, streamed = tables
    stream = f"bench-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=4)
    arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    ddb.enable_kinesis_streaming_destination(TableName=streamed, StreamArn=arn)
    wait_for(lambda: ddb.describe_kinesis_streaming_destination(TableName=streamed)["KinesisDataStreamDestinations"][0],
             lambda d: d["DestinationStatus"] == "ACTIVE", timeout=30, what=f"the destination of {streamed} ACTIVE")

    without = batch_write(boto_session, plain, "a")
    forwarded_before = lifecycle.status(local_cloud.record.state_dir)["extensions"]["dynamodb_kinesis"]["records_forwarded"]
    start = time.perf_counter()
    with_forwarder = batch_write(boto_session, streamed, "b")
    report = lifecycle.flush(local_cloud.endpoint, timeout=300)
    on_stream = time.perf_counter() - start
    forwarded = report["dynamodb_kinesis"]["records_forwarded"] - forwarded_before
    print(f"\n[bench] DynamoDB BatchWriteItem, {ITEMS:,} items (25 a call, 4 in flight) through the local cloud:")
    print(f"  without a Kinesis destination : {ITEMS / without:,.0f} items/s")
    print(f"  with the forwarder            : {ITEMS / with_forwarder:,.0f} items/s "
          f"(x{without / with_forwarder:.2f} the rate without); all {ITEMS:,} on the stream after {on_stream:.1f}s "
          f"= {ITEMS / on_stream:,.0f} items/s end to end")
    print(f"  forwarder: {forwarded:,} records forwarded for the {ITEMS:,} items, "
          f"{report['dynamodb_kinesis']['records_undeliverable']} undeliverable in total")
