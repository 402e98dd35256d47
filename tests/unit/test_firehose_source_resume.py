"""A Kinesis-sourced delivery stream that restarts (UpdateDestination) reads on from its old
checkpoints: records that reach the stream while the engine restarts are not skipped."""
from __future__ import annotations

from types import SimpleNamespace

from pipeline_lib.localcloud.firehose import FirehoseExtension
from pipeline_lib.localcloud.firehose.sources import KinesisSource

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/source"
SHARD = "shardId-000000000000"


class FakeStore:
    """The part of the kinesis extension a KinesisSource uses: one shard, sequence numbers 1.."""

    def __init__(self) -> None:
        self.records: list[SimpleNamespace] = []

    def put(self, *payloads: bytes) -> None:
        for payload in payloads:
            self.records.append(SimpleNamespace(sequence_number=str(len(self.records) + 1), data=payload,
                                                partition_key="k", approximate_arrival_timestamp=1.0))

    def shards(self, stream_arn: str) -> list[SimpleNamespace]:
        return [SimpleNamespace(shard_id=SHARD)]

    def start_position(self, stream_arn: str, shard_id: str, iterator_type: str) -> str:
        assert iterator_type == "LATEST"
        return str(len(self.records))

    def read(self, stream_arn: str, shard_id: str, after: str, limit: int) -> list[SimpleNamespace]:
        return [r for r in self.records if int(r.sequence_number) > int(after)][:limit]


class FakeCloud:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def extension(self, name: str) -> FakeStore:
        assert name == "kinesis"
        return self.store


def payloads(source: KinesisSource) -> list[bytes]:
    return [r.data for r in source.poll(100)]


def test_a_new_source_starts_at_the_tip_and_a_resumed_one_at_the_old_checkpoints():
    store = FakeStore()
    store.put(b"before the delivery stream")
    old = KinesisSource(FakeCloud(store), ARN)
    store.put(b"a")
    assert payloads(old) == [b"a"]
    store.put(b"while restarting")  # after the old engine's last read, before the new one exists

    assert payloads(KinesisSource(FakeCloud(store), ARN)) == []  # a new stream: LATEST
    assert payloads(KinesisSource(FakeCloud(store), ARN, positions=old.positions)) == [b"while restarting"]


def test_the_extension_resumes_only_the_same_source_stream():
    store = FakeStore()
    extension = FirehoseExtension(FakeCloud(store))
    old = KinesisSource(FakeCloud(store), ARN)
    store.put(b"x")
    replaced = SimpleNamespace(source=old)

    same = extension._source_for(SimpleNamespace(source_stream_arn=ARN), resume=replaced)
    other = extension._source_for(SimpleNamespace(source_stream_arn=ARN + "-2"), resume=replaced)

    assert same.positions == old.positions and same.positions is not old.positions
    assert payloads(same) == [b"x"]
    assert payloads(other) == []  # another stream: its own tip
