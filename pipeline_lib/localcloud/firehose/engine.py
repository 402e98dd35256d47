"""The delivery engine of one Firehose stream: source → processors → partitions → S3.

Order as AWS documents it: record de-aggregation → Lambda transformation (buffered by the
processor's hints, retried per NumberOfRetries, its response validated) → metadata extraction
(jq) and dynamic partitioning → record format conversion (Glue schema, OpenX JSON → Parquet) →
buffering per partition by the stream's hints → one S3 object per buffer. Every record that
fails a step is written, with its original data, as an error record under the evaluated error
prefix: nothing is dropped silently. Delivery is at-least-once.

The engine runs the loop and composes its parts: `lambda_processing` (the processor),
`placement` (routing, conversion, into buffers), `buffer_store` (what it holds), `s3_delivery`
(objects, retried as Firehose retries them), `checkpoint` and `engine_status`. Every record read
stays *held* until the object carrying it (data or error output) is in S3;
`committed_positions()` is the source checkpoint below every held record, from which a restarted
engine (after a crash, see the faults package) reads again: records of objects already written
before the crash are delivered twice, none is skipped.

Waits of the managed service (buffer intervals) run on the local time scale
(`LocalCloud.scaled`); `flush()` delivers everything accepted so far at once.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ..faults import InjectedCrash
from . import checkpoint, error_records, prefixes
from .buffer_store import BufferStore, ProcessorBuffer
from .config import StreamConfig
from .converter_cache import ConverterCache
from .engine_status import EngineCounters, stream_status
from .lambda_processing import LambdaProcessing
from .metrics import StreamMetrics
from .placement import Placement, RoutedBatch
from .records import Buffer, InRecord, LambdaInvoker, Outgoing, Services, Source
from .loop_control import DeliveryStopped, LoopControl
from .s3_delivery import S3Delivery

__all__ = ["Buffer", "DeliveryEngine", "InRecord", "LambdaInvoker", "Outgoing", "Services", "Source"]

log = logging.getLogger("pipeline_lib.localcloud.firehose")

# How often the engine looks at its source when idle (Firehose polls Kinesis about once a second).
POLL_SECONDS = 1.0


class DeliveryEngine:
    """Runs one delivery stream. Thread-safe: `accept` (Direct PUT) and `flush` may be called
    from request threads while the engine's own thread works."""

    def __init__(self, config: StreamConfig, source: Source, services: Services,
                 metrics: StreamMetrics | None = None):
        self.config = config
        self.source = source
        self.services = services
        # A restarted engine continues its predecessor's metrics.
        self.metrics = metrics or StreamMetrics(config.name, services.publish_metrics)
        self.counters = EngineCounters()
        self._lock = threading.RLock()
        self._control = LoopControl(self._lock)
        self._cycle_lock = threading.Lock()  # held while a cycle moves records (see checkpoint)
        self._pending = ProcessorBuffer()  # waiting for the Lambda processor's buffer
        self._buffers = BufferStore()
        self._held: dict[int, InRecord] = {}  # read but not yet in S3, by id()
        self._last_publish = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"firehose-{config.name}", daemon=True)
        self._compose()

    def _compose(self) -> None:
        config, services = self.config, self.services
        prefix = prefixes.parse_prefix(config.prefix)
        error_prefix = prefixes.parse_prefix(config.error_prefix) if config.error_prefix else None
        extractor = None
        if config.metadata_query:
            from .jq_extract import MetadataExtractor

            extractor = MetadataExtractor(config.metadata_query)
        self._lambda = LambdaProcessing(
            config, services, self.metrics, self._fail,
            prefix.lambda_key_names if extractor is not None else None,
            dropped=self._release,
        )
        self._converters = ConverterCache(config, services.converter_for, self._lock)
        self._placement = Placement(config, services, self.metrics, self.counters, self._buffers, self._converters,
                                    self._lock, self._fail, extractor, prefix.partition_key_names)
        self._s3 = S3Delivery(config, services, self.metrics, self.counters, prefix, error_prefix,
                              fail=self._fail, release=self._release, pause=self._control.pause,
                              converter=lambda: self._converters.current()[0])

    # What status reports (the faults tests read them too).
    failure = property(lambda self: self._control.failure)
    crashed = property(lambda self: self._control.crashed)
    busy_seconds = property(lambda self: self.counters.busy_seconds)
    conversion_seconds = property(lambda self: self.counters.conversion_seconds)
    conversion_cpu_seconds = property(lambda self: self.counters.conversion_cpu_seconds)
    parquet_seconds = property(lambda self: self.counters.parquet_seconds)
    s3_failures = property(lambda self: self.counters.s3_failures)
    lost_records = property(lambda self: self.counters.lost_records)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._control.stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._placement.shutdown()

    def flush(self, timeout: float) -> bool:
        """Return True once everything accepted before the call is in S3."""
        return self._control.flush(timeout)

    def notify(self) -> None:
        self._control.notify()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return stream_status(self.config, self.metrics, self.counters, pending=len(self._pending.records),
                                 open_partitions=len(self._buffers.data), held=len(self._held),
                                 failure=self._control.failure)

    # -- saved state (localcloud/state/) ---------------------------------------------------------
    def checkpoint(self) -> dict[str, Any]:
        """Between two cycles: where the source stands and every record read but not yet in S3
        (pending for the processor, in partition and error buffers), copied."""
        with self._cycle_lock, self._lock:
            return {
                "positions": dict(getattr(self.source, "positions", {}) or {}),
                "pending": list(self._pending.records),
                **self._buffers.saved(),
                "totals": dict(self.metrics.totals),
            }

    def restore(self, state: dict[str, Any]) -> None:
        """Take back a checkpoint before `start` (the source was built from its positions).
        Buffer deadlines restart now: the time the cloud was down does not count."""
        now = time.monotonic()
        buffers, errors = state.get("buffers", []), state.get("errors", [])
        with self._lock:
            self._pending.restore(state.get("pending", []), now)
            self._buffers.restore(buffers, errors, now)
            # What was read but not in S3 holds the checkpoint again (committed_positions), so a
            # crash after the restore re-reads it instead of skipping it.
            for record in [*self._pending.records, *BufferStore.holds_of([*buffers, *errors])]:
                self._held[id(record)] = record
            self.metrics.totals.update(state.get("totals", {}))

    # -- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        while (turn := self._control.next_turn()) is not None:
            target, forced = turn
            try:
                with self._cycle_lock:
                    self._cycle(forced)
            except DeliveryStopped:
                return
            except InjectedCrash as exc:  # the services restart the stream from committed_positions()
                log.warning("delivery stream %s: %s", self.config.name, exc)
                if self.services.restart is not None:  # before waiters wake: they look for the successor
                    self.services.restart(self)
                self._control.broke(f"crashed: {exc}", crashed=True)
                return
            except Exception as exc:  # an engine bug must be loud, not a silent stall
                log.exception("delivery stream %s: engine failed", self.config.name)
                self._control.broke(f"{type(exc).__name__}: {exc}")
                return
            self._control.turn_done(target, forced, self._next_wait)

    def _buffer_wait(self, seconds: float) -> float:
        """A buffer interval as the cloud runs it (scaled, or as configured: LocalCloud.buffer_wait)."""
        return (self.services.buffer_wait or self.services.scaled)(seconds)

    def _next_wait(self) -> float:
        poll = max(0.01, self.services.scaled(POLL_SECONDS))
        now = time.monotonic()
        deadlines = [now + poll]
        if self._pending.since is not None and self.config.lambda_processor:
            deadlines.append(self._pending.since + self._buffer_wait(self.config.lambda_processor.buffer_seconds))
        for opened in self._buffers.opened_times():
            deadlines.append(opened + self._buffer_wait(self.config.buffer_seconds))
        return max(0.0, min(deadlines) - now)

    def _cycle(self, forced: bool) -> None:
        while True:
            started = time.perf_counter()
            batch = self.source.poll(10_000)
            if batch:
                self._ingest(batch)
            worked = self._process(forced) | self._deliver(forced)
            if batch or worked:  # idle polls are not work: busy time is what throughput divides by
                self.counters.busy_seconds += time.perf_counter() - started
            self._maybe_publish(forced)
            if not (forced and batch):
                break  # a forced cycle drains the source completely

    def _maybe_publish(self, forced: bool) -> None:
        if forced or time.monotonic() - self._last_publish >= max(0.05, self.services.scaled(60)):
            if self.config.source_stream_arn:
                self.metrics.add("KinesisMillisBehindLatest", self.source.lag_ms())
            self.metrics.publish()
            self._last_publish = time.monotonic()

    # -- Direct PUT -------------------------------------------------------------------------------
    def ingest_direct(self, records: list[InRecord]) -> None:
        with self._control.wake:
            self._ingest(records)
            self._control.wake.notify_all()

    # -- steps ----------------------------------------------------------------------------------
    def _ingest(self, batch: list[InRecord]) -> None:
        total = sum(r.size() for r in batch)
        if self.config.source_stream_arn:
            self.metrics.add("DataReadFromKinesisStream.Records", len(batch))
            self.metrics.add("DataReadFromKinesisStream.Bytes", total)
        else:
            self.metrics.add("IncomingRecords", len(batch))
            self.metrics.add("IncomingBytes", total)
        if self.config.deaggregate is not None or self.config.source_stream_arn:
            from .deaggregation import deaggregate_records

            batch = deaggregate_records(batch, bool(self.config.source_stream_arn), self.config.deaggregate)
        with self._lock:
            for record in batch:
                self._held[id(record)] = record
            if self.config.lambda_processor is None:
                self._placement.route([Outgoing(r, r.data, {}) for r in batch])
                return
            self._pending.add(batch, time.monotonic())

    def _process(self, forced: bool) -> bool:
        """Run the Lambda processor over the pending records if its buffer is due; True if it ran."""
        processor = self.config.lambda_processor
        if processor is None:
            return False
        with self._lock:
            due = self._pending.due(forced, processor.buffer_bytes, self._buffer_wait(processor.buffer_seconds),
                                    time.monotonic())
            if not due or not self._pending.records:
                return False
            records = self._pending.take()
        # One batch converts (in a conversion worker) while the next is in the Lambda processor;
        # batches are placed in their buffers in order, all of them before this returns.
        in_flight: RoutedBatch | None = None
        try:
            for chunk in self._lambda.chunks(records):
                started = self._placement.start(self._lambda.invoke(chunk), background=True)
                if in_flight is not None:
                    self._placement.finish(in_flight)
                in_flight = started
            if in_flight is not None:
                self._placement.finish(in_flight)
                in_flight = None
        finally:
            if in_flight is not None and in_flight.future is not None:
                in_flight.future.cancel()  # the engine is failing: its records stay held (checkpoint)
        return True

    def _fail(self, record: InRecord, output_type: str, code: str, message: str, attempts: int,
              lambda_arn: str | None = None) -> None:
        """`record` becomes an error record under the error prefix (it stays held until written)."""
        line = error_records.engine_error_record(record, self.config, output_type, code, message, attempts,
                                                 attempt_ending_ms=int(time.time() * 1000), lambda_arn=lambda_arn)
        with self._lock:
            buffer = self._buffers.error_buffer(output_type, time.monotonic())
            buffer.add(line, len(line), record.arrival_ms)
            buffer.holds.append(record)

    # -- what is held, and the checkpoint below it ------------------------------------------------
    def _release(self, records) -> None:
        """`records` are in S3 (or were dropped, or lost): they no longer hold the checkpoint."""
        with self._lock:
            for record in records:
                self._held.pop(id(record), None)

    def committed_positions(self) -> dict[str, str]:
        """Per shard, the sequence number after which a new reader loses nothing."""
        with self._lock:
            return checkpoint.committed_positions(getattr(self.source, "positions", {}), self._held.values())

    def held_records(self) -> list[InRecord]:
        """What was accepted but is not in S3 yet (a Direct PUT successor ingests it again)."""
        with self._lock:
            return list(self._held.values())

    def _due(self, buffer: Buffer, opened: float, forced: bool) -> bool:
        return forced or buffer.size >= self.config.buffer_bytes or (
            time.monotonic() - opened >= self._buffer_wait(self.config.buffer_seconds)
        )

    def _deliver(self, forced: bool) -> bool:
        """Write the buffers that are due; True if any was."""
        with self._lock:
            taken, taken_errors = self._buffers.take_due(lambda b, opened: self._due(b, opened, forced))
        self._s3.write_data_all(taken)
        for output_type, buffer in taken_errors:
            self._s3.write_errors(output_type, buffer)
        if forced and taken and self._buffers.errors:  # records whose S3 retries ran out: in this flush too
            self._deliver(forced)
        return bool(taken or taken_errors)
