"""The Kinesis extension: the seams (seams.py: why moto's shards are replaced by `ShardLog`s, and
what changes) and an in-process reader API over moto's streams.

In-process API (a contract: the Firehose engine and the DynamoDB→Kinesis forwarder use it)
-------------------------------------------------------------------------------------------
``store = cloud.extension("kinesis")`` is a `KinesisStore`. Streams are named by ARN; an
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
"""
from __future__ import annotations

import re
import time
from base64 import b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..extension import Extension
from ..moto_backends import backend, backends
from ..seam import SeamSet
from .seams import GET_RECORDS_MAX, build_seams, check_storage
from .store import raw_data, stream_signal, to_epoch

if TYPE_CHECKING:
    from moto.kinesis.models import Shard, Stream

    from ..cloud import LocalCloud

_STREAM_ARN = re.compile(r"^arn:[^:]+:kinesis:(?P<region>[^:]+):(?P<account>\d{12}):stream/(?P<name>[^/]+)$")


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


class KinesisStore(Extension):
    """Installs the seams above and answers in-process readers (see the module docstring)."""

    name = "kinesis"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.seams: SeamSet = build_seams(cloud)

    def install(self) -> None:
        self.seams.apply()
        check_storage()

    # -- lookups --
    def _stream(self, stream_arn: str) -> Stream:
        match = _STREAM_ARN.match(stream_arn or "")
        if not match:
            raise StreamNotFound(f"{stream_arn!r} is not a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>)")
        stream = backend("kinesis", match["account"], match["region"]).streams.get(match["name"])
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
        with stream_signal(stream).lock:
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
                data=raw_data(r),
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
            return str(log.last_before(to_epoch(timestamp)))
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
        signal = stream_signal(self._stream(stream_arn))
        with signal.changed:
            return signal.count

    def wait_for_records(self, stream_arn: str, seen: int, timeout: float) -> int:
        signal = stream_signal(self._stream(stream_arn))
        with signal.changed:
            signal.changed.wait_for(lambda: signal.count > seen, timeout=max(0.0, timeout))
            return signal.count

    # -- writing --
    def put_records(self, stream_arn: str, records: Sequence[tuple[str, bytes]]) -> list[tuple[str, str]]:
        stream = self._stream(stream_arn)
        entries = [{"PartitionKey": key, "Data": b64encode(data).decode("ascii")} for key, data in records]
        response = backend("kinesis", stream.account_id, stream.region).put_records(stream_arn, stream.stream_name, entries)
        return [(r["ShardId"], r["SequenceNumber"]) for r in response["Records"]]

    def status(self) -> dict[str, Any]:
        streams = records = 0
        for found in backends("kinesis"):
            for stream in list(found.streams.values()):
                streams += 1
                records += sum(len(s.records) for s in list(stream.shards.values()))
        return {"seams": self.seams.applied, "streams": streams, "records": records}


def extension(cloud: "LocalCloud") -> KinesisStore:
    return KinesisStore(cloud)
