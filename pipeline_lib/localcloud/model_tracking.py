"""moto's model instances, listed without being kept alive.

moto appends every instance of every model class (`BaseModel` subclasses: a DynamoDB Item, an S3
key, a table, a log event, ...) to its class's `instances_tracked` list, for its dashboard
(/moto-api/data.json) and for S3's reset (which disposes the keys' files). Nothing ever takes an
instance out: a deleted table keeps every item it held, an overwritten item or S3 object stays
with its bytes, for the life of the process (measured: a bench of 30,000 items kept ~300 MB of
deleted tables' items). AWS forgets what is deleted, and so does this cloud: the seam makes
`instances_tracked` a list of weak references, in creation order, so it still lists every model
alive (what the dashboard and S3's reset iterate) and lets the rest be freed.
"""
from __future__ import annotations

import threading
import weakref
from typing import Any, Iterator

from .seam import SeamSet

__all__ = ["LiveInstances", "build_seams", "install"]

_TRACKED = "instances_tracked"
_REPLACING = threading.Lock()


class _Ref(weakref.ref):
    __slots__ = ("key",)


class LiveInstances:
    """The instances of one model class still alive, in creation order (what moto's list held,
    minus what nothing else references any more)."""

    __slots__ = ("_refs", "_gone", "_strong")

    def __init__(self) -> None:
        self._refs: dict[int, _Ref] = {}
        self._strong: list[Any] = []  # a model without weak-reference support: kept, as moto does
        refs = self._refs

        def gone(ref: _Ref) -> None:  # runs when an instance is freed (any thread)
            if refs.get(ref.key) is ref:
                del refs[ref.key]

        self._gone = gone

    def append(self, instance: Any) -> None:
        try:
            ref = _Ref(instance, self._gone)
        except TypeError:
            self._strong.append(instance)
            return
        ref.key = id(instance)
        self._refs[ref.key] = ref

    def __iter__(self) -> Iterator[Any]:
        for ref in list(self._refs.values()):  # a snapshot: instances may be freed meanwhile
            instance = ref()
            if instance is not None:
                yield instance
        yield from list(self._strong)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _tracked(cls: type) -> LiveInstances:
    """`cls`'s own list; a plain list (a class made before install, or moto's reset_model_data,
    which assigns fresh lists) is replaced, its instances carried over."""
    current = vars(cls).get(_TRACKED)
    if type(current) is LiveInstances:
        return current
    with _REPLACING:  # two threads making a class's first instances: one list
        current = vars(cls).get(_TRACKED)
        if type(current) is LiveInstances:
            return current
        live = LiveInstances()
        for instance in current or ():
            live.append(instance)
        setattr(cls, _TRACKED, live)
        return live


def build_seams() -> SeamSet:
    from moto.core import base_backend, common_models, model_instances

    seams = SeamSet("model-tracking")
    seams.expect(model_instances, "model_data")
    seams.expect(base_backend.InstanceTrackerMeta, "__new__", ("meta", "name", "bases", "dct"))

    def make(_original: Any) -> Any:
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            instance = object.__new__(cls)  # moto's: super().__new__(cls), BaseModel's base is object
            _tracked(cls).append(instance)
            return instance

        return staticmethod(__new__)

    seams.replace(common_models.BaseModel, "__new__", ("cls", "args", "kwargs"), make)
    return seams


def install() -> SeamSet:
    """Apply the seam (idempotent) and turn the lists moto's classes hold so far into weak ones:
    what they listed until now (loaded or made before install) is freed once unreferenced."""
    from moto.core.model_instances import model_data

    seams = build_seams()
    seams.apply()
    for models in list(model_data.values()):
        for cls in list(models.values()):
            _tracked(cls)
    return seams
