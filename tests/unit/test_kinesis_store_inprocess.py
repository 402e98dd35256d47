"""The shard storage that replaces moto's, and moto's Kinesis backend running on it (in-process)."""
from __future__ import annotations

import threading
from base64 import b64decode, b64encode
from types import SimpleNamespace

import pytest

from pipeline_lib.localcloud.kinesis.seams import build_seams
from pipeline_lib.localcloud.kinesis.store import ShardLog


def record(seq: int, at: float) -> SimpleNamespace:
    return SimpleNamespace(sequence_number=seq, created_at=at, created_at_datetime=None, partition_key="k")


def test_append_numbers_records_from_one_and_reads_after_a_number():
    log = ShardLog()
    times = iter([10.0, 11.0, 12.0, 13.0])
    for _ in range(4):
        log.append(lambda seq: record(seq, next(times)))
    assert [r.sequence_number for r in log.after(0, 10)[0]] == [1, 2, 3, 4]
    page, newest = log.after(1, 2)
    assert [r.sequence_number for r in page] == [2, 3] and newest.sequence_number == 4
    assert log.after(4, 10)[0] == []
    assert (log.first_seq(), log.last_seq()) == (1, 4)
    assert ShardLog().after(0, 5) == ([], None) and ShardLog().last_seq() == 0


def test_arrival_times_stay_ordered_and_at_timestamp_bisects():
    log = ShardLog()
    for seq_time in (10.0, 12.0, 11.0, 14.0):  # the wall clock stepped back at the third append
        log.append(lambda seq, t=seq_time: record(seq, t))
    assert [r.created_at for r in log.values()] == [10.0, 12.0, 12.0, 14.0]
    assert log.last_before(10.0) == 0  # nothing arrived before the first record
    assert log.last_before(12.0) == 1
    assert log.last_before(13.0) == 3
    assert log.last_before(99.0) == 4


def test_it_is_a_read_only_mapping_for_motos_own_code():
    log = ShardLog({5: record(5, 1.0), 7: record(7, 2.0)})
    assert list(log) == [5, 7] and list(reversed(log)) == [7, 5] and len(log) == 2
    assert log[7].created_at == 2.0
    with pytest.raises(KeyError):
        log[6]
    assert log.append(lambda seq: record(seq, 3.0)).sequence_number == 8
    with pytest.raises(ValueError, match="increase"):
        ShardLog({2: record(2, 1.0), 1: record(1, 2.0)})


@pytest.fixture
def kinesis():
    """moto's Kinesis backend with the seams applied (restored afterwards: moto is process-wide)."""
    from moto.kinesis.models import KinesisBackend

    seams = build_seams()
    seams.apply()
    try:
        yield KinesisBackend("us-east-1", "123456789012")
    finally:
        seams.restore()


def data(text: str) -> str:
    return b64encode(text.encode()).decode()


def test_concurrent_put_records_lose_nothing_and_keep_per_key_order(kinesis):
    stream = kinesis.create_stream("s", 3)

    def writer(t: int) -> None:
        for batch in range(40):
            kinesis.put_records(stream.arn, None, [
                {"PartitionKey": f"t{t}-k{i % 5}", "Data": data(f"{t}:{batch * 50 + i}")} for i in range(50)])

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seen: dict[str, list[int]] = {}
    total = 0
    for shard in stream.shards.values():
        numbers = [r.sequence_number for r in shard.records.values()]
        assert numbers == list(range(1, len(numbers) + 1))  # dense, increasing, no duplicates
        for r in shard.records.values():
            _t, n = b64decode(r.data).decode().split(":")
            seen.setdefault(r.partition_key, []).append(int(n))
            total += 1
    assert total == 8 * 40 * 50
    assert all(order == sorted(order) for order in seen.values())


def test_moto_behaviour_is_kept_for_iterators_and_resharding(kinesis):
    stream = kinesis.create_stream("s", 1)
    for i in range(10):
        kinesis.put_record(stream.arn, None, f"k{i}", "", data(str(i)))
    shard_id = "shardId-000000000000"
    it = kinesis.get_shard_iterator(stream.arn, None, shard_id, "AT_SEQUENCE_NUMBER", "4", None)
    _next, records, behind = kinesis.get_records(stream.arn, it, 3)
    assert [r.sequence_number for r in records] == [4, 5, 6] and behind >= 0
    latest = kinesis.get_shard_iterator(stream.arn, None, shard_id, "LATEST", None, None)
    assert kinesis.get_records(stream.arn, latest, None)[1] == []
    # moto's resharding still runs on the new storage, and routing uses the open shards only.
    kinesis.update_shard_count(stream.arn, None, 2)
    open_shards = [s for s in stream.shards.values() if s.is_open]
    assert len(open_shards) == 2
    assert sum(len(s.records) for s in stream.shards.values()) == 10
    _seq, top_shard = kinesis.put_record(stream.arn, None, "k", str(2**128 - 1), data("top"))
    assert top_shard == max(open_shards, key=lambda s: s.ending_hash).shard_id


@pytest.fixture
def store(kinesis):
    """The in-process reader API over moto's backend registry (what the Firehose engine uses)."""
    from moto.kinesis.models import kinesis_backends

    from pipeline_lib.localcloud.kinesis import KinesisStore

    backend = kinesis_backends["123456789012"]["us-east-1"]
    name = f"api-{threading.get_ident()}"
    stream = backend.create_stream(name, 2)
    try:
        yield KinesisStore(cloud=None), stream  # type: ignore[arg-type]
    finally:
        backend.delete_stream(None, name)


def test_put_read_and_positions(store):
    api, stream = store
    placed = api.put_records(stream.arn, [(f"k{i % 4}", f"r{i}".encode()) for i in range(20)])
    assert len(placed) == 20
    shards = api.shards(stream.arn)
    assert [s.shard_id for s in shards] == ["shardId-000000000000", "shardId-000000000001"]
    assert all(s.is_open and s.parent_shard_id is None for s in shards)
    got = []
    for shard in shards:
        position = api.start_position(stream.arn, shard.shard_id, "TRIM_HORIZON")
        while page := api.read(stream.arn, shard.shard_id, position, limit=3):
            got.extend(page)
            position = page[-1].sequence_number
        assert position == shard.last_sequence_number
        assert api.start_position(stream.arn, shard.shard_id, "LATEST") == shard.last_sequence_number
    assert sorted(r.data for r in got) == sorted(f"r{i}".encode() for i in range(20))
    assert {(r.shard_id, r.sequence_number) for r in got} == set(placed)
    first = got[0]
    assert api.start_position(stream.arn, first.shard_id, "AT_SEQUENCE_NUMBER", first.sequence_number) == "0"
    assert api.start_position(stream.arn, first.shard_id, "AFTER_SEQUENCE_NUMBER", "1") == "1"
    assert api.start_position(stream.arn, first.shard_id, "AT_TIMESTAMP",
                              timestamp=first.approximate_arrival_timestamp - 1) == "0"
    assert api.millis_behind_latest(stream.arn, first.shard_id, "0") >= 0
    assert api.millis_behind_latest(stream.arn, first.shard_id, api.shards(stream.arn)[0].last_sequence_number) == 0


def test_errors_name_what_to_do(store):
    api, stream = store
    from pipeline_lib.localcloud.kinesis import ShardNotFound, StreamNotFound

    with pytest.raises(StreamNotFound, match="does not exist"):
        api.read(stream.arn + "-gone", "shardId-000000000000")
    with pytest.raises(StreamNotFound, match="not a Kinesis stream ARN"):
        api.shards("my-stream")
    with pytest.raises(ShardNotFound, match="shards\\(\\)"):
        api.read(stream.arn, "shardId-000000000009")
    with pytest.raises(ValueError, match="unknown iterator type"):
        api.start_position(stream.arn, "shardId-000000000000", "OLDEST")
    assert api.stream_exists(stream.arn) and not api.stream_exists(stream.arn + "x")


def test_installing_twice_wraps_once(store):
    api, stream = store
    api.install()  # a second install (the fixture made the first): its set takes over, one layer
    before = api.appended(stream.arn)
    api.put_records(stream.arn, [("k", b"x")] * 3)
    assert api.appended(stream.arn) == before + 3  # one count per record, not two


def test_waiters_wake_when_records_arrive(store):
    api, stream = store
    seen = api.appended(stream.arn)
    woke: list[int] = []
    waiter = threading.Thread(target=lambda: woke.append(api.wait_for_records(stream.arn, seen, timeout=30)))
    waiter.start()
    api.put_records(stream.arn, [("k", b"x")])
    waiter.join(timeout=30)
    assert woke == [seen + 1]
    # Nothing new: the wait times out and reports the same count.
    assert api.wait_for_records(stream.arn, seen + 1, timeout=0.01) == seen + 1
