"""A processed batch into the partition buffers: routing (routing.py), then record format
conversion of the records that have a place (one batch, in a conversion worker when the cloud
has them; optionally on the engine's conversion thread so the next batch can be in the Lambda
processor meanwhile), then record by record in order into their buffers, or as error records."""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from . import batch_conversion, routing
from .buffer_store import BufferStore
from .config import StreamConfig
from .converter_cache import ConverterCache
from .engine_status import EngineCounters
from .metrics import StreamMetrics
from .records import Buffer, Outgoing, Services

__all__ = ["Placement", "RoutedBatch"]


@dataclass
class RoutedBatch:
    """A batch on its way to the partition buffers: planned, its conversion started or done."""

    planned: list
    generation: int
    groups: dict = field(default_factory=dict)  # partition key -> group number (batch_conversion)
    converter: Any = None
    unavailable: Exception | None = None  # the schema could not be had: every placed record fails
    converted: Any = None  # batch_conversion.ConvertedBatch
    future: Future | None = None  # of `converted`, when it converts on the conversion thread


class Placement:
    """`fail(record, output_type, code, message, attempts)` makes an error record; `lock` is the
    engine's, held while buffers change."""

    def __init__(self, config: StreamConfig, services: Services, metrics: StreamMetrics,
                 counters: EngineCounters, buffers: BufferStore, converters: ConverterCache,
                 lock: threading.RLock, fail: Callable[..., None], extractor: Any,
                 partition_key_names: Sequence[str]):
        self.config = config
        self.services = services
        self.metrics = metrics
        self.counters = counters
        self._buffers = buffers
        self._converters = converters
        self._lock = lock
        self._fail = fail
        self._extractor = extractor
        self._partition_key_names = partition_key_names
        self._converting: ThreadPoolExecutor | None = None  # started on first use (_conversion_thread)

    def shutdown(self) -> None:
        if self._converting is not None:
            self._converting.shutdown(wait=False)

    def route(self, outgoing: list[Outgoing]) -> None:
        """Route, convert and place one batch in this thread."""
        self.finish(self.start(outgoing, background=False))

    def start(self, outgoing: list[Outgoing], background: bool) -> RoutedBatch:
        """Plan the batch and start converting the records that have a place (on the engine's
        conversion thread when `background` and the cloud has conversion workers)."""
        from .coercion import ConversionError
        from .schema_source import SchemaUnavailable

        routed = RoutedBatch(routing.plan(outgoing, self.config, self._extractor, self._partition_key_names),
                             self._converters.generation)
        if self.config.conversion is None:
            return routed
        placed = [p for p in routed.planned if p.failure is None]
        if not placed:
            return routed
        # Records go to the worker with the group of their partition keys: it returns one piece of
        # rows per group, which becomes one buffer's (see finish).
        for p in placed:
            p.group = routed.groups.setdefault(p.partition_key(), len(routed.groups))
        records, groups = [p.data for p in placed], [p.group for p in placed]
        try:
            routed.converter, routed.generation = self._converters.current()
            routed.converter.check()
        except (ConversionError, SchemaUnavailable) as exc:
            routed.unavailable = exc
            return routed
        if background and self.services.convert_batch is not None:
            routed.future = self._conversion_thread().submit(self._convert, routed.converter, records, groups)
        else:
            routed.converted = self._convert(routed.converter, records, groups)
        return routed

    def finish(self, batch: RoutedBatch) -> None:
        """Place a planned batch, record by record in order: failures as error records, the
        rest (with their converted rows) in their partition buffers."""
        converted = batch.future.result() if batch.future is not None else batch.converted
        outcomes = iter(converted.outcomes) if converted is not None else None
        # A group's rows all go to one buffer: within a batch a partition either has (or gets) a
        # buffer for every record of its group, or is over the active partition limit for all of
        # them (buffers are only delivered between batches).
        group_buffers: dict[int, Buffer] = {}
        for routed in batch.planned:
            if routed.failure is not None:
                self._fail(routed.item.source, *routed.failure, 1)
                continue
            outcome = next(outcomes) if outcomes is not None else None
            bucket_key = (routed.partition_key(), batch.generation)
            if not self._within_partition_limit(routed, bucket_key) or not self._converted(routed, batch, outcome):
                continue
            with self._lock:
                buffer = self._buffer(bucket_key, routed.keys, batch.converter)
                if converted is None:
                    buffer.add(routed.data, len(routed.data), routed.item.source.arrival_ms)
                else:
                    buffer.count_rows(outcome, len(routed.data) // max(1, outcome), routed.item.source.arrival_ms)
                    group_buffers[routed.group] = buffer
                buffer.holds.append(routed.item.source)
        if group_buffers:
            with self._lock:
                for group, buffer in group_buffers.items():
                    piece = converted.pieces.get(group)
                    if piece is not None:  # None: its records made no rows
                        buffer.rows.append(piece)

    def _within_partition_limit(self, routed: routing.Routed, bucket_key: tuple) -> bool:
        limit = self.config.active_partition_limit
        with self._lock:
            if bucket_key in self._buffers.data or len(self._buffers.data) < limit:
                return True
            self.metrics.add("PartitionCountExceeded", 1)
            self._fail(routed.item.source, "partitioning-failed", "DynamicPartitioning.ActivePartitionsLimitExceeded",
                       f"activePartitionExceeded: more than {limit} active partitions.", 1)
            return False

    def _converted(self, routed: routing.Routed, batch: RoutedBatch, outcome: Any) -> bool:
        """Whether the record converted (counted), when the stream converts; a failure becomes
        its error record."""
        if self.config.conversion is None:
            return True
        size = len(routed.data)
        if batch.unavailable is not None or type(outcome) is not int:
            code, message = ((batch.unavailable.code, batch.unavailable.message) if batch.unavailable is not None  # type: ignore[attr-defined]
                             else outcome)
            self.metrics.add("FailedConversion.Records", 1)
            self.metrics.add("FailedConversion.Bytes", size)
            self._fail(routed.item.source, "format-conversion-failed", code, message, 1)
            return False
        self.metrics.add("SucceedConversion.Records", 1)
        self.metrics.add("SucceedConversion.Bytes", size)
        return True

    def _buffer(self, bucket_key: tuple, partition_keys: dict[str, str], converter: Any) -> Buffer:
        buffer = self._buffers.data.get(bucket_key)
        if buffer is None:
            buffer = self._buffers.open_data(bucket_key, partition_keys, converter, time.monotonic())
            self.metrics.add("PartitionCount", len(self._buffers.data))
        return buffer

    def _conversion_thread(self) -> ThreadPoolExecutor:
        if self._converting is None:
            self._converting = ThreadPoolExecutor(1, thread_name_prefix=f"firehose-{self.config.name}-conversion")
        return self._converting

    def _convert(self, converter: Any, records: list[bytes], groups: list[int]) -> Any:
        convert = self.services.convert_batch or batch_conversion.convert_records
        started = time.perf_counter()
        converted = convert(converter, records, groups)
        self.counters.conversion_seconds += time.perf_counter() - started
        self.counters.conversion_cpu_seconds += converted.cpu_seconds
        return converted
