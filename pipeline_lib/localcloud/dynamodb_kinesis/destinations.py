"""Kinesis streaming destinations of DynamoDB tables, with AWS's state machine (no moto here).

Observed AWS behaviour reproduced (statuses settle after a delay, here scaled by the cloud):
- Enable answers ENABLING; after a few seconds the destination is ACTIVE, or ENABLE_FAILED with
  "User does not have a permission to use kinesis stream" when the stream does not exist in the
  table's account and region (AWS does not check the stream synchronously).
- A table has at most one live destination (ENABLING, ACTIVE, UPDATING, DISABLING); any number of
  DISABLED / ENABLE_FAILED entries linger, newest first. Enabling an ARN that has such an entry
  flips it instead of adding another.
- Disable needs an ACTIVE destination (DISABLING, then DISABLED); Update needs ACTIVE and a new
  precision (UPDATING, then ACTIVE). Every refusal is a ValidationException, never "not found".
- The precision is absent until set (MILLISECOND applies); a re-Enable without one resets it.
Transitions are evaluated when the state is read, so no timer thread is needed.
"""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

from .models import MILLISECOND, PRECISIONS

ENABLING, ACTIVE, DISABLING, DISABLED, ENABLE_FAILED, UPDATING = (
    "ENABLING", "ACTIVE", "DISABLING", "DISABLED", "ENABLE_FAILED", "UPDATING",
)
LIVE = (ENABLING, ACTIVE, UPDATING, DISABLING)
STREAMING = (ACTIVE, UPDATING)  # changes flow while the precision is being updated too
STREAM_MISSING = "User does not have a permission to use kinesis stream"
_NOT_VALID = "Table is not in a valid state to enable Kinesis Streaming Destination: "


class DestinationError(Exception):
    """A request AWS refuses; `code` is the DynamoDB error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class TableKey(NamedTuple):
    account_id: str
    region: str
    name: str


@dataclass(frozen=True)
class Timings:
    """How long the transitional statuses last (AWS: ENABLING 2-7 s, DISABLING ~2 s, UPDATING ~2 min)."""

    enabling: float
    disabling: float
    updating: float

    @classmethod
    def scaled(cls, scale: Callable[[float], float]) -> Timings:
        return cls(enabling=scale(5.0), disabling=scale(2.0), updating=scale(130.0))


@dataclass(frozen=True)
class Destination:
    stream_arn: str
    status: str
    precision: str | None = None  # None: never set (MILLISECOND applies)
    description: str | None = None
    settles_at: float | None = None  # monotonic time the transitional status ends

    @property
    def effective_precision(self) -> str:
        return self.precision or MILLISECOND

    def describe(self) -> dict[str, str]:
        out = {"StreamArn": self.stream_arn, "DestinationStatus": self.status}
        if self.description:
            out["DestinationStatusDescription"] = self.description
        if self.precision:
            out["ApproximateCreationDateTimePrecision"] = self.precision
        return out


def check_precision(value: str | None, where: str) -> None:
    if value is not None and value not in PRECISIONS:
        raise DestinationError(
            "ValidationException",
            f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(sorted(PRECISIONS))}]",
        )


def check_stream_arn(stream_arn: str | None) -> None:
    if not stream_arn or len(stream_arn) < 37:
        raise DestinationError(
            "ValidationException",
            f"1 validation error detected: Value '{stream_arn}' at 'streamArn' failed to satisfy constraint: "
            "Member must have length greater than or equal to 37",
        )
    if len(stream_arn) > 1024:
        raise DestinationError(
            "ValidationException",
            "1 validation error detected: Value at 'streamArn' failed to satisfy constraint: "
            "Member must have length less than or equal to 1024",
        )


class DestinationRegistry:
    """All tables' destinations; thread-safe. `usable(table, stream_arn)` decides ENABLING's
    outcome (the stream exists, in the table's account and region)."""

    def __init__(self, timings: Timings, usable: Callable[[TableKey, str], bool],
                 clock: Callable[[], float] = time.monotonic):
        self._timings = timings
        self._usable = usable
        self._clock = clock
        self._lock = threading.Lock()
        self._tables: dict[TableKey, list[Destination]] = {}  # newest first

    # -- hot path (every item write) --------------------------------------------------------------
    def streaming(self, table: TableKey) -> tuple[str, str] | None:
        """(stream ARN, precision) when the table's changes go to a stream now, else None."""
        entries = self._tables.get(table)
        if not entries:
            return None
        with self._lock:
            live = self._live(table)
            if live is not None and live.status in STREAMING:
                return live.stream_arn, live.effective_precision
        return None

    # -- saved state --------------------------------------------------------------------------------
    def export(self) -> dict[TableKey, list[Destination]]:
        """Every table's destinations, transitions settled as of now (a monotonic deadline means
        nothing in another process: what would have settled by then has, once loaded)."""
        with self._lock:
            for table in list(self._tables):
                self._live(table)
            return {table: list(entries) for table, entries in self._tables.items()}

    def import_(self, tables: dict[TableKey, list[Destination]]) -> None:
        now = self._clock()
        with self._lock:
            self._tables = {
                table: [replace(d, settles_at=now) if d.settles_at is not None else d for d in entries]
                for table, entries in tables.items()
            }

    # -- API ----------------------------------------------------------------------------------------
    def enable(self, table: TableKey, stream_arn: str, precision: str | None = None,
               immediate: bool = False) -> Destination:
        check_stream_arn(stream_arn)
        check_precision(precision, "enableKinesisStreamingConfiguration.approximateCreationDateTimePrecision")
        with self._lock:
            if self._live(table) is not None:
                raise DestinationError(
                    "ValidationException",
                    _NOT_VALID + "EnableKinesisStreamingDestination must be DISABLED or ENABLE_FAILED to perform "
                    "ENABLE operation.",
                )
            if immediate:  # CloudFormation waits for ACTIVE before it completes the resource
                status, settles = (ACTIVE, None) if self._usable(table, stream_arn) else (ENABLE_FAILED, None)
            else:
                status, settles = ENABLING, self._clock() + self._timings.enabling
            entry = Destination(stream_arn, status, precision,
                                STREAM_MISSING if status == ENABLE_FAILED else None, settles)
            others = [d for d in self._tables.get(table, []) if d.stream_arn != stream_arn]
            self._tables[table] = [entry, *others]
            return entry

    def disable(self, table: TableKey, stream_arn: str, immediate: bool = False) -> Destination:
        check_stream_arn(stream_arn)
        with self._lock:
            live = self._live(table)
            if live is None or live.stream_arn != stream_arn or live.status != ACTIVE:
                raise DestinationError(
                    "ValidationException",
                    _NOT_VALID + "KinesisStreamingDestination must be ACTIVE to perform DISABLE operation.",
                )
            if immediate:
                changed = replace(live, status=DISABLED, settles_at=None)
            else:
                changed = replace(live, status=DISABLING, settles_at=self._clock() + self._timings.disabling)
            self._put(table, changed)
            return changed

    def update(self, table: TableKey, stream_arn: str, precision: str | None, table_id: str,
               immediate: bool = False) -> Destination:
        check_stream_arn(stream_arn)
        if precision is None:
            raise DestinationError(
                "ValidationException",
                "Streaming destination cannot be updated with given parameters: "
                "UpdateKinesisStreamingConfiguration cannot be null or contain only null values",
            )
        check_precision(precision, "updateKinesisStreamingConfiguration.approximateCreationDateTimePrecision")
        with self._lock:
            live = self._live(table)
            if live is None or live.stream_arn != stream_arn or live.status != ACTIVE:
                raise DestinationError(
                    "ValidationException",
                    _NOT_VALID + "Kinesis streaming is not in ACTIVE state. Updates are only allowed in ACTIVE "
                    f"state. TableName: {table.name}",
                )
            if live.effective_precision == precision:
                raise DestinationError(
                    "ValidationException",
                    f"Invalid Request: Precision is already set to the desired value of {precision} for "
                    f"tableId: {table_id}, kdsArn: {stream_arn}",
                )
            if immediate:
                changed = replace(live, precision=precision)
            else:
                changed = replace(live, precision=precision, status=UPDATING,
                                  settles_at=self._clock() + self._timings.updating)
            self._put(table, changed)
            return changed

    def live(self, table: TableKey) -> Destination | None:
        """The table's one live destination (ENABLING, ACTIVE, UPDATING or DISABLING), if any."""
        with self._lock:
            return self._live(table)

    def describe(self, table: TableKey) -> list[Destination]:
        with self._lock:
            self._live(table)  # settle first
            return list(self._tables.get(table, []))

    def drop_table(self, table: TableKey) -> None:
        """The table is gone: so are its destinations (a re-created table starts fresh)."""
        with self._lock:
            self._tables.pop(table, None)

    def all(self) -> dict[TableKey, list[Destination]]:
        with self._lock:
            for table in list(self._tables):
                self._live(table)
            return {table: list(entries) for table, entries in self._tables.items()}

    # -- internals (caller holds the lock) ---------------------------------------------------------
    def _live(self, table: TableKey) -> Destination | None:
        """The table's live destination after applying any transition that is due."""
        for entry in self._tables.get(table, []):
            if entry.status not in LIVE:
                continue
            if entry.settles_at is not None and self._clock() >= entry.settles_at:
                entry = self._settle(table, entry)
                self._put(table, entry)
            return entry if entry.status in LIVE else None
        return None

    def _settle(self, table: TableKey, entry: Destination) -> Destination:
        if entry.status == ENABLING:
            if self._usable(table, entry.stream_arn):
                return replace(entry, status=ACTIVE, settles_at=None)
            return replace(entry, status=ENABLE_FAILED, description=STREAM_MISSING, settles_at=None)
        if entry.status == DISABLING:
            return replace(entry, status=DISABLED, settles_at=None)
        if entry.status == UPDATING:
            return replace(entry, status=ACTIVE, settles_at=None)
        return entry

    def _put(self, table: TableKey, changed: Destination) -> None:
        entries = self._tables.get(table, [])
        self._tables[table] = [changed if d.stream_arn == changed.stream_arn else d for d in entries]


def table_id(table_arn: str, created: str) -> str:
    """A stable id for a table incarnation (AWS shows one in some messages)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{table_arn}#{created}"))
