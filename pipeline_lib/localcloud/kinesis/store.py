"""A shard's records as moto stores them once the Kinesis seams are in: append-only, one lock per
shard (`ShardLog`), and a per-stream lock and append counter (`stream_signal`) that in-process
readers sleep on. Why, and what the seams change: see `seams.py`."""
from __future__ import annotations

import bisect
import threading
import time
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.kinesis.models import Record, Stream

_SIGNAL = "_localcloud_signal"


class CompactRecord:
    """A stored Kinesis record, as moto's `Record` reads to moto's own code (`partition_key`,
    `data` as base64 text, `sequence_number`, `explicit_hash_key`, `created_at`,
    `created_at_datetime`, `to_json`), kept small: a stream holds every record for 24 hours.

    moto's Record keeps an instance dict, the data base64-encoded (a third larger) and a datetime
    beside the float timestamp, about 1.3 x the data + 430 bytes a record; this one keeps the raw
    bytes in slots (about the data + 250; see tests/benchmarks/bench_kinesis_store.py). The base64
    text and the datetime are made when asked for (GetRecords over HTTP, resharding).
    """

    __slots__ = ("partition_key", "raw", "sequence_number", "explicit_hash_key", "created_at")

    def __init__(self, partition_key: str, raw: bytes, sequence_number: int, explicit_hash_key: str | None,
                 created_at: float | None = None):
        self.partition_key = partition_key
        self.raw = raw
        self.sequence_number = sequence_number
        self.explicit_hash_key = explicit_hash_key
        # As moto's Record: epoch seconds of the arrival, microsecond precision.
        self.created_at = round(time.time(), 6) if created_at is None else created_at

    @property
    def data(self) -> str:
        return b64encode(self.raw).decode("ascii")

    @property
    def created_at_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.created_at, timezone.utc).replace(tzinfo=None)

    @created_at_datetime.setter
    def created_at_datetime(self, _value: datetime) -> None:
        pass  # derived from created_at (ShardLog.append moves both when the clock steps back)

    def to_json(self) -> dict[str, Any]:
        return {
            "Data": self.raw,
            "PartitionKey": self.partition_key,
            "SequenceNumber": str(self.sequence_number),
            "ApproximateArrivalTimestamp": self.created_at_datetime,
        }

    @classmethod
    def from_base64(cls, partition_key: str, data: str, sequence_number: int, explicit_hash_key: str | None):
        return cls(partition_key, b64decode(data), sequence_number, explicit_hash_key)


def raw_data(record: Any) -> bytes:
    """A stored record's data bytes (a CompactRecord's, or a moto Record's loaded from an older state)."""
    raw = getattr(record, "raw", None)
    return raw if raw is not None else b64decode(record.data)


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

    def __reduce__(self) -> tuple:
        # A consistent copy (appends go on while a state save runs), the records written without
        # the save's memo (they reference nothing else: state/pickling.py, LeafList).
        from ..state.pickling import LeafList

        with self._lock:
            seqs, records, times = list(self._seqs), LeafList(self._records), list(self._times)
        return _restored_log, (seqs, records, times)

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


def _restored_log(seqs: list[int], records: list, times: list[float]) -> ShardLog:
    log = ShardLog.__new__(ShardLog)
    log._lock = threading.Lock()
    log._seqs, log._records, log._times = seqs, records, times
    return log


class _StreamSignal:
    """Per-stream lock (routing vs resharding) and append counter that waiters sleep on."""

    __slots__ = ("lock", "changed", "count")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(threading.Lock())
        self.count = 0

    def __reduce__(self):
        # Locks and waiters belong to the running process; a loaded stream starts a fresh signal.
        return _StreamSignal, ()

    def bump(self, n: int = 1) -> None:
        with self.changed:
            self.count += n
            self.changed.notify_all()


def stream_signal(stream: Stream) -> _StreamSignal:
    signal = stream.__dict__.get(_SIGNAL)
    if signal is None:  # setdefault is atomic, so racing creators agree on one
        signal = stream.__dict__.setdefault(_SIGNAL, _StreamSignal())
    return signal


def to_epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value)


