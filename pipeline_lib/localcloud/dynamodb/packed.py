"""A stored item packed: its typed JSON in one bytes object (compact.py says which items can
be), and what moto's Item does served from it (the seams in seams.py put these on moto's Item).

moto keeps an item as a LimitedSizeDict of DynamoType objects, one per attribute and per member
of lists and maps: about 4.3 KB for a 550-byte item. Here `Item.attrs` is a property: moto's
code that reads it gets those objects, built from the bytes and not kept on the item; answers
(`to_json`, `describe_attrs`), `size`, copies and the change capture's images come from the
bytes without building them. moto changes items in place in two places only (the
UpdateExpression executor and `update_with_attribute_updates`): inside them (`writing`) what is
read is kept on the item, and the item is packed again when the write ends.
"""
from __future__ import annotations

import copy
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import orjson

from .compact import packable_size, typed_json

__all__ = ["ATTRS", "ITEM_NEW", "dynamo_type_reduce", "image", "in_write", "item_deepcopy", "item_describe_attrs",
           "item_reduce", "item_setstate", "item_size", "item_to_json", "pack", "writing"]


class _Writes(threading.local):
    held: "list[Any] | None" = None  # items whose attributes this thread's write is changing


class _Reads(threading.local):
    last: "tuple[Any, bytes, Any] | None" = None  # (item, its packed bytes, their DynamoTypes)


_writes = _Writes()
_reads = _Reads()
_writers: dict[int, int] = {}  # id(item) -> writes (of any thread) holding its attributes
_writers_lock = threading.Lock()


def pack(typed: dict[str, Any]) -> bytes:
    """orjson's text, copied: the bytes orjson returns keep the capacity it grew (4 KB and more
    for a 550-byte item, measured with tracemalloc), which a stored item would keep for ever."""
    return bytes(memoryview(orjson.dumps(typed)))


def _untracked_new(cls: type, *args: Any, **kwargs: Any) -> Any:
    """An Item without moto's instance tracking: BaseModel.__new__ appends every instance to a
    class-level list (for moto's dashboard, /moto-api/data.json), which kept every item ever
    made alive: overwritten and deleted ones, each UpdateItem's copy, every Query's copies.
    localcloud/model_tracking.py stops that for every model class; an Item, made for every write
    and every copy a read returns, skips even that step (and works where only this package's
    seams are applied)."""
    return object.__new__(cls)


ITEM_NEW = staticmethod(_untracked_new)


_moto: dict[str, Any] = {}  # moto's DynamoType and LimitedSizeDict, imported on first use


def _dynamo_type(typed: dict[str, Any], new: Callable, dynamo_type: type) -> Any:
    """`DynamoType(typed)` for a packed value (one key, L and M members packed values too: what
    compact.packable_size let in): the same object, its __init__'s checks skipped."""
    for kind, value in typed.items():
        if kind == "L":
            value = [_dynamo_type(member, new, dynamo_type) for member in value]
        elif kind == "M":
            value = {name: _dynamo_type(member, new, dynamo_type) for name, member in value.items()}
        made = new(dynamo_type)
        made.type = kind  # in DynamoType.__init__'s order
        made.value = value
        return made


def _inflate(packed: bytes) -> Any:
    """moto's attributes of a packed item, as moto's Item.__init__ builds them."""
    if not _moto:
        from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

        _moto.update(DynamoType=DynamoType, LimitedSizeDict=LimitedSizeDict)
    dynamo_type, limited = _moto["DynamoType"], _moto["LimitedSizeDict"]
    new = dynamo_type.__new__
    values = limited.__new__(limited)
    for key, value in orjson.loads(packed).items():
        dict.__setitem__(values, key, _dynamo_type(value, new, dynamo_type))
    return values


def _get_attrs(self: Any) -> Any:
    """moto's `item.attrs`. A packed item's are built when read and not kept on the item (a Query
    on an index reads every item of the table); the thread remembers the last ones it built, for
    the reads that follow of the same item (reads never change them: writes in place run inside
    `writing`). Inside a write (an UpdateItem's executor) they are kept on the item until the
    write ends, and the item is then packed again."""
    plain = self._plain
    held = _writes.held
    if held is None:
        if plain is not None:
            return plain
        packed = self._packed
        last = _reads.last  # moto reads an item's attrs several times in a row (a Query's loop)
        if last is not None and last[0] is self and last[1] is packed:
            return last[2]
        plain = _inflate(packed)
        _reads.last = (self, packed, plain)
        return plain
    with _writers_lock:
        if not any(item is self for item in held):
            held.append(self)
            _writers[id(self)] = _writers.get(id(self), 0) + 1
        plain = self._plain
        if plain is None:
            plain = self._plain = _inflate(self._packed)
    return plain


def _set_attrs(self: Any, value: Any) -> None:
    self._plain, self._packed, self._size = value, None, None


ATTRS = property(_get_attrs, _set_attrs, doc="moto's Item.attrs, packed when the item can be")


def _repack(item: Any) -> None:
    """Pack an item's attributes again after a write changed them (call with _writers_lock held)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    plain = item._plain
    if plain is None:
        return
    typed = typed_json(plain, DynamoType)
    size = packable_size(typed)
    if size is None:
        return  # the write made it unpackable (a binary value): it stays as moto keeps it
    try:
        packed = pack(typed)
    except orjson.JSONEncodeError:
        return
    item._packed, item._size, item._plain = packed, size, None


@contextmanager
def writing() -> Iterator[None]:
    """A write that changes items' attributes in place: what it reads of them is kept (and is
    what it changes) until the outermost write of this thread ends; each item is packed again
    when no write of any thread holds it any more."""
    if _writes.held is not None:
        yield
        return
    held: list[Any] = []
    _writes.held = held
    try:
        yield
    finally:
        _writes.held = None
        with _writers_lock:
            for item in held:
                left = _writers[id(item)] - 1
                if left:
                    _writers[id(item)] = left
                else:
                    del _writers[id(item)]
                    _repack(item)


def in_write(original: Callable) -> Callable:
    """`original` (a moto method that changes an item in place) run as a write."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with writing():
            return original(*args, **kwargs)

    wrapper.__name__ = getattr(original, "__name__", "write")
    return wrapper


def item_setstate(self: Any, state: dict[str, Any]) -> None:
    """An Item unpickled from a state file. One saved before items were packed holds moto's
    `attrs` in its __dict__, which the `attrs` property would never read: its attributes are
    taken as moto's and packed as a write would leave them, so an older state dir loads whole."""
    if "attrs" in state and "_plain" not in state:
        state = dict(state)
        plain = state.pop("attrs")
        self.__dict__.update(state)
        self._plain, self._packed, self._size = plain, None, None
        with _writers_lock:
            _repack(self)
        return
    self.__dict__.update(state)


# -- pickling (state saves; copy.copy) -------------------------------------------------------------
# The default reduction reads an object's `__dict__`, and on Python 3.11 reading it gives the object
# a dict of its own for good (its attributes lived in the instance's inline values until then): 64
# bytes more for an item and for each of its two key values after the first state save, ~190 MB
# at a million items. These name the attributes instead: the same ones moto's own `__deepcopy__`
# copies (an Item's keys and attributes; a DynamoType's type and value).
def item_reduce(self: Any) -> tuple:
    return _restored_item, (self.hash_key, self.range_key, self._packed, self._size, self._plain)


def _restored_item(hash_key: Any, range_key: Any, packed: bytes | None, size: int | None, plain: Any) -> Any:
    from moto.dynamodb.models.dynamo_type import Item

    item = object.__new__(Item)
    item.hash_key, item.range_key = hash_key, range_key  # in item_init's order (shared dict keys)
    item._packed, item._size, item._plain = packed, size, plain
    return item


def dynamo_type_reduce(self: Any) -> tuple:
    return _restored_dynamo_type, (self.type, self.value)


def _restored_dynamo_type(kind: str, value: Any) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType

    made = object.__new__(DynamoType)
    made.type, made.value = kind, value
    return made


def image(item: Any) -> dict[str, Any] | None:
    """`item.to_json()["Attributes"]` of a packed item, a fresh copy; None when it is not packed."""
    if getattr(item, "_plain", True) is None:
        return orjson.loads(item._packed)
    return None


def item_to_json(original: Callable) -> Callable:
    def to_json(self: Any, root_attr_name: str = "Attributes") -> dict[str, Any]:
        if self._plain is None:
            return {root_attr_name: orjson.loads(self._packed)}
        return original(self, root_attr_name)

    return to_json


def item_describe_attrs(original: Callable) -> Callable:
    def describe_attrs(self: Any, attributes: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        if self._plain is None:
            loaded = orjson.loads(self._packed)
            if attributes:
                return {"Item": {key: value for key, value in loaded.items() if key in attributes}}
            return {"Item": loaded}
        return original(self, attributes)

    return describe_attrs


def item_size(original: Callable) -> Callable:
    def size(self: Any) -> int:
        if self._plain is None:
            return self._size
        return original(self)

    return size


def item_deepcopy(original: Callable) -> Callable:
    """A packed item's copy shares its bytes (immutable); moto's copy for the others."""

    def __deepcopy__(self: Any, memo: dict[int, Any]) -> Any:
        if self._plain is not None:
            return original(self, memo)
        if id(self) in memo:
            return memo[id(self)]
        result = self.__class__.__new__(self.__class__)
        memo[id(self)] = result
        result.hash_key = copy.deepcopy(self.hash_key, memo)
        result.range_key = copy.deepcopy(self.range_key, memo)
        result._packed, result._size, result._plain = self._packed, self._size, None
        return result

    return __deepcopy__
