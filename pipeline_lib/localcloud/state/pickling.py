"""Pickling the cloud's live objects: moto's models and ours hold locks, conditions, events,
threads and executors, which pickle cannot store. They are runtime machinery, not state: a
restored object gets fresh ones (a thread is not restarted by unpickling; the extension that
owns the work restarts it at start)."""
from __future__ import annotations

import collections
import concurrent.futures
import copy
import io
import pickle
import queue
import threading
import weakref
from typing import Any

__all__ = ["dumps", "loads"]

_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())
PROTOCOL = pickle.HIGHEST_PROTOCOL


def _fresh_event(is_set: bool) -> threading.Event:
    event = threading.Event()
    if is_set:
        event.set()
    return event


def _nothing() -> None:
    return None


def _fresh_queue(kind: type, maxsize: int, items: list) -> queue.Queue:
    fresh = kind(maxsize)
    for item in items:
        fresh.put_nowait(item)
    return fresh


def _restored_dict(kind: type, items: list, state: dict | None) -> dict:
    """A dict subclass put back as it was saved: its raw storage (`dict.items`, not an `items`
    it overrides: moto's versioned S3 key store shows only the latest version there) without its
    own __setitem__ (what that checks was checked when the items were written; moto's DynamoDB
    items recompute their whole size on every insertion, which made loading quadratic).
    (States saved before `_flat_dict` was written call this.)"""
    fresh = dict.__new__(kind)
    dict.update(fresh, items)
    if state:
        fresh.__dict__.update(state)
    return fresh


def _flat_dict(kind: type, state: dict | None, *flat: Any) -> dict:
    """`_restored_dict` with the raw storage as key, value, key, value, ... in the arguments: the
    pickler's memo keeps every argument it wrote until the save ends, and one flat tuple is a
    quarter of a list of pairs (about 1 KB less for each DynamoDB item of 14 attributes)."""
    fresh = dict.__new__(kind)
    dict.update(fresh, zip(flat[::2], flat[1::2]))
    if state:
        fresh.__dict__.update(state)
    return fresh


class SampleFactory:
    """Stands in for a `defaultdict` factory pickle cannot store (a lambda): it returns a copy of
    what the factory returned when the state was saved (an empty dict, list, nested defaultdict)."""

    def __init__(self, sample: Any):
        self.sample = sample

    def __call__(self) -> Any:
        return copy.deepcopy(self.sample)


def _defaultdict(kind: type, factory: Any) -> collections.defaultdict:
    # Not kind(factory): subclasses (moto's ParameterDict) take other constructor arguments.
    fresh = collections.defaultdict.__new__(kind)
    fresh.default_factory = factory
    return fresh


def _local(function: Any) -> bool:
    return "<" in getattr(function, "__qualname__", "<")


class _StatePickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if isinstance(obj, collections.defaultdict) and (
            kind is not collections.defaultdict or (obj.default_factory is not None and _local(obj.default_factory))
        ):
            factory = obj.default_factory
            if factory is not None and _local(factory):
                factory = SampleFactory(factory())
            return _defaultdict, (kind, factory), getattr(obj, "__dict__", None) or None, None, iter(list(obj.items()))
        if kind is _LOCK:
            return threading.Lock, ()
        if kind is _RLOCK:
            return threading.RLock, ()
        if kind is threading.Condition:
            return threading.Condition, ()
        if kind is threading.Event:
            return _fresh_event, (obj.is_set(),)
        if isinstance(obj, threading.Thread) or isinstance(obj, concurrent.futures.Executor):
            return _nothing, ()
        if kind is weakref.WeakValueDictionary:
            return weakref.WeakValueDictionary, (dict(obj),)
        if isinstance(obj, queue.Queue):
            return _fresh_queue, (kind, obj.maxsize, list(obj.queue))
        if (isinstance(obj, dict) and kind.__setitem__ is not dict.__setitem__
                and not isinstance(obj, (collections.defaultdict, collections.OrderedDict))
                and kind.__reduce_ex__ is object.__reduce_ex__ and kind.__reduce__ is object.__reduce__):
            flat = [part for pair in dict.items(obj) for part in pair]
            return _flat_dict, (kind, getattr(obj, "__dict__", None) or None, *flat)
        return NotImplemented


def dumps(value: Any) -> bytes:
    out = io.BytesIO()
    _StatePickler(out, protocol=PROTOCOL).dump(value)
    return out.getvalue()


def loads(data: bytes) -> Any:
    return pickle.loads(data)


def find_unpicklable(value: Any, limit: int = 5) -> list[str]:
    """Where in `value` objects pickle cannot store are (for the error of a failed save):
    dotted paths with the error, one per kind of error, at most `limit`."""
    found: dict[str, str] = {}
    seen: set[int] = set()

    def walk(item: Any, path: str, depth: int) -> bool:
        if id(item) in seen or depth > 40 or len(found) >= limit:
            return False
        seen.add(id(item))
        try:
            dumps(item)
            return False
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
        if isinstance(item, dict):
            children = [(f"{path}[{k!r}]", v) for k, v in list(item.items())]
        elif isinstance(item, (list, tuple, set, frozenset)):
            children = [(f"{path}[{i}]", v) for i, v in enumerate(list(item))]
        elif hasattr(item, "__dict__"):
            children = [(f"{path}.{k}", v) for k, v in vars(item).items()]
        else:
            children = []
        deeper = False
        for child_path, child in children:
            deeper = walk(child, child_path, depth + 1) or deeper
        if not deeper and reason not in found:
            found[reason] = path
        return True

    walk(value, "state", 0)
    return [f"{path}: {reason}" for reason, path in found.items()]
