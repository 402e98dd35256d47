"""The Kinesis seams: Data Streams that stay correct and fast under concurrency.

Why: in moto 5.2.5 `Shard.put_record` takes the next sequence number from `list(records.keys())[-1]`
(a copy of the whole shard on every put) and stores it without a lock. Concurrent PutRecords calls
draw the same number and overwrite each other's record (records are lost), and every put costs
O(records in the shard), so writes slow down as a shard fills. `Shard.get_records` scans the shard
from its first record on every call, and AT_TIMESTAMP / describe copy it again.

What changes (moto's public behaviour is kept: sequence numbers 1, 2, 3 ... per shard, shard
iterators of every type, MillisBehindLatest, ApproximateArrivalTimestamp, MD5 hash-key routing):

- each shard's records live in a `ShardLog`: append-only arrays under one lock per shard, so a put
  is O(1) and atomic (number drawn and record stored together), GetRecords is a binary search plus
  a slice, AT_TIMESTAMP is a binary search over arrival times (kept non-decreasing);
- a record is stored as a `CompactRecord` (raw bytes in slots) that reads as moto's `Record` to
  moto's code: a stream keeps 24 hours of records, and moto's take about 1.5 times the memory;
- routing by hash key considers open shards only, with inclusive ending hash keys (as AWS does;
  moto also matched closed parents after a split and missed the top hash key);
- a per-stream lock orders routing against resharding, and a per-stream condition counts appended
  records so in-process consumers can sleep until something arrives.

Seams (checked against moto 5.2.5 at install; see `pipeline_lib.localcloud.seam`)
--------------------------------------------------------------------------------
- ``moto.kinesis.models.Shard.records`` (added): a property; the setter wraps whatever moto assigns
  (``OrderedDict()`` in ``__init__`` and in ``split_shard``) in a `ShardLog`.
- ``Shard.put_record``, ``Shard.get_records``, ``Shard.get_min_sequence_number``,
  ``Shard.get_max_sequence_number``, ``Shard.get_sequence_number_at`` (replaced): O(1)/O(log n)
  versions on the `ShardLog`.
- ``Stream.get_shard_for_key`` (replaced): open shards only, inclusive range, under the stream lock.
- ``Stream.put_record`` (wrapped): counts the append and wakes in-process waiters.
- ``Stream.split_shard``, ``Stream.merge_shards``, ``Stream.update_shard_count`` (wrapped): run under
  the stream lock; ``merge_shards`` also counts the records it copies and wakes waiters.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..seam import SeamError, SeamSet, moto_version
from .store import CompactRecord, ShardLog, stream_signal, to_epoch

if TYPE_CHECKING:
    from moto.kinesis.models import Shard, Stream

    from ..cloud import LocalCloud

GET_RECORDS_MAX = 10_000  # AWS's GetRecords limit (moto returned the whole shard without one)
_LOG = "_localcloud_log"


def _records_property() -> property:
    def get(shard: Shard) -> ShardLog:
        return shard.__dict__[_LOG]

    def set_(shard: Shard, value: Mapping) -> None:
        shard.__dict__[_LOG] = value if isinstance(value, ShardLog) else ShardLog(value)

    return property(get, set_, doc="The shard's records (a ShardLog).")


def _shard_put_record(_original: Any) -> Callable:
    def put_record(self: Shard, partition_key: str, data: str, explicit_hash_key: str) -> str:
        record = self.records.append(lambda seq: CompactRecord.from_base64(partition_key, data, seq, explicit_hash_key))
        return str(record.sequence_number)

    return put_record


def _shard_get_records(_original: Any) -> Callable:
    def get_records(self: Shard, last_sequence_id: str, limit: int | None) -> tuple[list, int, int]:
        last = int(last_sequence_id)
        records, newest = self.records.after(last, int(limit or GET_RECORDS_MAX))
        if not records:
            return [], last, 0
        behind = int((newest.created_at - records[-1].created_at) * 1000)  # moto's definition
        return records, records[-1].sequence_number, behind

    return get_records


def _shard_get_min_sequence_number(_original: Any) -> Callable:
    def get_min_sequence_number(self: Shard) -> int:
        return self.records.first_seq()

    return get_min_sequence_number


def _shard_get_max_sequence_number(_original: Any) -> Callable:
    def get_max_sequence_number(self: Shard) -> int:
        return self.records.last_seq()

    return get_max_sequence_number


def _shard_get_sequence_number_at(_original: Any) -> Callable:
    def get_sequence_number_at(self: Shard, at_timestamp: Any) -> int:
        return self.records.last_before(to_epoch(at_timestamp))

    return get_sequence_number_at


def _stream_get_shard_for_key(_original: Any) -> Callable:
    from moto.kinesis.exceptions import InvalidArgumentError
    from moto.utilities.utils import md5_hash

    def get_shard_for_key(self: Stream, partition_key: str, explicit_hash_key: str) -> Shard | None:
        # Same validation as moto; routing differs only where moto was wrong (closed shards, top key).
        if not isinstance(partition_key, str) or len(partition_key) > 256:
            raise InvalidArgumentError("partition_key")
        if explicit_hash_key:
            if not isinstance(explicit_hash_key, str):
                raise InvalidArgumentError("explicit_hash_key")
            key = int(explicit_hash_key)
            if key >= 2**128:
                raise InvalidArgumentError("explicit_hash_key")
        else:
            key = int(md5_hash(partition_key.encode("utf-8")).hexdigest(), 16)
        with stream_signal(self).lock:
            for shard in self.shards.values():
                if shard.is_open and shard.starting_hash <= key <= shard.ending_hash:
                    return shard
        return None

    return get_shard_for_key


def _stream_put_record(original: Callable) -> Callable:
    def put_record(self: Stream, partition_key: str, explicit_hash_key: str, data: str) -> tuple[str, str]:
        result = original(self, partition_key, explicit_hash_key, data)
        stream_signal(self).bump()
        return result

    return put_record


def _under_stream_lock(original: Callable) -> Callable:
    def locked(self: Stream, *args: Any, **kwargs: Any) -> Any:
        with stream_signal(self).lock:
            return original(self, *args, **kwargs)

    locked.__name__ = original.__name__
    return locked


def _stream_merge_shards(original: Callable) -> Callable:
    def merge_shards(self: Stream, shard_to_merge: str, adjacent_shard_to_merge: str) -> None:
        # moto copies the parents' records into the new shard with Shard.put_record: count them.
        signal = stream_signal(self)
        with signal.lock:
            before = sum(len(s.records) for s in self.shards.values())
            original(self, shard_to_merge, adjacent_shard_to_merge)
            moved = sum(len(s.records) for s in self.shards.values()) - before
        signal.bump(moved)

    return merge_shards


def build_seams(cloud: "LocalCloud | None" = None) -> SeamSet:
    """The Kinesis seams. They hold no per-cloud state (the storage lives on moto's objects), so
    `cloud` is unused; benchmarks build them without one."""
    from moto.kinesis.models import Shard, Stream

    from moto.kinesis.models import KinesisBackend, Record

    seams = SeamSet("kinesis")
    # Read by the in-process API (extension.py) and the storage (store.py).
    seams.reads(KinesisBackend, "streams")
    seams.reads(Stream, "account_id", "arn", "region", "shards", "stream_name")
    seams.reads(Shard, "shard_id", "starting_hash", "ending_hash", "parent", "adjacent_parent")
    seams.reads(Record, "created_at", "data", "explicit_hash_key", "partition_key", "sequence_number",
                "created_at_datetime")
    seams.expect(KinesisBackend, "put_records", ("self", "stream_arn", "stream_name", "records"))
    seams.add(Shard, "records", _records_property())
    seams.replace(Shard, "put_record", ("self", "partition_key", "data", "explicit_hash_key"), _shard_put_record)
    seams.replace(Shard, "get_records", ("self", "last_sequence_id", "limit"), _shard_get_records)
    seams.replace(Shard, "get_min_sequence_number", ("self",), _shard_get_min_sequence_number)
    seams.replace(Shard, "get_max_sequence_number", ("self",), _shard_get_max_sequence_number)
    seams.replace(Shard, "get_sequence_number_at", ("self", "at_timestamp"), _shard_get_sequence_number_at)
    seams.replace(Stream, "get_shard_for_key", ("self", "partition_key", "explicit_hash_key"), _stream_get_shard_for_key)
    seams.replace(Stream, "put_record", ("self", "partition_key", "explicit_hash_key", "data"), _stream_put_record)
    seams.replace(Stream, "split_shard", ("self", "shard_to_split", "new_starting_hash_key"), _under_stream_lock)
    seams.replace(Stream, "merge_shards", ("self", "shard_to_merge", "adjacent_shard_to_merge"), _stream_merge_shards)
    seams.replace(Stream, "update_shard_count", ("self", "target_shard_count"), _under_stream_lock)
    return seams


def check_storage() -> None:
    """After `apply`: verify moto still builds shards through the `records` seam."""
    from moto.kinesis.models import Shard

    if not isinstance(Shard(0, 0, 1).records, ShardLog):
        raise SeamError(
            f"moto {moto_version()}: Shard.__init__ no longer assigns self.records, so the Kinesis seams "
            "cannot take over its storage (written for moto 5.2.5)."
        )

