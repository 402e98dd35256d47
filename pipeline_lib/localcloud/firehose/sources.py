"""Where a delivery stream's records come from: a Kinesis stream, read in-process from every
shard with a checkpoint per shard (Direct PUT records are handed to the engine instead)."""
from __future__ import annotations

import logging
import re
from typing import Callable

from .records import InRecord

log = logging.getLogger("pipeline_lib.localcloud.firehose")


def _shard_number(shard_id: str) -> int:
    match = re.search(r"(\d+)$", shard_id)
    return int(match.group(1)) if match else 0


class KinesisSource:
    """Reads a stream through the kinesis extension. Like Firehose, it starts at the
    stream's tip (LATEST) when the delivery stream is created, and at the checkpoints of the
    previous reader (`positions`) when it restarts (UpdateDestination); shards that appear later
    (resharding) are read from their start."""

    def __init__(self, cloud, stream_arn: str, positions: dict[str, str] | None = None,
                 authorize: "Callable[[], str | None] | None" = None):
        self.store = cloud.extension("kinesis")
        self.stream_arn = stream_arn
        # The delivery role's permission to read the stream: None if allowed, else why not. A
        # refused read reads nothing and keeps the checkpoints, so nothing is skipped.
        self.authorize = authorize
        self.refused: str | None = None
        self.positions: dict[str, str] = dict(positions or {})
        self._missing_logged = False
        if positions is not None:
            return  # resume: records that arrived while the delivery stream restarted are read too
        try:
            for shard in self.store.shards(stream_arn):
                self.positions[shard.shard_id] = self.store.start_position(stream_arn, shard.shard_id, "LATEST")
        except LookupError:
            self._log_missing()

    def _log_missing(self) -> None:
        if not self._missing_logged:
            log.error("source stream %s does not exist; the delivery stream reads nothing", self.stream_arn)
            self._missing_logged = True

    def poll(self, limit: int) -> list[InRecord]:
        if self.authorize is not None:
            refused = self.authorize()
            if refused and refused != self.refused:
                log.error("source stream %s: %s", self.stream_arn, refused)
            self.refused = refused
            if refused:
                return []
        try:
            shards = self.store.shards(self.stream_arn)
        except LookupError:
            self._log_missing()
            return []
        out: list[InRecord] = []
        for shard in shards:
            if len(out) >= limit:
                break
            after = self.positions.setdefault(shard.shard_id, "0")
            records = self.store.read(self.stream_arn, shard.shard_id, after, limit - len(out))
            if not records:
                continue
            number = _shard_number(shard.shard_id)
            for r in records:
                arrival_ms = int(r.approximate_arrival_timestamp * 1000)
                out.append(InRecord(
                    record_id=f"{r.sequence_number}{number:06d}",
                    data=r.data,
                    arrival_ms=arrival_ms,
                    shard_id=shard.shard_id,
                    partition_key=r.partition_key,
                    sequence_number=r.sequence_number,
                ))
            self.positions[shard.shard_id] = records[-1].sequence_number
        return out

    def lag_ms(self) -> int:
        try:
            return max(
                (self.store.millis_behind_latest(self.stream_arn, s, p) for s, p in self.positions.items()),
                default=0,
            )
        except LookupError:
            return 0


class DirectPutSource:
    """Direct PUT records arrive through `DeliveryEngine.ingest_direct`; nothing to poll."""

    def poll(self, limit: int) -> list[InRecord]:
        return []

    def lag_ms(self) -> int:
        return 0
