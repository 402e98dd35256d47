"""The record format converter of a stream's Glue table, re-read as the table changes.

VersionId LATEST: "any updates to the table are automatically picked up" (API reference). The
table is re-read at most every SCHEMA_REFRESH_SECONDS; a changed schema gets a new generation,
which is part of the engine's buffer key, so one object has one schema."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from .config import StreamConfig

__all__ = ["ConverterCache", "SCHEMA_REFRESH_SECONDS"]

SCHEMA_REFRESH_SECONDS = 1.0


def _schema_of(converter: Any) -> tuple:
    return tuple(converter.column_names), tuple(str(t) for t in converter.column_types)


class ConverterCache:
    def __init__(self, config: StreamConfig, converter_for: Callable[[StreamConfig], Any], lock: threading.RLock):
        self._config = config
        self._converter_for = converter_for
        self._lock = lock  # the engine's
        self.converter: Any = None  # built on first use: the Glue table may come later
        self.read_at = 0.0
        self.generation = 0

    def current(self) -> tuple[Any, int]:
        """The converter of the table's schema and its generation; a new converter (and
        generation) only when the columns changed."""
        now = time.monotonic()
        converter, generation = self.converter, self.generation
        if converter is not None and now - self.read_at < SCHEMA_REFRESH_SECONDS:
            return converter, generation
        with self._lock:
            if self.converter is None or now - self.read_at >= SCHEMA_REFRESH_SECONDS:
                fresh = self._converter_for(self._config)
                self.read_at = now
                if self.converter is None or _schema_of(fresh) != _schema_of(self.converter):
                    self.converter = fresh
                    self.generation += 1
            return self.converter, self.generation
