"""What flows through a delivery engine (records, processed records, buffers) and what the engine
is given by the cloud (`Source`, `Services`), so stages and tests share one vocabulary."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Sequence

from .config import StreamConfig


@dataclass
class InRecord:
    """A record as it entered the stream, plus its Kinesis metadata when it came from a stream."""

    record_id: str
    data: bytes
    arrival_ms: int
    shard_id: str | None = None
    partition_key: str | None = None
    sequence_number: str | None = None
    subsequence_number: int = 0

    def size(self) -> int:
        return len(self.data)


@dataclass
class Outgoing:
    """A record after processing, on its way to a partition buffer."""

    source: InRecord
    data: bytes
    partition_keys: dict[str, str]


@dataclass
class Buffer:
    """What one S3 object will hold."""

    partition_keys: dict[str, str]
    # Without conversion, raw bytes; with it, pieces of converted rows (Arrow IPC streams,
    # batch_conversion.py).
    rows: list[Any] = field(default_factory=list)
    size: int = 0
    count: int = 0
    oldest_arrival_ms: int | None = None
    # The records this object delivers (each once, however many rows it made): they stay held,
    # and their source checkpoint does not move past them, until the object is in S3.
    holds: list[InRecord] = field(default_factory=list)
    converter: Any = None  # the converter of the schema its rows were converted with (None: raw)

    def add(self, row: Any, size: int, arrival_ms: int) -> None:
        self.rows.append(row)
        self.count_rows(1, size, arrival_ms)

    def count_rows(self, n: int, size: int, arrival_ms: int) -> None:
        """`n` rows of `size` bytes each arrived (their data is added as a table: `rows`)."""
        self.size += size * n
        self.count += n
        if self.oldest_arrival_ms is None or arrival_ms < self.oldest_arrival_ms:
            self.oldest_arrival_ms = arrival_ms


class Source(Protocol):
    def poll(self, limit: int) -> list[InRecord]: ...

    def lag_ms(self) -> int: ...


class LambdaInvoker(Protocol):
    def __call__(self, function_arn: str, payload: bytes) -> tuple[bytes, str | None]:
        """Invoke synchronously; return (payload, function_error or None)."""


@dataclass
class Services:
    """What the engine needs from the rest of the cloud, passed in so it can be tested alone."""

    put_object: Callable[[str, str, bytes], None]
    invoke_lambda: LambdaInvoker
    converter_for: Callable[[StreamConfig], Any]  # -> conversion.Converter
    publish_metrics: Callable[[str, list[dict[str, Any]]], None]
    log_event: Callable[[StreamConfig, str], None]
    scaled: Callable[[float], float]
    region: str
    # Fault injection: whether the engine crashes before writing an object (see s3_delivery.py).
    crash_point: Callable[[], bool] = lambda: False
    # Starts the successor of an engine that crashed (the Firehose extension), or None.
    restart: Callable[[Any], None] | None = None
    buffer_wait: Callable[[float], float] | None = None  # buffer intervals; None: `scaled`
    # The conversion workers' `convert` ((converter, [record bytes], [group]) -> ConvertedBatch)
    # and `write_parquet` ((converter, [piece]) -> bytes); None: batch_conversion's, in process.
    convert_batch: Callable[[Any, Sequence[bytes], Sequence[int]], Any] | None = None
    write_parquet: Callable[[Any, Sequence[bytes]], bytes] | None = None
    # Several buffers' Parquet in one call ((converter, [[piece]]) -> [bytes]): the buffers due
    # at once cost one round trip to a conversion worker, not one each. None: `write_parquet` each.
    write_parquets: Callable[[Any, Sequence[Sequence[bytes]]], list[bytes]] | None = None
