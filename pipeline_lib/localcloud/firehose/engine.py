"""The delivery engine of one Firehose stream: source → processors → partitions → S3.

Order as AWS documents it: record de-aggregation → Lambda transformation (buffered by the
processor's hints, retried per NumberOfRetries, its response validated) → metadata extraction
(jq) and dynamic partitioning → record format conversion (Glue schema, OpenX JSON → Parquet) →
buffering per partition by the stream's hints → one S3 object per buffer. Every record that
fails a step is written, with its original data, as an error record under the evaluated error
prefix: nothing is dropped silently. Delivery is at-least-once.

S3 PutObject failures are retried every 5 s (scaled) as the developer guide describes: with
dynamic partitioning for the stream's RetryOptions duration, after which the records go to the
error prefix (`s3-delivery-failed`); otherwise for up to 24 hours, after which they are lost
(counted in status). Every record read stays *held* until the object carrying it (data or error
output) is in S3; `committed_positions()` is the source checkpoint below every held record, from
which a restarted engine (after a crash, see the faults package) reads again: records of objects
already written before the crash are delivered twice, none is skipped.

Waits of the managed service (buffer intervals) run on the local time scale
(`LocalCloud.scaled`); `flush()` delivers everything accepted so far at once.
"""
from __future__ import annotations

import gzip
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from ..faults import InjectedCrash
from . import batch_conversion, error_records, naming, prefixes, routing
from .config import StreamConfig
from .lambda_processing import LambdaProcessing
from .metrics import StreamMetrics
from .records import Buffer, InRecord, LambdaInvoker, Outgoing, Services, Source

__all__ = ["Buffer", "DeliveryEngine", "InRecord", "LambdaInvoker", "Outgoing", "Services", "Source"]

log = logging.getLogger("pipeline_lib.localcloud.firehose")

# How often the engine looks at its source when idle (Firehose polls Kinesis about once a second).
POLL_SECONDS = 1.0
# Pause between attempts of a failed S3 delivery (scaled).
S3_RETRY_INTERVAL_SECONDS = 5.0


class _Stopped(Exception):
    """The engine was stopped while it waited to retry a delivery."""


@dataclass
class _Routing:
    """A batch on its way to the partition buffers: planned, its conversion started or done."""

    planned: list
    generation: int
    groups: dict = field(default_factory=dict)  # partition key -> group number (batch_conversion)
    converter: Any = None
    unavailable: Exception | None = None  # the schema could not be had: every placed record fails
    converted: Any = None  # batch_conversion.ConvertedBatch
    future: Future | None = None  # of `converted`, when it converts on the conversion thread


def _now_ms() -> int:
    return int(time.time() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


SCHEMA_REFRESH_SECONDS = 1.0


def _schema_of(converter: Any) -> tuple:
    return tuple(converter.column_names), tuple(str(t) for t in converter.column_types)


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
        self._prefix = prefixes.parse_prefix(config.prefix)
        self._error_prefix = prefixes.parse_prefix(config.error_prefix) if config.error_prefix else None
        self._converter: Any = None  # built on first use: the Glue table may come later
        # VersionId LATEST: "any updates to the table are automatically picked up" (API reference).
        # The table is re-read at most every SCHEMA_REFRESH_SECONDS; a changed schema starts new
        # buffers (its generation is part of the buffer key), so one object has one schema.
        self._converter_read_at = 0.0
        self._converter_generation = 0
        self._extractor = None
        if config.metadata_query:
            from .jq_extract import MetadataExtractor

            self._extractor = MetadataExtractor(config.metadata_query)
        self._lambda = LambdaProcessing(
            config, services, self.metrics, self._fail,
            self._prefix.lambda_key_names if self._extractor is not None else None,
            dropped=self._release,
        )
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._cycle_lock = threading.Lock()  # held while a cycle moves records (see checkpoint)
        self._pending: list[InRecord] = []  # waiting for the Lambda processor's buffer
        self._pending_size = 0
        self._pending_since: float | None = None
        self._buffers: "OrderedDict[tuple, Buffer]" = OrderedDict()
        self._buffer_opened: dict[tuple, float] = {}
        self._errors: dict[str, Buffer] = {}  # error output type -> buffer of error-record lines
        self._error_opened: dict[str, float] = {}
        self._held: dict[int, InRecord] = {}  # read but not yet in S3, by id()
        self._flush_requested = 0
        self._flush_done = 0
        self._stopping = False
        self._last_publish = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"firehose-{config.name}", daemon=True)
        self._converting: ThreadPoolExecutor | None = None  # started on first use (_conversion_thread)
        self.failure: str | None = None  # set when the engine itself broke (reported by status)
        self.busy_seconds = 0.0  # time spent moving records (status; throughput = records / busy)
        # Record format conversion: its wall time (overlapping the Lambda processor's when batches
        # follow each other) and the CPU time it took (in the conversion workers when the cloud
        # has them, else in this process).
        self.conversion_seconds = 0.0
        self.conversion_cpu_seconds = 0.0
        self.parquet_seconds = 0.0  # writing buffers as Parquet (in a conversion worker when the cloud has them)
        self.crashed = False  # stopped by an injected crash (the extension starts its successor)
        self.s3_failures = 0  # failed S3 PutObject attempts (each retried or ended as below)
        self.lost_records = 0  # records whose S3 delivery failed for Firehose's 24 hours

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        if self._converting is not None:
            self._converting.shutdown(wait=False)

    def flush(self, timeout: float) -> bool:
        """Return True once everything accepted before the call is in S3."""
        with self._wake:
            self._flush_requested += 1
            target = self._flush_requested
            self._wake.notify_all()
            deadline = time.monotonic() + timeout
            while self._flush_done < target and not self._stopping and self.failure is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._wake.wait(remaining)
            return self._flush_done >= target

    def notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "source": self.config.source_stream_arn or "DirectPut",
                "pending": len(self._pending),
                "open_partitions": len(self._buffers),
                "delivered_records": int(self.metrics.totals.get("DeliveryToS3.Records", 0)),
                "objects": int(self.metrics.totals.get("DeliveryToS3.ObjectCount", 0)),
                "records_in": int(self.metrics.totals.get("DataReadFromKinesisStream.Records", 0)
                                  + self.metrics.totals.get("IncomingRecords", 0)),
                "busy_seconds": round(self.busy_seconds, 3),
                "lambda_seconds": round(self.metrics.totals.get("ExecuteProcessing.Duration", 0) / 1000, 3),
                "conversion_seconds": round(self.conversion_seconds, 3),
                "conversion_cpu_seconds": round(self.conversion_cpu_seconds, 3),
                "parquet_seconds": round(self.parquet_seconds, 3),
                "held_records": len(self._held),
                "s3_failures": self.s3_failures,
                "lost_records": self.lost_records,
                "failure": self.failure,
            }

    # -- saved state (localcloud/state/) ---------------------------------------------------------
    def checkpoint(self) -> dict[str, Any]:
        """Between two cycles: where the source stands and every record read but not yet in S3
        (pending for the processor, in partition and error buffers), copied."""
        with self._cycle_lock, self._lock:
            return {
                "positions": dict(getattr(self.source, "positions", {}) or {}),
                "pending": list(self._pending),
                # Without their converter (it holds the role check's closures, and is rebuilt from the
                # Glue table after a load: rows converted before a schema change saved across a
                # down/up are written with the table's schema at that time).
                "buffers": [(k, replace(b, rows=list(b.rows), converter=None)) for k, b in self._buffers.items()],
                "errors": [(t, replace(b, rows=list(b.rows))) for t, b in self._errors.items()],
                "totals": dict(self.metrics.totals),
            }

    def restore(self, state: dict[str, Any]) -> None:
        """Take back a checkpoint before `start` (the source was built from its positions).
        Buffer deadlines restart now: the time the cloud was down does not count."""
        now = time.monotonic()
        with self._lock:
            self._pending = list(state.get("pending", []))
            self._pending_size = sum(r.size() for r in self._pending)
            self._pending_since = now if self._pending else None
            for key, buffer in state.get("buffers", []):
                self._buffers[key] = buffer
                self._buffer_opened[key] = now
            for output_type, buffer in state.get("errors", []):
                self._errors[output_type] = buffer
                self._error_opened[output_type] = now
            # What was read but not in S3 holds the checkpoint again (committed_positions), so a
            # crash after the restore re-reads it instead of skipping it.
            for record in self._pending:
                self._held[id(record)] = record
            for _key, buffer in [*state.get("buffers", []), *state.get("errors", [])]:
                for record in buffer.holds:
                    self._held[id(record)] = record
            self.metrics.totals.update(state.get("totals", {}))

    # -- the loop -------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                target = self._flush_requested
            forced = target > self._flush_done
            try:
                with self._cycle_lock:
                    self._cycle(forced)
            except _Stopped:
                return
            except InjectedCrash as exc:  # the services restart the stream from committed_positions()
                log.warning("delivery stream %s: %s", self.config.name, exc)
                if self.services.restart is not None:  # before waiters wake: they look for the successor
                    self.services.restart(self)
                with self._wake:
                    self.crashed = True
                    self.failure = f"crashed: {exc}"
                    self._wake.notify_all()
                return
            except Exception as exc:  # an engine bug must be loud, not a silent stall
                log.exception("delivery stream %s: engine failed", self.config.name)
                with self._wake:
                    self.failure = f"{type(exc).__name__}: {exc}"
                    self._wake.notify_all()
                return
            with self._wake:
                if forced:
                    self._flush_done = target
                    self._wake.notify_all()
                    continue
                if self._stopping or self._flush_requested > self._flush_done:
                    continue
                self._wake.wait(self._next_wait())

    def _buffer_wait(self, seconds: float) -> float:
        """A buffer interval as the cloud runs it (scaled, or as configured: LocalCloud.buffer_wait)."""
        return (self.services.buffer_wait or self.services.scaled)(seconds)

    def _next_wait(self) -> float:
        poll = max(0.01, self.services.scaled(POLL_SECONDS))
        now = time.monotonic()
        deadlines = [now + poll]
        if self._pending_since is not None and self.config.lambda_processor:
            deadlines.append(self._pending_since + self._buffer_wait(self.config.lambda_processor.buffer_seconds))
        for opened in list(self._buffer_opened.values()) + list(self._error_opened.values()):
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
                self.busy_seconds += time.perf_counter() - started
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
        with self._wake:
            self._ingest(records)
            self._wake.notify_all()

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
            batch = self._deaggregate(batch)
        with self._lock:
            for record in batch:
                self._held[id(record)] = record
            if self.config.lambda_processor is None:
                self._route([Outgoing(r, r.data, {}) for r in batch])
                return
            if self._pending_since is None and batch:
                self._pending_since = time.monotonic()
            self._pending.extend(batch)
            self._pending_size += sum(r.size() for r in batch)

    def _deaggregate(self, batch: list[InRecord]) -> list[InRecord]:
        """KPL de-aggregation (Kinesis sources), then the RecordDeAggregation processor."""
        from .deaggregation import RecordDeAggregator, deaggregate

        splitter = RecordDeAggregator.from_parameters(self.config.deaggregate) if self.config.deaggregate else None
        out: list[InRecord] = []
        for record in batch:
            parts = deaggregate(record.data) if self.config.source_stream_arn else [record.data]
            if splitter is not None:
                parts = [piece for part in parts for piece in splitter.split(part)]
            if len(parts) == 1:
                out.append(record if parts[0] is record.data else
                           InRecord(record.record_id, parts[0], record.arrival_ms, record.shard_id,
                                    record.partition_key, record.sequence_number, record.subsequence_number))
                continue
            for i, part in enumerate(parts):
                out.append(InRecord(f"{record.record_id}{i:06d}", part, record.arrival_ms, record.shard_id,
                                    record.partition_key, record.sequence_number, i))
        return out

    def _process(self, forced: bool) -> bool:
        """Run the Lambda processor over the pending records if its buffer is due; True if it ran."""
        processor = self.config.lambda_processor
        if processor is None:
            return False
        with self._lock:
            due = forced or self._pending_size >= processor.buffer_bytes or (
                self._pending_since is not None
                and time.monotonic() - self._pending_since >= self._buffer_wait(processor.buffer_seconds)
            )
            if not due or not self._pending:
                return False
            records, self._pending, self._pending_size, self._pending_since = self._pending, [], 0, None
        # One batch converts (in a conversion worker) while the next is in the Lambda processor;
        # batches are placed in their buffers in order, all of them before this returns.
        in_flight: _Routing | None = None
        try:
            for chunk in self._lambda.chunks(records):
                started = self._start_route(self._lambda.invoke(chunk), background=True)
                if in_flight is not None:
                    self._finish_route(in_flight)
                in_flight = started
            if in_flight is not None:
                self._finish_route(in_flight)
                in_flight = None
        finally:
            if in_flight is not None and in_flight.future is not None:
                in_flight.future.cancel()  # the engine is failing: its records stay held (checkpoint)
        return True

    def _route(self, outgoing: list[Outgoing]) -> None:
        """Dynamic partitioning and format conversion (one batch, in a conversion worker when
        the cloud has them), then into partition buffers, record by record in order."""
        self._finish_route(self._start_route(outgoing, background=False))

    def _start_route(self, outgoing: list[Outgoing], background: bool) -> "_Routing":
        """Plan the batch and start converting the records that have a place (on the engine's
        conversion thread when `background` and the cloud has conversion workers)."""
        from .coercion import ConversionError
        from .schema_source import SchemaUnavailable

        routed = _Routing(routing.plan(outgoing, self.config, self._extractor, self._prefix.partition_key_names),
                          self._converter_generation)
        if self.config.conversion is None:
            return routed
        placed = [p for p in routed.planned if p.failure is None]
        if not placed:
            return routed
        # Records go to the worker with the group of their partition keys: it returns one piece of
        # rows per group, which becomes one buffer's (see _finish_route).
        for p in placed:
            p.group = routed.groups.setdefault(p.partition_key(), len(routed.groups))
        records, groups = [p.data for p in placed], [p.group for p in placed]
        try:
            routed.converter, routed.generation = self._current_converter()
            routed.converter.check()
        except (ConversionError, SchemaUnavailable) as exc:
            routed.unavailable = exc
            return routed
        if background and self.services.convert_batch is not None:
            routed.future = self._conversion_thread().submit(self._convert, routed.converter, records, groups)
        else:
            routed.converted = self._convert(routed.converter, records, groups)
        return routed

    def _convert(self, converter: Any, records: list[bytes], groups: list[int]) -> Any:
        convert = self.services.convert_batch or batch_conversion.convert_records
        started = time.perf_counter()
        converted = convert(converter, records, groups)
        self.conversion_seconds += time.perf_counter() - started
        self.conversion_cpu_seconds += converted.cpu_seconds
        return converted

    def _conversion_thread(self) -> ThreadPoolExecutor:
        if self._converting is None:
            self._converting = ThreadPoolExecutor(1, thread_name_prefix=f"firehose-{self.config.name}-conversion")
        return self._converting

    def _finish_route(self, batch: "_Routing") -> None:
        """Place a planned batch, record by record in order: failures as error records, the
        rest (with their converted rows) in their partition buffers."""
        planned, converter, generation, unavailable = batch.planned, batch.converter, batch.generation, batch.unavailable
        converted = batch.future.result() if batch.future is not None else batch.converted
        outcomes = iter(converted.outcomes) if converted is not None else None
        # A group's rows all go to one buffer: within a batch a partition either has (or gets) a
        # buffer for every record of its group, or is over the active partition limit for all of
        # them (buffers are only delivered between batches).
        group_buffers: dict[int, Buffer] = {}
        for routed in planned:
            item = routed.item
            if routed.failure is not None:
                self._fail(item.source, *routed.failure, 1)
                continue
            outcome = next(outcomes) if outcomes is not None else None
            bucket_key = (routed.partition_key(), generation)
            data = routed.data
            with self._lock:
                if bucket_key not in self._buffers and len(self._buffers) >= self.config.active_partition_limit:
                    self.metrics.add("PartitionCountExceeded", 1)
                    self._fail(item.source, "partitioning-failed", "DynamicPartitioning.ActivePartitionsLimitExceeded",
                               f"activePartitionExceeded: more than {self.config.active_partition_limit} active partitions.", 1)
                    continue
            if self.config.conversion is not None:
                if unavailable is not None or type(outcome) is not int:
                    code, message = ((unavailable.code, unavailable.message) if unavailable is not None  # type: ignore[attr-defined]
                                     else outcome)
                    self.metrics.add("FailedConversion.Records", 1)
                    self.metrics.add("FailedConversion.Bytes", len(data))
                    self._fail(item.source, "format-conversion-failed", code, message, 1)
                    continue
                self.metrics.add("SucceedConversion.Records", 1)
                self.metrics.add("SucceedConversion.Bytes", len(data))
            with self._lock:
                buffer = self._buffers.get(bucket_key)
                if buffer is None:
                    buffer = self._buffers[bucket_key] = Buffer(routed.keys, converter=converter)
                    self._buffer_opened[bucket_key] = time.monotonic()
                    self.metrics.add("PartitionCount", len(self._buffers))
                if converted is None:
                    buffer.add(data, len(data), item.source.arrival_ms)
                else:
                    buffer.count_rows(outcome, len(data) // max(1, outcome), item.source.arrival_ms)
                    group_buffers[routed.group] = buffer
                buffer.holds.append(item.source)
        if group_buffers:
            with self._lock:
                for group, buffer in group_buffers.items():
                    piece = converted.pieces.get(group)
                    if piece is not None:  # None: its records made no rows
                        buffer.rows.append(piece)

    def _current_converter(self) -> tuple[Any, int]:
        """The converter of the table's schema and its generation, re-read at most every
        SCHEMA_REFRESH_SECONDS; a new converter (and generation) only when the columns changed."""
        now = time.monotonic()
        converter, generation = self._converter, self._converter_generation
        if converter is not None and now - self._converter_read_at < SCHEMA_REFRESH_SECONDS:
            return converter, generation
        with self._lock:
            if self._converter is None or now - self._converter_read_at >= SCHEMA_REFRESH_SECONDS:
                fresh = self.services.converter_for(self.config)
                self._converter_read_at = now
                if self._converter is None or _schema_of(fresh) != _schema_of(self._converter):
                    self._converter = fresh
                    self._converter_generation += 1
            return self._converter, self._converter_generation

    def _fail(self, record: InRecord, output_type: str, code: str, message: str, attempts: int,
              lambda_arn: str | None = None) -> None:
        now = _now_ms()
        line = error_records.error_record(
            output_type=output_type,
            raw_data=record.data,
            error_code=code,
            error_message=message,
            attempts_made=attempts,
            arrival_ms=record.arrival_ms,
            attempt_ending_ms=now,
            lambda_arn=lambda_arn,
            config=self.config,
            sequence_number=record.sequence_number,
            subsequence_number=record.subsequence_number if record.sequence_number else None,
        )
        with self._lock:
            buffer = self._errors.get(output_type)
            if buffer is None:
                buffer = self._errors[output_type] = Buffer({})
                self._error_opened[output_type] = time.monotonic()
            buffer.add(line, len(line), record.arrival_ms)
            buffer.holds.append(record)

    # -- what is held, and the checkpoint below it ------------------------------------------------
    def _release(self, records) -> None:
        """`records` are in S3 (or were dropped, or lost): they no longer hold the checkpoint."""
        with self._lock:
            for record in records:
                self._held.pop(id(record), None)

    def committed_positions(self) -> dict[str, str]:
        """Per shard, the sequence number after which a new reader loses nothing: the source's
        position, or just before the oldest record still held (sequence numbers are integers)."""
        with self._lock:
            positions = dict(getattr(self.source, "positions", {}))
            for record in self._held.values():
                if record.shard_id is None or record.sequence_number is None:
                    continue
                before = int(record.sequence_number) - 1
                current = positions.get(record.shard_id)
                if current is None or before < int(current):
                    positions[record.shard_id] = str(before)
            return positions

    def held_records(self) -> list[InRecord]:
        """What was accepted but is not in S3 yet (a Direct PUT successor ingests it again)."""
        with self._lock:
            return list(self._held.values())

    def _put(self, key: str, body: bytes, retry_seconds: float | None) -> tuple[int, tuple[str, str] | None]:
        """PutObject, retried every 5 s (scaled) until it succeeds or `retry_seconds` (scaled;
        None: Firehose's 24 hours) have passed; (attempts, None) or (attempts, (code, message))."""
        from .config import S3_MAX_RETRY_SECONDS

        limit = self.services.scaled(S3_MAX_RETRY_SECONDS if retry_seconds is None else retry_seconds)
        started = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                self.services.put_object(self.config.bucket, key, body)
                return attempts, None
            except Exception as exc:  # any S3 error: retried as Firehose does
                code = f"S3.{getattr(exc, 'error_type', None) or type(exc).__name__}"
                message = getattr(exc, "message", None) or str(exc)
                self.s3_failures += 1
                self.services.log_event(self.config, f"{code}: {message}")
            if time.monotonic() - started >= limit:
                return attempts, (code, message)
            deadline = time.monotonic() + self.services.scaled(S3_RETRY_INTERVAL_SECONDS)
            with self._wake:
                while not self._stopping and time.monotonic() < deadline:
                    self._wake.wait(deadline - time.monotonic())
                if self._stopping:
                    raise _Stopped()

    def _due(self, buffer: Buffer, opened: float, forced: bool) -> bool:
        return forced or buffer.size >= self.config.buffer_bytes or (
            time.monotonic() - opened >= self._buffer_wait(self.config.buffer_seconds)
        )

    def _deliver(self, forced: bool) -> bool:
        """Write the buffers that are due; True if any was."""
        with self._lock:
            due = [k for k, b in self._buffers.items() if self._due(b, self._buffer_opened[k], forced)]
            taken = [(self._buffers.pop(k), self._buffer_opened.pop(k)) for k in due]
            due_errors = [t for t, b in self._errors.items() if self._due(b, self._error_opened[t], forced)]
            taken_errors = [(t, self._errors.pop(t)) for t in due_errors]
            for t in due_errors:
                self._error_opened.pop(t)
        for buffer, _opened in taken:
            self._write_data(buffer)
        for output_type, buffer in taken_errors:
            self._write_errors(output_type, buffer)
        if forced and taken and self._errors:  # records whose S3 retries ran out: in this flush too
            self._deliver(forced)
        return bool(taken or taken_errors)

    def _write_data(self, buffer: Buffer) -> None:
        arrival = _dt(buffer.oldest_arrival_ms or _now_ms())
        prefix = self._prefix.evaluate(arrival=arrival, partition_keys=buffer.partition_keys)
        if self.config.conversion is not None:
            converter = buffer.converter or self._current_converter()[0]
            if buffer.rows and isinstance(buffer.rows[0], dict):  # row dicts (a state saved by an older version)
                body = converter.to_parquet(buffer.rows)
            else:
                write = self.services.write_parquet or batch_conversion.write_parquet
                started = time.perf_counter()
                body = write(converter, buffer.rows)
                self.parquet_seconds += time.perf_counter() - started
            extension = self.config.file_extension if self.config.file_extension is not None else naming.default_extension(self.config.compression, parquet=True)
        else:
            body = b"".join(buffer.rows)
            if self.config.compression == "GZIP":
                body = gzip.compress(body)
            extension = self.config.file_extension if self.config.file_extension is not None else naming.default_extension(self.config.compression, parquet=False)
        key = naming.object_key(prefix, self.config.name, self.config.version, arrival, extension)
        if self.services.crash_point():
            raise InjectedCrash(f"injected crash before writing s3://{self.config.bucket}/{key}")
        attempts, failed = self._put(key, body, self.config.s3_retry_seconds)
        if failed is not None:
            self.metrics.add("DeliveryToS3.Success", 0)
            if self.config.s3_retry_seconds is None:  # 24 hours of failures: Firehose drops the data
                log.error("delivery stream %s: %d record(s) lost after the S3 retry period: %s",
                          self.config.name, len(buffer.holds), failed[1])
                self.lost_records += len(buffer.holds)
                self._release(buffer.holds)
            else:  # the retry duration ended: the records go to the error prefix, still held
                for record in buffer.holds:
                    self._fail(record, error_records.S3_DELIVERY_FAILED, failed[0], failed[1], attempts)
            return
        self._release(buffer.holds)
        self.metrics.add("DeliveryToS3.Records", buffer.count)
        self.metrics.add("DeliveryToS3.Bytes", len(body))
        self.metrics.add("DeliveryToS3.ObjectCount", 1)
        self.metrics.add("DeliveryToS3.Success", 1)
        self.metrics.add("DeliveryToS3.DataFreshness", max(0, _now_ms() - (buffer.oldest_arrival_ms or _now_ms())) / 1000)

    def _write_errors(self, output_type: str, buffer: Buffer) -> None:
        arrival = _dt(buffer.oldest_arrival_ms or _now_ms())
        prefix = error_records.evaluate_error_prefix(self._error_prefix, self.config, output_type, arrival)
        key = naming.object_key(prefix, self.config.name, self.config.version, arrival, "")
        body = b"".join(buffer.rows)
        if self.services.crash_point():
            raise InjectedCrash(f"injected crash before writing s3://{self.config.bucket}/{key}")
        # Error output that cannot be written pauses the stream until it can (developer guide).
        _attempts, failed = self._put(key, body, None)
        if failed is not None:
            self.lost_records += len(buffer.holds)
        self._release(buffer.holds)
        if failed is not None:
            return
        # Error output is delivered to S3 too; the Step Functions monitor counts it as delivered.
        self.metrics.add("DeliveryToS3.Records", buffer.count)
        self.metrics.add("DeliveryToS3.Bytes", len(body))
        self.metrics.add("DeliveryToS3.ObjectCount", 1)
