"""Writing a delivery engine's buffers to S3: one object per buffer (Parquet or raw, compressed,
named as Firehose names them), PutObject retried every 5 s (scaled) as the developer guide
describes: with dynamic partitioning for the stream's RetryOptions duration, after which the
records go to the error prefix (`s3-delivery-failed`); otherwise for up to 24 hours, after which
they are lost (counted). A buffer's records are released (no longer hold the source checkpoint)
once its object is in S3, or lost."""
from __future__ import annotations

import gzip
import logging
import time
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from ..faults import InjectedCrash
from . import batch_conversion, error_records, naming
from .config import StreamConfig
from .engine_status import EngineCounters
from .metrics import StreamMetrics
from .records import Buffer, InRecord, Services

__all__ = ["S3Delivery", "S3_RETRY_INTERVAL_SECONDS"]

log = logging.getLogger("pipeline_lib.localcloud.firehose")

# Pause between attempts of a failed S3 delivery (scaled).
S3_RETRY_INTERVAL_SECONDS = 5.0
# Arrow bytes of the buffers whose Parquet is made in one request: a large flush is not held
# twice in memory (pieces and bodies) all at once.
PARQUET_REQUEST_BYTES = 32 * 2**20


def _now_ms() -> int:
    return int(time.time() * 1000)


def _groups(buffers: list[Buffer], limit: int) -> list[list[Buffer]]:
    """Consecutive runs of `buffers` whose rows hold at most `limit` bytes (or a single buffer)."""
    groups: list[list[Buffer]] = []
    size = 0
    for buffer in buffers:
        weight = sum(len(r) for r in buffer.rows if isinstance(r, (bytes, bytearray)))
        if not groups or size + weight > limit:
            groups.append([])
            size = 0
        groups[-1].append(buffer)
        size += weight
    return groups


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


class S3Delivery:
    """Writes one stream's buffers. `fail(record, output_type, code, message, attempts)` makes an
    error record; `release(records)` lets records go; `pause(seconds)` waits between attempts and
    raises loop_control.DeliveryStopped when the engine stops; `converter()` is the table's current converter."""

    def __init__(self, config: StreamConfig, services: Services, metrics: StreamMetrics,
                 counters: EngineCounters, prefix: Any, error_prefix: Any, *,
                 fail: Callable[..., None], release: Callable[[Iterable[InRecord]], None],
                 pause: Callable[[float], None], converter: Callable[[], Any]):
        self.config = config
        self.services = services
        self.metrics = metrics
        self.counters = counters
        self._prefix = prefix
        self._error_prefix = error_prefix
        self._fail = fail
        self._release = release
        self._pause = pause
        self._converter = converter

    def put(self, key: str, body: bytes, retry_seconds: float | None) -> tuple[int, tuple[str, str] | None]:
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
                self.counters.s3_failures += 1
                self.services.log_event(self.config, f"{code}: {message}")
            if time.monotonic() - started >= limit:
                return attempts, (code, message)
            self._pause(self.services.scaled(S3_RETRY_INTERVAL_SECONDS))

    def write_data_all(self, buffers: list[Buffer]) -> None:
        """Write `buffers` in order. Their Parquet bodies are made a group at a time: with
        conversion workers, one round trip for a group instead of one per object (a scaled flush
        delivers a buffer per partition at once, each a small object)."""
        config = self.config
        extension = config.file_extension if config.file_extension is not None else naming.default_extension(
            config.compression, parquet=config.conversion is not None)
        for group in _groups(buffers, PARQUET_REQUEST_BYTES):
            for buffer, body in zip(group, self._bodies(group), strict=True):
                self._write_data(buffer, body, extension)

    def _write_data(self, buffer: Buffer, body: bytes, extension: str) -> None:
        arrival = _dt(buffer.oldest_arrival_ms or _now_ms())
        prefix = self._prefix.evaluate(arrival=arrival, partition_keys=buffer.partition_keys)
        key = naming.object_key(prefix, self.config.name, self.config.version, arrival, extension)
        self._crash_point(key)
        attempts, failed = self.put(key, body, self.config.s3_retry_seconds)
        if failed is not None:
            self._data_failed(buffer, attempts, failed)
            return
        self._release(buffer.holds)
        self._count_delivered(buffer, body)
        self.metrics.add("DeliveryToS3.Success", 1)
        self.metrics.add("DeliveryToS3.DataFreshness", max(0, _now_ms() - (buffer.oldest_arrival_ms or _now_ms())) / 1000)

    def write_errors(self, output_type: str, buffer: Buffer) -> None:
        arrival = _dt(buffer.oldest_arrival_ms or _now_ms())
        prefix = error_records.evaluate_error_prefix(self._error_prefix, self.config, output_type, arrival)
        key = naming.object_key(prefix, self.config.name, self.config.version, arrival, "")
        body = b"".join(buffer.rows)
        self._crash_point(key)
        # Error output that cannot be written pauses the stream until it can (developer guide).
        _attempts, failed = self.put(key, body, None)
        if failed is not None:
            self.counters.lost_records += len(buffer.holds)
        self._release(buffer.holds)
        if failed is not None:
            return
        # Error output is delivered to S3 too; the Step Functions monitor counts it as delivered.
        self._count_delivered(buffer, body)

    def _bodies(self, buffers: list[Buffer]) -> list[bytes]:
        """Each buffer's object bytes."""
        config = self.config
        if config.conversion is None:
            joined = [b"".join(buffer.rows) for buffer in buffers]
            return [gzip.compress(body) for body in joined] if config.compression == "GZIP" else joined
        bodies: list[bytes | None] = [None] * len(buffers)
        by_converter: dict[int, tuple[Any, list[int]]] = {}  # buffers of pieces, per converter
        for i, buffer in enumerate(buffers):
            converter = buffer.converter or self._converter()
            if buffer.rows and isinstance(buffer.rows[0], dict):  # row dicts (a state saved by an older version)
                bodies[i] = converter.to_parquet(buffer.rows)
            else:
                by_converter.setdefault(id(converter), (converter, []))[1].append(i)
        started = time.perf_counter()
        for converter, indexes in by_converter.values():
            pieces = [buffers[i].rows for i in indexes]
            if self.services.write_parquets is not None:
                made = self.services.write_parquets(converter, pieces)
            else:
                write = self.services.write_parquet or batch_conversion.write_parquet
                made = [write(converter, p) for p in pieces]
            for i, body in zip(indexes, made, strict=True):
                bodies[i] = body
        if by_converter:
            self.counters.parquet_seconds += time.perf_counter() - started
        return bodies  # type: ignore[return-value]

    def _crash_point(self, key: str) -> None:
        if self.services.crash_point():
            raise InjectedCrash(f"injected crash before writing s3://{self.config.bucket}/{key}")

    def _data_failed(self, buffer: Buffer, attempts: int, failed: tuple[str, str]) -> None:
        self.metrics.add("DeliveryToS3.Success", 0)
        if self.config.s3_retry_seconds is None:  # 24 hours of failures: Firehose drops the data
            log.error("delivery stream %s: %d record(s) lost after the S3 retry period: %s",
                      self.config.name, len(buffer.holds), failed[1])
            self.counters.lost_records += len(buffer.holds)
            self._release(buffer.holds)
        else:  # the retry duration ended: the records go to the error prefix, still held
            for record in buffer.holds:
                self._fail(record, error_records.S3_DELIVERY_FAILED, failed[0], failed[1], attempts)

    def _count_delivered(self, buffer: Buffer, body: bytes) -> None:
        self.metrics.add("DeliveryToS3.Records", buffer.count)
        self.metrics.add("DeliveryToS3.Bytes", len(body))
        self.metrics.add("DeliveryToS3.ObjectCount", 1)
