"""Per-table write locks and change capture: what the DynamoDB seams call around each mutation.

A write takes its table's lock, snapshots the old image, mutates, snapshots the new image and
enqueues the change before releasing the lock, so the queue holds each item's changes in commit
order. A TransactWriteItems holds the locks of all its tables (in a fixed order) and publishes its
changes only if it commits. Writes that fail (a ConditionExpression, validation) publish nothing.
"""
from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from copy import deepcopy
from decimal import Decimal
from typing import Any

from ..dynamodb.packed import image as packed_image
from .destinations import DestinationRegistry, TableKey
from .models import Change, Image

_IMMUTABLE = frozenset({str, int, float, bool, bytes, Decimal, type(None)})
_DynamoType: Any = None  # moto's class, imported on first use


def table_key(table: Any) -> TableKey:
    """The registry key of a moto Table (its name, account and region)."""
    return TableKey(table.account_id, table.region_name, table.name)


def key_names(table: Any) -> tuple[str, ...]:
    return (table.hash_key_attr,) + ((table.range_key_attr,) if table.range_key_attr else ())


def snapshot(item: Any) -> Image | None:
    """A moto Item as DynamoDB JSON, equal to ``item.to_json()["Attributes"]``; a copy, so later
    in-place updates do not reach it.

    A packed item (dynamodb/packed.py) gives its stored JSON. Otherwise built here rather than by
    ``to_json``: moto deep-copies every nested value (``copy.deepcopy``),
    which made the snapshot the costliest step of capturing a write. Reads moto's ``Item.attrs``
    and ``DynamoType.type``/``.value`` (tests/unit/test_ddb_kinesis_records.py checks the result
    against ``to_json`` for every attribute type).
    """
    if item is None:
        return None
    packed = packed_image(item)  # the dynamodb package's compact item: its JSON, loaded once
    if packed is not None:
        return packed
    global _DynamoType
    if _DynamoType is None:
        from moto.dynamodb.models.dynamo_type import DynamoType as _DynamoType
    attributes: Image = {}
    for name, attribute in item.attrs.items():  # as Item.to_json builds it
        inner = attribute.value
        kind = type(inner)
        if kind is dict:
            attributes[name] = {attribute.type: {k: _regular(v) for k, v in inner.items()}}
        elif kind is list:
            attributes[name] = {attribute.type: [_regular(v) if isinstance(v, _DynamoType) else v for v in inner]}
        else:
            attributes[name] = {attribute.type: inner}
    return attributes


def _regular(value: Any) -> dict[str, Any]:
    """moto's DynamoType.to_regular_json, without its deepcopy of immutable values."""
    kind, inner = value.type, value.value
    if type(inner) is dict:
        inner = {k: _regular(v) if isinstance(v, _DynamoType) else _copy(v) for k, v in inner.items()}
    elif type(inner) is list:
        inner = [_regular(v) if isinstance(v, _DynamoType) else _copy(v) for v in inner]
    elif kind == "B" and isinstance(inner, str):
        inner = base64.b64decode(inner)
    else:
        inner = _copy(inner)
    return {kind: inner}


def _copy(value: Any) -> Any:
    return value if type(value) in _IMMUTABLE else deepcopy(value)


class ChangeCapture:
    def __init__(self, registry: DestinationRegistry, publish: Callable[[Sequence[Change]], None],
                 clock_ns: Callable[[], int] = time.time_ns):
        self.registry = registry
        self._publish = publish
        self._clock_ns = clock_ns
        self._locks: dict[TableKey, threading.RLock] = {}
        self._locks_guard = threading.Lock()
        self._local = threading.local()

    # -- locks -------------------------------------------------------------------------------
    def lock(self, table: Any) -> threading.RLock:
        key = table_key(table)
        lock = self._locks.get(key)
        if lock is None:
            with self._locks_guard:
                lock = self._locks.setdefault(key, threading.RLock())
        return lock

    @contextmanager
    def locked(self, tables: Iterable[Any]) -> Iterator[None]:
        """Hold several tables' locks, always taken in the same order (no deadlock)."""
        with ExitStack() as stack:
            for table in sorted({table_key(t): t for t in tables}.items()):
                stack.enter_context(self.lock(table[1]))
            yield

    # -- capture -------------------------------------------------------------------------------
    def destination(self, table: Any) -> tuple[str, str] | None:
        if getattr(self._local, "suppressed", 0):
            return None
        return self.registry.streaming(table_key(table))

    @contextmanager
    def suppressed(self) -> Iterator[None]:
        """Writes inside record nothing (moto's UpdateItem creates a new item with an inner PutItem)."""
        self._local.suppressed = getattr(self._local, "suppressed", 0) + 1
        try:
            yield
        finally:
            self._local.suppressed -= 1

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Changes inside are published together if the block succeeds, dropped if it raises."""
        if getattr(self._local, "buffer", None) is not None:
            yield  # already inside one
            return
        self._local.buffer = []
        try:
            yield
            buffered = self._local.buffer
        finally:
            self._local.buffer = None
        if buffered:
            self._publish(buffered)

    def emit(self, table: Any, destination: tuple[str, str], old: Image | None, new: Image | None) -> None:
        """Record one committed change. Call with the table's lock held."""
        stream_arn, precision = destination
        change = Change(
            table_name=table.name,
            region=table.region_name,
            key_names=key_names(table),
            old_image=old,
            new_image=new,
            time_ns=self._clock_ns(),
            stream_arn=stream_arn,
            precision=precision,
        )
        buffer = getattr(self._local, "buffer", None)
        if buffer is not None:
            buffer.append(change)
        else:
            self._publish((change,))
