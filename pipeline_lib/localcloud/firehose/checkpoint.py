"""The source checkpoint of a delivery engine (pure): per shard, the sequence number after which
a new reader loses nothing, given where the source stands and the records still held (read but
not yet in S3). Records of objects written before a crash are read again: at-least-once."""
from __future__ import annotations

from typing import Iterable, Mapping

from .records import InRecord

__all__ = ["committed_positions"]


def committed_positions(positions: Mapping[str, str], held: Iterable[InRecord]) -> dict[str, str]:
    """The source's position, or just before the oldest record still held (sequence numbers are
    integers)."""
    out = dict(positions)
    for record in held:
        if record.shard_id is None or record.sequence_number is None:
            continue
        before = int(record.sequence_number) - 1
        current = out.get(record.shard_id)
        if current is None or before < int(current):
            out[record.shard_id] = str(before)
    return out
