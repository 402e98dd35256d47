"""Kinesis in the local cloud under concurrent writers, through boto3 (PutRecords, PutRecord, GetRecords)."""
from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from pipeline_lib.localcloud import lifecycle

import streams  # tests/integration/streams.py

pytestmark = pytest.mark.integration

THREADS = 8


@pytest.fixture
def kinesis(boto_session):
    return boto_session.client("kinesis")


def new_stream(kinesis, shards: int) -> tuple[str, str]:
    return streams.new_stream(kinesis, shards, prefix="ks")


def read_all(kinesis, name: str, page: int = 1000) -> dict[str, list[dict]]:
    """Every record of every shard, paging GetRecords from TRIM_HORIZON until a page comes back empty."""
    out: dict[str, list[dict]] = {}
    for shard in kinesis.list_shards(StreamName=name)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records: list[dict] = []
        while True:
            response = kinesis.get_records(ShardIterator=iterator, Limit=page)
            if not response["Records"]:
                break
            records.extend(response["Records"])
            iterator = response["NextShardIterator"]
        out[shard["ShardId"]] = records
    return out


def test_concurrent_writers_lose_nothing_and_keep_per_key_order(boto_session, kinesis):
    name, _arn = new_stream(kinesis, shards=4)
    batches, batch_size, singles = 8, 50, 50
    clients = [boto_session.client("kinesis") for _ in range(THREADS)]  # one client per thread

    def writer(t: int) -> None:
        client, n = clients[t], 0
        for _ in range(batches):
            entries = [{"PartitionKey": f"t{t}-k{(n + i) % 5}", "Data": f"{t}:{n + i}".encode()} for i in range(batch_size)]
            response = client.put_records(StreamName=name, Records=entries)
            assert response["FailedRecordCount"] == 0
            n += batch_size
        for _ in range(singles):
            client.put_record(StreamName=name, PartitionKey=f"t{t}-k{n % 5}", Data=f"{t}:{n}".encode())
            n += 1

    streams.run_writers(writer, THREADS)

    per_shard = read_all(kinesis, name, page=700)
    expected = THREADS * (batches * batch_size + singles)
    all_records = [r for records in per_shard.values() for r in records]
    assert len(all_records) == expected
    assert len({r["Data"] for r in all_records}) == expected  # each exactly once
    order: dict[str, list[int]] = defaultdict(list)
    for shard_id, records in per_shard.items():
        numbers = [int(r["SequenceNumber"]) for r in records]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), shard_id
        for r in records:
            order[r["PartitionKey"]].append(int(r["Data"].decode().split(":")[1]))
    assert len(order) == THREADS * 5
    assert all(seq == sorted(seq) for seq in order.values())  # per partition key: put order


def test_iterator_types_arrival_times_and_lag(kinesis):
    name, _arn = new_stream(kinesis, shards=1)
    shard = "shardId-000000000000"
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    for i in range(5):
        kinesis.put_record(StreamName=name, PartitionKey="k", Data=str(i).encode())
    latest = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"5")

    def data(iterator_type: str, **extra) -> list[bytes]:
        it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType=iterator_type, **extra)
        return [r["Data"] for r in kinesis.get_records(ShardIterator=it["ShardIterator"])["Records"]]

    everything = [str(i).encode() for i in range(6)]
    assert data("TRIM_HORIZON") == everything
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=latest)["Records"]] == [b"5"]
    assert data("AT_SEQUENCE_NUMBER", StartingSequenceNumber="3") == everything[2:]
    assert data("AFTER_SEQUENCE_NUMBER", StartingSequenceNumber="3") == everything[3:]
    assert data("AT_TIMESTAMP", Timestamp=before) == everything
    assert data("AT_TIMESTAMP", Timestamp=datetime.now(timezone.utc) + timedelta(seconds=5)) == []

    it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    first = kinesis.get_records(ShardIterator=it, Limit=2)
    assert first["MillisBehindLatest"] >= 0
    stamps = [r["ApproximateArrivalTimestamp"] for r in first["Records"]]
    assert stamps == sorted(stamps) and before <= stamps[0] <= datetime.now(timezone.utc)
    rest = kinesis.get_records(ShardIterator=first["NextShardIterator"])
    assert [r["Data"] for r in rest["Records"]] == everything[2:] and rest["MillisBehindLatest"] == 0


def test_hash_key_routing_covers_the_whole_range(kinesis):
    name, _arn = new_stream(kinesis, shards=2)
    low = kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"low", ExplicitHashKey="0")
    top = kinesis.put_record(StreamName=name, PartitionKey="k", Data=b"top", ExplicitHashKey=str(2**128 - 1))
    assert (low["ShardId"], top["ShardId"]) == ("shardId-000000000000", "shardId-000000000001")
    same = {kinesis.put_record(StreamName=name, PartitionKey="item-42", Data=b"x")["ShardId"] for _ in range(5)}
    assert len(same) == 1  # one partition key, one shard


def test_resharding_keeps_records_and_routes_to_open_shards(kinesis):
    name, _arn = new_stream(kinesis, shards=1)
    for i in range(20):
        kinesis.put_record(StreamName=name, PartitionKey=f"k{i}", Data=str(i).encode())
    kinesis.update_shard_count(StreamName=name, TargetShardCount=2, ScalingType="UNIFORM_SCALING")
    shards = kinesis.list_shards(StreamName=name)["Shards"]
    open_ids = {s["ShardId"] for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]}
    assert len(open_ids) == 2
    kinesis.merge_shards(StreamName=name, ShardToMerge=sorted(open_ids)[0], AdjacentShardToMerge=sorted(open_ids)[1])
    merged = [s["ShardId"] for s in kinesis.list_shards(StreamName=name)["Shards"]
              if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
    assert len(merged) == 1
    placed = {kinesis.put_record(StreamName=name, PartitionKey=f"n{i}", Data=b"new")["ShardId"] for i in range(10)}
    assert placed == set(merged)  # closed parents never take new records
    everything = [r["Data"] for records in read_all(kinesis, name).values() for r in records]
    assert everything.count(b"new") == 10
    assert {str(i).encode() for i in range(20)} <= set(everything)


def test_throughput_stays_flat_as_a_shard_fills(kinesis, capsys):
    """Reports PutRecords and GetRecords rates over a filling shard (numbers only, no timing assertion)."""
    name, _arn = new_stream(kinesis, shards=1)
    payload = b"x" * 200
    blocks, per_block = 6, 4000
    rates = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(per_block // 500):
            kinesis.put_records(StreamName=name, Records=[
                {"PartitionKey": f"k{i}", "Data": payload} for i in range(500)])
        rates.append(per_block / (time.perf_counter() - start))
    start = time.perf_counter()
    total = sum(len(records) for records in read_all(kinesis, name, page=10_000).values())
    read_rate = total / (time.perf_counter() - start)
    assert total == blocks * per_block
    with capsys.disabled():
        print(f"\n[kinesis_store] PutRecords records/s per {per_block} as the shard fills to {total}: "
              + ", ".join(f"{r:,.0f}" for r in rates)
              + f" (last/first {rates[-1] / rates[0]:.2f}); GetRecords {read_rate:,.0f} records/s")


def test_status_reports_the_seams(local_cloud):
    status = lifecycle.status(local_cloud.record.state_dir)
    assert status["extensions"]["kinesis"]["seams"] is True
