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

__all__ = ["LEAF_TYPES", "LeafList", "dumps", "loads"]

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


# Classes (module, qualified name) whose instances hold only data of their own: no reference into
# the rest of the state, no cycles (moto's DynamoDB items and their typed values, stored Kinesis
# records). Containers of nothing else are written without the pickler's memo (see `_leaves`).
LEAF_TYPES = frozenset({
    ("moto.dynamodb.models.dynamo_type", "Item"),
    ("moto.dynamodb.models.dynamo_type", "DynamoType"),
    ("pipeline_lib.localcloud.kinesis.store", "CompactRecord"),
})
_ATOMS = (str, bytes, int, float, bool, type(None))
_leaf_cache: dict[type, bool] = {}


def _is_leaf_type(kind: type) -> bool:
    known = _leaf_cache.get(kind)
    if known is None:
        known = _leaf_cache[kind] = (kind.__module__, kind.__qualname__) in LEAF_TYPES
    return known


def _is_leaf(value: Any) -> bool:
    """A leaf object, an atom, or a plain dict of them (a DynamoDB hash key's items by range key)."""
    if isinstance(value, _ATOMS) or _is_leaf_type(type(value)):
        return True
    return type(value) is dict and all(
        (isinstance(k, _ATOMS) or _is_leaf_type(type(k))) and (isinstance(v, _ATOMS) or _is_leaf_type(type(v)))
        for k, v in value.items())


class LeafList(list):
    """A list written as a plain list, without the pickler's memo when it holds only leaves
    (`LEAF_TYPES`): what a class's own reduction wraps its many stored records in."""


def _local(function: Any) -> bool:
    return "<" in getattr(function, "__qualname__", "<")


class _StatePickler(pickle.Pickler):
    """The state's pickler. Why containers of leaves skip the memo: the memo holds every object
    written, and a reference to it, until the save ends (16-48 bytes an entry in its table, plus
    each reduction's temporaries it keeps alive: a slotted object's state tuple and dict). At a
    million stored items and Kinesis records that is ~15 million entries, about a gigabyte above
    the steady state while a save runs. Objects that nothing else references need no memo entry:
    fast mode (no memo) is on while such a container's elements are written. Memo lookups still
    happen in fast mode, so an element referencing an object written earlier still refers to it;
    an object referenced twice *within* the section would be written twice (equal, not identical,
    once loaded), which is why only known leaf types qualify."""

    def _leaves(self, elements: list, pairs: bool = False) -> Any:
        """`elements` (key-value pairs when `pairs`) as the iterator of a reduction's list or dict
        items, in fast mode from the third when every one is a leaf. The pickler (CPython's
        batch_list / batch_dict) asks for the first two before it writes either, then for each
        next one after writing the last, and once more after the last is written: so the first
        two go through the memo, which then holds what every element refers to (classes,
        reduction functions, attribute names: later written as a two-byte reference, not in
        full), and fast mode ends when the last element is written."""
        leaves = all(_is_leaf(k) and _is_leaf(v) for k, v in elements) if pairs else all(map(_is_leaf, elements))
        if not leaves:
            yield from elements
            return
        before = self.fast
        try:
            for index, element in enumerate(elements):
                if index == 2:
                    self.fast = True
                yield element
        finally:
            self.fast = before

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if isinstance(obj, collections.defaultdict):  # (moto keeps a DynamoDB table's items in one)
            factory = obj.default_factory
            if factory is not None and _local(factory):
                factory = SampleFactory(factory())
            return (_defaultdict, (kind, factory), getattr(obj, "__dict__", None) or None, None,
                    self._leaves(list(obj.items()), pairs=True))
        if kind is LeafList:
            return list, (), None, self._leaves(list(obj))
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
