"""A state save writes containers of leaf objects (stored DynamoDB items, Kinesis records) without
the pickler's memo (pipeline_lib/localcloud/state/pickling.py): what loads is what was saved, the
memo still works around them, and far fewer objects are memoized."""
from __future__ import annotations

import copyreg
import pickle
import pickletools
import threading

import pytest

from pipeline_lib.localcloud.kinesis.store import CompactRecord, ShardLog
from pipeline_lib.localcloud.state import moto_state, pickling


def _memoized(data: bytes) -> int:
    """Objects the pickler put in its memo (protocol 4+: one MEMOIZE opcode each)."""
    return sum(1 for op, _arg, _pos in pickletools.genops(data) if op.name == "MEMOIZE")


def _fields(record: CompactRecord) -> tuple:
    return tuple(getattr(record, name) for name in CompactRecord.__slots__)


@pytest.fixture
def no_leaves(monkeypatch):
    """The pickler as before: no type counts as a leaf, everything goes through the memo."""
    def use() -> None:
        monkeypatch.setattr(pickling, "LEAF_TYPES", frozenset())
        monkeypatch.setattr(pickling, "_leaf_cache", {})
    return use


def _records(n: int) -> list[CompactRecord]:
    return [CompactRecord(f"key-{i % 7}", f"payload {i}".encode(), i + 1, None, 1_700_000_000.0 + i) for i in range(n)]


def test_a_shard_log_loads_equal_with_records_outside_the_memo(no_leaves):
    log = ShardLog()
    for record in _records(500):
        log.append(lambda seq, r=record: r)
    data = pickling.dumps(log)
    restored = pickling.loads(data)
    assert type(restored) is ShardLog and restored.keys() == log.keys()
    assert [_fields(r) for r in restored.values()] == [_fields(r) for r in log.values()]
    assert restored.last_before(1_700_000_100.5) == log.last_before(1_700_000_100.5) == 101
    restored.append(lambda seq: CompactRecord("k", b"new", seq, None))  # a fresh lock, usable
    assert restored.last_seq() == 501
    no_leaves()
    memoized = pickling.dumps(log)
    assert pickling.loads(memoized).keys() == log.keys()
    # With the memo, each record costs entries (record, state tuple and dict, key, payload);
    # without, a few for the log and the first two records (what the rest refer to).
    assert _memoized(memoized) > 5 * 500 and _memoized(data) < 40


def test_a_shard_log_saved_before_its_own_reduction_still_loads():
    log = ShardLog()
    for record in _records(3):
        log.append(lambda seq, r=record: r)

    class Before(pickling._StatePickler):  # what object.__reduce_ex__ gave a slotted ShardLog
        def reducer_override(self, obj):
            if type(obj) is ShardLog:
                return copyreg.__newobj__, (ShardLog,), (None, {name: getattr(obj, name) for name in ShardLog.__slots__})
            return super().reducer_override(obj)

    import io

    out = io.BytesIO()
    Before(out, protocol=pickling.PROTOCOL).dump(log)
    restored = pickle.loads(out.getvalue())
    assert [_fields(r) for r in restored.values()] == [_fields(r) for r in log.values()]
    assert isinstance(restored._lock, type(threading.Lock()))


def test_the_memo_still_serves_objects_around_a_section_of_leaves():
    shared = {"shared": [1, 2]}
    not_leaves = [shared, shared]
    value = (pickling.LeafList(_records(3)), shared, pickling.LeafList(not_leaves), shared)
    loaded = pickling.loads(pickling.dumps(value))
    assert type(loaded[0]) is list and [_fields(r) for r in loaded[0]] == [_fields(r) for r in value[0]]
    # After the fast section the memo is on again; a list holding a non-leaf keeps the memo.
    assert loaded[1] is loaded[3] and loaded[2][0] is loaded[2][1] is loaded[1]


def _put_items(client) -> None:
    client.create_table(
        TableName="ranged", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}])
    client.create_table(
        TableName="hashed", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}])
    for i in range(120):
        item = {"PK": {"S": f"C#{i % 17}"}, "SK": {"S": f"ORDER#{i}"}, "n": {"N": str(i)},
                "m": {"M": {"city": {"S": "Berlin"}, "l": {"L": [{"N": "1"}, {"S": "x"}]}}},
                "tags": {"SS": ["a", f"t{i}"]}, "b": {"B": bytes([i])}, "flag": {"BOOL": i % 2 == 0}}
        client.put_item(TableName="ranged", Item=item)
        client.put_item(TableName="hashed", Item={"id": {"N": str(i)}, "v": {"S": "x" * i}})
    client.update_item(TableName="ranged", Key={"PK": {"S": "C#1"}, "SK": {"S": "ORDER#1"}},
                       UpdateExpression="SET n = n + :one", ExpressionAttributeValues={":one": {"N": "1"}})


def _scan(client, table: str) -> list:
    return sorted((client.scan(TableName=table)["Items"]), key=repr)


def test_dynamodb_tables_load_equal_and_their_items_skip_the_memo(seamed_dynamodb, no_leaves):
    client = seamed_dynamodb
    _put_items(client)
    before = {t: _scan(client, t) for t in ("ranged", "hashed")}  # moto's own answers, before saving
    captured = {loc: accounts for loc, accounts in moto_state.capture().items() if loc.startswith("moto.dynamodb.")}
    data = pickling.dumps(captured)
    no_leaves()
    memoized = pickling.dumps(captured)
    # ~9 memo entries a stored item with the memo; the items' section has none.
    assert _memoized(memoized) - _memoized(data) > 8 * 240
    for saved in (data, memoized):
        moto_state.restore(pickling.loads(saved))
        assert {t: _scan(client, t) for t in ("ranged", "hashed")} == before
        got = client.get_item(TableName="ranged", Key={"PK": {"S": "C#1"}, "SK": {"S": "ORDER#1"}})["Item"]
        assert got["n"] == {"N": "2"}
        client.put_item(TableName="ranged", Item={"PK": {"S": "C#1"}, "SK": {"S": "ORDER#1"}, "n": {"N": "7"}})
        assert client.query(TableName="ranged", KeyConditionExpression="PK = :p",
                            ExpressionAttributeValues={":p": {"S": "C#1"}})["Count"] == len(range(1, 120, 17))


def test_a_save_leaves_nothing_behind_on_the_stored_items(seamed_dynamodb):
    """Pickling reads an item's and its key values' attributes, not their __dict__ (which Python
    3.11 would turn into a dict of each object's own for good: ~190 bytes an item)."""
    import gc
    import tracemalloc

    client = seamed_dynamodb
    client.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}])
    items = 2000
    for start in range(0, items, 25):
        client.batch_write_item(RequestItems={"t": [
            {"PutRequest": {"Item": {"PK": {"S": f"C#{i}"}, "SK": {"S": "PROFILE"}, "n": {"N": str(i)}}}}
            for i in range(start, start + 25)]})
    captured = {loc: accounts for loc, accounts in moto_state.capture().items() if loc.startswith("moto.dynamodb.")}
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        data = pickling.dumps(captured)
        del data
        gc.collect()
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert left / items < 16, f"{left / items:.0f} bytes an item left behind by a save"
