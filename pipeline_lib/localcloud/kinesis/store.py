"""Kinesis Data Streams that stay correct and fast under concurrency, plus an in-process reader API.

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
- routing by hash key considers open shards only, with inclusive ending hash keys (as AWS does;
  moto also matched closed parents after a split and missed the top hash key);
- a per-stream lock orders routing against resharding, and a per-stream condition counts appended
  records so in-process consumers can sleep until something arrives.

In-process API (a contract: the Firehose engine and the DynamoDB→Kinesis forwarder use it)
-------------------------------------------------------------------------------------------
``store = cloud.extension("kinesis_store")`` is a `KinesisStore`. Streams are named by ARN; an
unknown stream raises `StreamNotFound`, an unknown shard `ShardNotFound` (both `LookupError`).
Sequence numbers are decimal strings that compare as integers within a shard; "0" means "before the
first record".

- ``store.shards(stream_arn) -> list[ShardView]`` every shard (open and closed, oldest first) with
  its parents, hash range, ``is_open``, ``starting_sequence_number`` and ``last_sequence_number``
  ("0" when empty).
- ``store.read(stream_arn, shard_id, after_sequence_number="0", limit=10_000) -> list[RecordView]``
  records with a sequence number greater than ``after_sequence_number``, oldest first, at most
  ``limit``. A `RecordView` has ``shard_id``, ``sequence_number``, ``partition_key``, ``data``
  (bytes), ``approximate_arrival_timestamp`` (epoch seconds, float) and ``explicit_hash_key``.
  Pass the last record's ``sequence_number`` back to continue; reading never blocks.
- ``store.start_position(stream_arn, shard_id, iterator_type, sequence_number=None, timestamp=None) -> str``
  the ``after_sequence_number`` a shard iterator of that type (TRIM_HORIZON, LATEST,
  AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, AT_TIMESTAMP) starts after.
- ``store.millis_behind_latest(stream_arn, shard_id, after_sequence_number) -> int`` now minus the
  arrival time of the oldest unread record, in ms (0 when caught up).
- ``store.appended(stream_arn) -> int`` records appended to the stream so far (a change counter), and
  ``store.wait_for_records(stream_arn, seen, timeout) -> int`` which returns as soon as that counter
  exceeds ``seen`` (or after ``timeout`` seconds) with its current value. Consume without lost
  wake-ups like this::

      seen = store.appended(arn)
      got = [r for s in store.shards(arn) for r in store.read(arn, s.shard_id, positions[s.shard_id])]
      if not got:
          store.wait_for_records(arn, seen, timeout=1.0)

- ``store.put_records(stream_arn, [(partition_key, data_bytes), ...]) -> list[tuple[shard_id, sequence_number]]``
  appends up to 500 records in order through moto's PutRecords (same validation and CloudWatch
  metrics as the HTTP API). ``store.stream_exists(stream_arn) -> bool``.

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

import bisect
import re
import threading
import time
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .extension import Extension
from .seam import SeamError, SeamSet, moto_version

if TYPE_CHECKING:
    from moto.kinesis.models import Record, Shard, Stream

    from .cloud import LocalCloud

GET_RECORDS_MAX = 10_000  # AWS's GetRecords limit (moto returned the whole shard without one)
_STREAM_ARN = re.compile(r"^arn:[^:]+:kinesis:(?P<region>[^:]+):(?P<account>\d{12}):stream/(?P<name>[^/]+)$")
_LOG = "_localcloud_log"
_SIGNAL = "_localcloud_signal"


class StreamNotFound(LookupError):
    pass


class ShardNotFound(LookupError):
    pass


@dataclass(frozen=True)
class RecordView:
    shard_id: str
    sequence_number: str
    partition_key: str
    data: bytes
    approximate_arrival_timestamp: float
    explicit_hash_key: str | None


@dataclass(frozen=True)
class ShardView:
    shard_id: str
    parent_shard_id: str | None
    adjacent_parent_shard_id: str | None
    starting_hash_key: int
    ending_hash_key: int
    is_open: bool
    starting_sequence_number: str
    last_sequence_number: str


class ShardLog(Mapping):
    """A shard's records: sequence number -> moto Record, append-only, one lock.

    Also a read-only Mapping, so moto code that iterates ``shard.records`` (split, merge) still works.
    """

    __slots__ = ("_lock", "_seqs", "_records", "_times")

    def __init__(self, initial: Mapping | None = None):
        self._lock = threading.Lock()
        self._seqs: list[int] = []
        self._records: list[Record] = []
        self._times: list[float] = []
        for seq, record in (initial or {}).items():
            if self._seqs and seq <= self._seqs[-1]:
                raise ValueError("a shard's sequence numbers must increase")
            self._seqs.append(seq)
            self._records.append(record)
            self._times.append(max(record.created_at, self._times[-1]) if self._times else record.created_at)

    def append(self, make: Callable[[int], Record]) -> Record:
        """Draw the next sequence number and store `make(number)` atomically."""
        with self._lock:
            seq = self._seqs[-1] + 1 if self._seqs else 1
            record = make(seq)
            if self._times and record.created_at < self._times[-1]:
                # The wall clock stepped back: keep arrival times ordered like sequence numbers.
                record.created_at = self._times[-1]
                record.created_at_datetime = datetime.fromtimestamp(record.created_at, timezone.utc).replace(tzinfo=None)
            self._times.append(record.created_at)
            self._seqs.append(seq)
            self._records.append(record)
            return record

    def after(self, seq: int, limit: int) -> tuple[list[Record], Record | None]:
        """Up to `limit` records numbered above `seq`, and the newest record of the shard."""
        with self._lock:
            start = bisect.bisect_right(self._seqs, seq)
            return self._records[start:start + limit], (self._records[-1] if self._records else None)

    def first_seq(self) -> int:
        with self._lock:
            return self._seqs[0] if self._seqs else 0

    def last_seq(self) -> int:
        with self._lock:
            return self._seqs[-1] if self._seqs else 0

    def last_before(self, timestamp: float) -> int:
        """Sequence number of the newest record that arrived before `timestamp` (0 if none)."""
        with self._lock:
            index = bisect.bisect_left(self._times, timestamp)
            return self._seqs[index - 1] if index else 0

    # -- Mapping (read-only) for moto's own code --------------------------------------------
    def __getitem__(self, seq: int) -> Record:
        with self._lock:
            index = bisect.bisect_left(self._seqs, seq)
            if index < len(self._seqs) and self._seqs[index] == seq:
                return self._records[index]
        raise KeyError(seq)

    def __iter__(self) -> Iterator[int]:
        with self._lock:
            return iter(list(self._seqs))

    def __reversed__(self) -> Iterator[int]:
        with self._lock:
            return iter(self._seqs[::-1])

    def __len__(self) -> int:
        return len(self._seqs)

    def keys(self) -> list[int]:  # type: ignore[override]
        with self._lock:
            return list(self._seqs)

    def values(self) -> list[Record]:  # type: ignore[override]
        with self._lock:
            return list(self._records)

    def items(self) -> list[tuple[int, Record]]:  # type: ignore[override]
        with self._lock:
            return list(zip(self._seqs, self._records, strict=True))


class _StreamSignal:
    """Per-stream lock (routing vs resharding) and append counter that waiters sleep on."""

    __slots__ = ("lock", "changed", "count")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(threading.Lock())
        self.count = 0

    def bump(self, n: int = 1) -> None:
        with self.changed:
            self.count += n
            self.changed.notify_all()


def _signal(stream: Stream) -> _StreamSignal:
    signal = stream.__dict__.get(_SIGNAL)
    if signal is None:  # setdefault is atomic, so racing creators agree on one
        signal = stream.__dict__.setdefault(_SIGNAL, _StreamSignal())
    return signal


def _to_epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value)


# -- replacements for moto's Shard / Stream methods -------------------------------------------------
def _records_property() -> property:
    def get(shard: Shard) -> ShardLog:
        return shard.__dict__[_LOG]

    def set_(shard: Shard, value: Mapping) -> None:
        shard.__dict__[_LOG] = value if isinstance(value, ShardLog) else ShardLog(value)

    return property(get, set_, doc="The shard's records (a ShardLog).")


def _shard_put_record(_original: Any) -> Callable:
    from moto.kinesis.models import Record

    def put_record(self: Shard, partition_key: str, data: str, explicit_hash_key: str) -> str:
        record = self.records.append(lambda seq: Record(partition_key, data, seq, explicit_hash_key))
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
        return self.records.last_before(_to_epoch(at_timestamp))

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
        with _signal(self).lock:
            for shard in self.shards.values():
                if shard.is_open and shard.starting_hash <= key <= shard.ending_hash:
                    return shard
        return None

    return get_shard_for_key


def _stream_put_record(original: Callable) -> Callable:
    def put_record(self: Stream, partition_key: str, explicit_hash_key: str, data: str) -> tuple[str, str]:
        result = original(self, partition_key, explicit_hash_key, data)
        _signal(self).bump()
        return result

    return put_record


def _under_stream_lock(original: Callable) -> Callable:
    def locked(self: Stream, *args: Any, **kwargs: Any) -> Any:
        with _signal(self).lock:
            return original(self, *args, **kwargs)

    locked.__name__ = original.__name__
    return locked


def _stream_merge_shards(original: Callable) -> Callable:
    def merge_shards(self: Stream, shard_to_merge: str, adjacent_shard_to_merge: str) -> None:
        # moto copies the parents' records into the new shard with Shard.put_record: count them.
        signal = _signal(self)
        with signal.lock:
            before = sum(len(s.records) for s in self.shards.values())
            original(self, shard_to_merge, adjacent_shard_to_merge)
            moved = sum(len(s.records) for s in self.shards.values()) - before
        signal.bump(moved)

    return merge_shards


def kinesis_seams() -> SeamSet:
    from moto.kinesis.models import Shard, Stream

    seams = SeamSet("kinesis_store")
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


def install_seams() -> SeamSet:
    """Apply the Kinesis seams (idempotent) and verify moto still builds shards through them."""
    from moto.kinesis.models import Shard

    seams = kinesis_seams()
    seams.apply()
    if not isinstance(Shard(0, 0, 1).records, ShardLog):
        raise SeamError(
            f"moto {moto_version()}: Shard.__init__ no longer assigns self.records, so the kinesis_store seams "
            "cannot take over its storage (written for moto 5.2.5)."
        )
    return seams


# -- the extension -----------------------------------------------------------------------------------
class KinesisStore(Extension):
    """Installs the seams above and answers in-process readers (see the module docstring)."""

    name = "kinesis_store"

    def __init__(self, cloud: LocalCloud):
        super().__init__(cloud)
        self.seams: SeamSet | None = None

    def install(self) -> None:
        self.seams = install_seams()

    # -- lookups --
    def _stream(self, stream_arn: str) -> Stream:
        from moto.kinesis.models import kinesis_backends

        match = _STREAM_ARN.match(stream_arn or "")
        if not match:
            raise StreamNotFound(f"{stream_arn!r} is not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)")
        stream = kinesis_backends[match["account"]][match["region"]].streams.get(match["name"])
        if stream is None or stream.arn != stream_arn:
            raise StreamNotFound(f"Kinesis stream {stream_arn} does not exist; create it first")
        return stream

    def _shard(self, stream_arn: str, shard_id: str) -> Shard:
        stream = self._stream(stream_arn)
        shard = stream.shards.get(shard_id)
        if shard is None:
            raise ShardNotFound(f"stream {stream_arn} has no shard {shard_id!r}; list them with shards()")
        return shard

    def stream_exists(self, stream_arn: str) -> bool:
        try:
            self._stream(stream_arn)
        except StreamNotFound:
            return False
        return True

    # -- reading --
    def shards(self, stream_arn: str) -> list[ShardView]:
        stream = self._stream(stream_arn)
        with _signal(stream).lock:
            shards = list(stream.shards.values())
        return [
            ShardView(
                shard_id=s.shard_id,
                parent_shard_id=s.parent,
                adjacent_parent_shard_id=s.adjacent_parent,
                starting_hash_key=s.starting_hash,
                ending_hash_key=s.ending_hash,
                is_open=s.is_open,
                starting_sequence_number=str(s.records.first_seq()),
                last_sequence_number=str(s.records.last_seq()),
            )
            for s in shards
        ]

    def read(self, stream_arn: str, shard_id: str, after_sequence_number: str | int | None = "0",
             limit: int = GET_RECORDS_MAX) -> list[RecordView]:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        records, _newest = self._shard(stream_arn, shard_id).records.after(int(after_sequence_number or 0), limit)
        return [
            RecordView(
                shard_id=shard_id,
                sequence_number=str(r.sequence_number),
                partition_key=r.partition_key,
                data=b64decode(r.data),
                approximate_arrival_timestamp=r.created_at,
                explicit_hash_key=r.explicit_hash_key or None,
            )
            for r in records
        ]

    def start_position(self, stream_arn: str, shard_id: str, iterator_type: str,
                       sequence_number: str | int | None = None, timestamp: Any = None) -> str:
        log = self._shard(stream_arn, shard_id).records
        if iterator_type == "TRIM_HORIZON":
            return "0"
        if iterator_type == "LATEST":
            return str(log.last_seq())
        if iterator_type in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            if sequence_number is None:
                raise ValueError(f"{iterator_type} needs a sequence_number")
            return str(int(sequence_number) - (1 if iterator_type == "AT_SEQUENCE_NUMBER" else 0))
        if iterator_type == "AT_TIMESTAMP":
            if timestamp is None:
                raise ValueError("AT_TIMESTAMP needs a timestamp")
            return str(log.last_before(_to_epoch(timestamp)))
        raise ValueError(
            f"unknown iterator type {iterator_type!r}: use TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER, "
            "AFTER_SEQUENCE_NUMBER or AT_TIMESTAMP"
        )

    def millis_behind_latest(self, stream_arn: str, shard_id: str, after_sequence_number: str | int | None) -> int:
        unread, _newest = self._shard(stream_arn, shard_id).records.after(int(after_sequence_number or 0), 1)
        if not unread:
            return 0
        return max(0, int((time.time() - unread[0].created_at) * 1000))

    def appended(self, stream_arn: str) -> int:
        signal = _signal(self._stream(stream_arn))
        with signal.changed:
            return signal.count

    def wait_for_records(self, stream_arn: str, seen: int, timeout: float) -> int:
        signal = _signal(self._stream(stream_arn))
        with signal.changed:
            signal.changed.wait_for(lambda: signal.count > seen, timeout=max(0.0, timeout))
            return signal.count

    # -- writing --
    def put_records(self, stream_arn: str, records: Sequence[tuple[str, bytes]]) -> list[tuple[str, str]]:
        from moto.kinesis.models import kinesis_backends

        stream = self._stream(stream_arn)
        backend = kinesis_backends[stream.account_id][stream.region]
        entries = [{"PartitionKey": key, "Data": b64encode(data).decode("ascii")} for key, data in records]
        response = backend.put_records(stream_arn, stream.stream_name, entries)
        return [(r["ShardId"], r["SequenceNumber"]) for r in response["Records"]]

    def status(self) -> dict[str, Any]:
        from moto.kinesis.models import kinesis_backends

        streams = records = 0
        for _account, regions in kinesis_backends.items():
            for _region, backend in regions.items():
                for stream in list(backend.streams.values()):
                    streams += 1
                    records += sum(len(s.records) for s in list(stream.shards.values()))
        return {"seams": bool(self.seams and self.seams.applied), "streams": streams, "records": records}


def extension(cloud: LocalCloud) -> KinesisStore:
    return KinesisStore(cloud)
