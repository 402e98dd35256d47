"""moto's model instances, listed without being kept alive.

moto appends every instance of every model class (`BaseModel` subclasses: a DynamoDB Item, an S3
key, a table, a log event, ...) to its class's `instances_tracked` list, for its dashboard
(/moto-api/data.json) and for S3's reset (which disposes the keys' files). Nothing ever takes an
instance out: a deleted table keeps every item it held, an overwritten item or S3 object stays
with its bytes, for the life of the process (measured: a bench of 30,000 items kept ~300 MB of
deleted tables' items). AWS forgets what is deleted, and so does this cloud.

The seam stops the appending (a model costs nothing more than its object) and gives each class a
`LiveInstances` in place of its list: iterated, it finds the class's instances alive among the
objects the garbage collector tracks (every model is one). That is what the two readers need: the
dashboard shows what exists; S3's reset disposes what is alive (what was freed has closed its
file already). Instances frozen out of the collector (`gc.freeze` at the server's start: those
loaded from the state dir) are not found there; the dashboard does not list them.
"""
from __future__ import annotations

import gc
import threading
from typing import Any, Iterator

from .seam import SeamSet

__all__ = ["LiveInstances", "build_seams", "install"]

_TRACKED = "instances_tracked"
_REPLACING = threading.Lock()


class LiveInstances:
    """A model class's instances that are alive, found when asked (moto's list held all it made)."""

    __slots__ = ("cls",)

    def __init__(self, cls: type):
        self.cls = cls

    def append(self, instance: Any) -> None:
        """What moto's BaseModel.__new__ did to its list: nothing to keep here."""

    def __iter__(self) -> Iterator[Any]:
        cls = self.cls
        return iter([found for found in gc.get_objects() if type(found) is cls])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _make_live(cls: type) -> None:
    """Give `cls` a LiveInstances in place of moto's list (dropping what the list kept)."""
    if type(vars(cls).get(_TRACKED)) is not LiveInstances:
        with _REPLACING:
            if type(vars(cls).get(_TRACKED)) is not LiveInstances:
                setattr(cls, _TRACKED, LiveInstances(cls))


def build_seams() -> SeamSet:
    from moto.core import base_backend, common_models, model_instances

    seams = SeamSet("model-tracking")
    seams.expect(model_instances, "model_data")
    seams.expect(base_backend.InstanceTrackerMeta, "__new__", ("meta", "name", "bases", "dct"))
    new = object.__new__

    def make(_original: Any) -> Any:
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            if type(cls.instances_tracked) is not LiveInstances:  # made later, or reset by moto
                _make_live(cls)
            return new(cls)  # moto's: super().__new__(cls) (object's), then appended to its list

        return staticmethod(__new__)

    seams.replace(common_models.BaseModel, "__new__", ("cls", "args", "kwargs"), make)
    return seams


def install() -> SeamSet:
    """Apply the seam (idempotent) and replace the lists of every model class moto has made so
    far: what they kept (made before install, or loaded) is freed once nothing else holds it.
    A class made later (moto imports a service's models on first use), or given a fresh list by
    moto's /moto-api/reset, gets its LiveInstances at its first instance."""
    from moto.core.model_instances import model_data

    seams = build_seams()
    seams.apply()
    for models in list(model_data.values()):
        for cls in list(models.values()):
            _make_live(cls)
    return seams
