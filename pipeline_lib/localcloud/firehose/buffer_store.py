"""The records a delivery engine holds in memory, by what they wait for: the Lambda processor's
buffer (`ProcessorBuffer`) and the S3 buffers (`BufferStore`: one per partition and schema
generation, one per error output type), each with the time it opened. Neither locks: the engine
calls them under its own lock."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace
from typing import Any, Callable, Iterator

from .records import Buffer, InRecord

__all__ = ["BufferStore", "ProcessorBuffer"]


class ProcessorBuffer:
    """Records waiting for the Lambda processor, buffered by its hints."""

    def __init__(self) -> None:
        self.records: list[InRecord] = []
        self.size = 0
        self.since: float | None = None  # when its oldest record arrived (monotonic)

    def add(self, batch: list[InRecord], now: float) -> None:
        if self.since is None and batch:
            self.since = now
        self.records.extend(batch)
        self.size += sum(r.size() for r in batch)

    def due(self, forced: bool, buffer_bytes: int, wait: float, now: float) -> bool:
        return forced or self.size >= buffer_bytes or (self.since is not None and now - self.since >= wait)

    def take(self) -> list[InRecord]:
        records, self.records, self.size, self.since = self.records, [], 0, None
        return records

    def restore(self, records: list[InRecord], now: float) -> None:
        self.records = list(records)
        self.size = sum(r.size() for r in self.records)
        self.since = now if self.records else None


class BufferStore:
    """The open S3 buffers: data by (partition key, schema generation), error records by error
    output type (they go under the error prefix)."""

    def __init__(self) -> None:
        self.data: "OrderedDict[tuple, Buffer]" = OrderedDict()
        self.data_opened: dict[tuple, float] = {}
        self.errors: dict[str, Buffer] = {}
        self.error_opened: dict[str, float] = {}

    def open_data(self, key: tuple, partition_keys: dict[str, str], converter: Any, now: float) -> Buffer:
        buffer = self.data[key] = Buffer(partition_keys, converter=converter)
        self.data_opened[key] = now
        return buffer

    def error_buffer(self, output_type: str, now: float) -> Buffer:
        buffer = self.errors.get(output_type)
        if buffer is None:
            buffer = self.errors[output_type] = Buffer({})
            self.error_opened[output_type] = now
        return buffer

    def take_due(self, due: Callable[[Buffer, float], bool]) -> tuple[list[Buffer], list[tuple[str, Buffer]]]:
        """Remove and return the buffers `due(buffer, opened)` says are to be written."""
        keys = [k for k, b in self.data.items() if due(b, self.data_opened[k])]
        data = [self.data.pop(k) for k in keys]
        for k in keys:
            self.data_opened.pop(k)
        types = [t for t, b in self.errors.items() if due(b, self.error_opened[t])]
        errors = [(t, self.errors.pop(t)) for t in types]
        for t in types:
            self.error_opened.pop(t)
        return data, errors

    def opened_times(self) -> list[float]:
        return list(self.data_opened.values()) + list(self.error_opened.values())

    def saved(self) -> dict[str, list]:
        """The buffers, copied; data buffers without their converter (it holds the role check's
        closures, and is rebuilt from the Glue table after a load: rows converted before a schema
        change saved across a down/up are written with the table's schema at that time)."""
        return {
            "buffers": [(k, replace(b, rows=list(b.rows), converter=None)) for k, b in self.data.items()],
            "errors": [(t, replace(b, rows=list(b.rows))) for t, b in self.errors.items()],
        }

    def restore(self, buffers: list[tuple[tuple, Buffer]], errors: list[tuple[str, Buffer]], now: float) -> None:
        for key, buffer in buffers:
            self.data[key] = buffer
            self.data_opened[key] = now
        for output_type, buffer in errors:
            self.errors[output_type] = buffer
            self.error_opened[output_type] = now

    @staticmethod
    def holds_of(saved: list[tuple[Any, Buffer]]) -> Iterator[InRecord]:
        for _key, buffer in saved:
            yield from buffer.holds
