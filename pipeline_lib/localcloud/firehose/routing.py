"""Where each processed record goes (pure): metadata extraction (jq), the record delimiter and
the partition keys dynamic partitioning needs, or the reason the record fails. The engine then
converts the records that have a place in one batch and puts them in their partition buffers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from .config import StreamConfig
from .records import Outgoing

__all__ = ["Routed", "plan"]


@dataclass
class Routed:
    item: Outgoing
    data: bytes  # what the object gets (with the delimiter when AppendDelimiterToRecord)
    keys: dict[str, str]  # the partition keys the prefix needs ({} without dynamic partitioning)
    failure: tuple[str, str, str] | None = None  # (error output type, code, message)
    group: int = -1  # its partition's number in the batch (set by the engine for conversion)

    def partition_key(self) -> tuple:
        return tuple(sorted(self.keys.items()))


def plan(outgoing: Sequence[Outgoing], config: StreamConfig, extractor: Any,
         needed: Sequence[str]) -> list[Routed]:
    """One `Routed` per record, in order."""
    from .jq_extract import MetadataExtractionError

    out: list[Routed] = []
    for item in outgoing:
        keys = item.partition_keys
        data = item.data
        if extractor is not None:
            try:
                keys = {**extractor.extract(data), **keys}
            except MetadataExtractionError as exc:
                out.append(Routed(item, data, {}, (exc.output_type, exc.code, exc.message)))
                continue
        if config.append_delimiter:
            data = data + b"\n"
        if config.dynamic_partitioning:
            missing = [k for k in needed if k not in keys]
            if missing:
                out.append(Routed(item, data, {}, (
                    "partitioning-failed", "DynamicPartitioning.PartitionKeyMissing",
                    f"Partition key(s) {', '.join(missing)} missing from the record's metadata.")))
                continue
            keys = {k: keys[k] for k in needed}
        else:
            keys = {}
        out.append(Routed(item, data, keys))
    return out
