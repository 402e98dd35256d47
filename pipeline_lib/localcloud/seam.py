"""Check-then-patch moto's internals, idempotently and reversibly: the local cloud's one way to
patch moto.

moto's internals are not a public API. An extension declares, in one `SeamSet`, each attribute
it replaces (a method, property, classmethod or staticmethod of a class, or a function of a
module) together with the parameters the original has today, each attribute it adds, each one
it only calls or reads (`expect`), and each instance attribute it reads or writes on moto's
objects (`reads`: checked in the class's source, since no signature shows them).
`SeamSet.apply()` checks them all first and refuses to patch anything (naming moto's version and
what changed) when one no longer matches. Applying twice is applying once: a patched attribute
carries a marker, so a second `apply()` of this set leaves it alone. Another set with the same
tag (the seams of another cloud started in the same process) takes over: its replacement wraps
moto's original, never the first set's patch. The replacement keeps moto's attribute, so
`original()` finds it and `restore()` puts it back (tests and benchmarks measure moto with and
without the seams).
"""
from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MOTO_VERSION_WRITTEN_FOR = "5.2.5"
_MARK = "__localcloud_seam__"
_ORIGINAL = "__localcloud_original__"
_SET = "__localcloud_set__"
_ABSENT = object()


class SeamError(RuntimeError):
    """moto's internals no longer look like what a seam was written against."""


def moto_version() -> str:
    import moto

    return getattr(moto, "__version__", "unknown")


def _function_of(raw: Any) -> Any:
    """The plain function behind a class attribute (function, classmethod, staticmethod, property)."""
    if isinstance(raw, (classmethod, staticmethod)):
        return raw.__func__
    if isinstance(raw, property):
        return raw.fget
    return raw


def parameter_names(raw: Any) -> tuple[str, ...]:
    return tuple(inspect.signature(_function_of(raw)).parameters)


def where(owner: Any, name: str) -> str:
    """`module.Class.name` or `module.name`, for messages."""
    if isinstance(owner, types.ModuleType):
        return f"{owner.__name__}.{name}"
    return f"{owner.__module__}.{owner.__qualname__}.{name}"


def _own(owner: Any, name: str) -> Any:
    """`owner.name` as stored on owner itself (descriptors unbound), or _ABSENT."""
    return vars(owner).get(name, _ABSENT)


def _mark_of(raw: Any) -> Any:
    return getattr(_function_of(raw), _MARK, None)


def is_patched(owner: Any, name: str) -> bool:
    """Whether a seam (of any set) has replaced or added `owner.name`."""
    return _mark_of(_own(owner, name)) is not None


def original(owner: Any, name: str) -> Any:
    """moto's own `owner.name`, whether or not a seam replaced it (as stored: a property stays one)."""
    raw = _own(owner, name)
    if raw is _ABSENT:
        raw = inspect.getattr_static(owner, name, _ABSENT)  # inherited: never patched here
    elif _mark_of(raw) is not None:
        raw = getattr(_function_of(raw), _ORIGINAL)
    if raw is _ABSENT:
        raise AttributeError(f"moto {moto_version()} has no {where(owner, name)}")
    return raw


@dataclass
class _Seam:
    kind: str  # "replace" | "add" | "expect" | "reads"
    owner: Any  # a class or a module
    name: str
    params: tuple[str, ...] | None  # replace, expect: the parameters moto's attribute takes (None: any)
    make: Callable[[Any], Any] | None  # replace, add: original raw attribute (or None) -> replacement

    @property
    def where(self) -> str:
        return where(self.owner, self.name)


class SeamSet:
    """The moto attributes one extension replaces, adds and relies on, under one tag."""

    def __init__(self, tag: str):
        self.tag = tag
        self._seams: list[_Seam] = []

    def replace(self, owner: Any, name: str, expect: tuple[str, ...], make: Callable[[Any], Any]) -> None:
        """Replace `owner.name` (which must take exactly `expect`) with `make(original)`."""
        self._seams.append(_Seam("replace", owner, name, tuple(expect), make))

    def add(self, owner: Any, name: str, value: Any) -> None:
        """Add `owner.name`, which moto must not define itself."""
        self._seams.append(_Seam("add", owner, name, None, lambda _original: value))

    def expect(self, owner: Any, name: str, params: tuple[str, ...] | None = None) -> None:
        """Check, never patch, `owner.name`: something the extension calls (taking exactly
        `params`) or reads (any attribute, when `params` is None)."""
        self._seams.append(_Seam("expect", owner, name, None if params is None else tuple(params), None))

    def reads(self, owner: type, *names: str) -> None:
        """Check, never patch, instance attributes of moto's `owner` class that the extension
        reads or writes (`self.name = ...` in the class or a base, a class attribute, a dataclass
        field or a slot)."""
        for name in names:
            self._seams.append(_Seam("reads", owner, name, None, None))

    def describe(self) -> list[str]:
        return [f"{s.kind} {s.where}" + ("" if s.params is None else str(s.params)) for s in self._seams]

    def _ours(self, seam: _Seam) -> bool:
        raw = _own(seam.owner, seam.name)
        return (seam.kind in ("replace", "add") and _mark_of(raw) == (self.tag, seam.name)
                and getattr(_function_of(raw), _SET, None) is self)

    def _same_tag(self, seam: _Seam) -> bool:
        """Patched by another set with this tag (another cloud in the process): ours to take over."""
        return _mark_of(_own(seam.owner, seam.name)) == (self.tag, seam.name)

    def check(self) -> None:
        problems = []
        for seam in self._seams:
            if self._ours(seam):
                continue
            if seam.kind == "reads":
                if not has_instance_attribute(seam.owner, seam.name):
                    problems.append(f"{seam.where} is no longer an attribute of its instances")
                continue
            if seam.kind == "add":
                if _own(seam.owner, seam.name) is not _ABSENT and not self._same_tag(seam):
                    problems.append(f"{seam.where} now exists in moto; the seam that adds it must be revisited")
                continue
            try:
                raw = (original(seam.owner, seam.name) if seam.kind == "expect" or self._same_tag(seam)
                       else _own(seam.owner, seam.name))
            except AttributeError:
                raw = _ABSENT
            if raw is _ABSENT:
                problems.append(f"{seam.where} no longer exists")
            elif seam.params is not None and parameter_names(raw) != seam.params:
                problems.append(f"{seam.where} takes {parameter_names(raw)}, the seam expects {seam.params}")
        if problems:
            raise SeamError(
                f"moto {moto_version()} does not match the local cloud's {self.tag} seams "
                f"(written for moto {MOTO_VERSION_WRITTEN_FOR}): " + "; ".join(problems)
                + f". Install the pinned version: pip install 'moto[server]=={MOTO_VERSION_WRITTEN_FOR}'."
            )

    def apply(self) -> int:
        """Check everything, then patch what is not patched yet; returns how many were."""
        self.check()
        applied = 0
        for seam in self._seams:
            if seam.kind in ("expect", "reads") or self._ours(seam):
                continue
            assert seam.make is not None
            raw = _own(seam.owner, seam.name)
            if raw is not _ABSENT and self._same_tag(seam):
                raw = getattr(_function_of(raw), _ORIGINAL)  # take over: wrap moto's, not the other set's
            replacement = seam.make(None if raw is _ABSENT else raw)
            function = _function_of(replacement)
            setattr(function, _MARK, (self.tag, seam.name))
            setattr(function, _ORIGINAL, raw)  # kept on the patch itself, so any instance can restore
            setattr(function, _SET, self)
            setattr(seam.owner, seam.name, replacement)
            applied += 1
        return applied

    @property
    def applied(self) -> bool:
        patches = [s for s in self._seams if s.kind in ("replace", "add")]
        return bool(patches) and all(self._ours(s) for s in patches)

    def restore(self) -> None:
        """Put moto's originals back (only what this set patched)."""
        for seam in reversed(self._seams):
            if seam.kind not in ("replace", "add") or not self._same_tag(seam):
                continue
            kept = getattr(_function_of(_own(seam.owner, seam.name)), _ORIGINAL, _ABSENT)
            if kept is _ABSENT:
                delattr(seam.owner, seam.name)
            else:
                setattr(seam.owner, seam.name, kept)


def has_instance_attribute(owner: type, name: str) -> bool:
    """Whether instances of `owner` have `name`: defined on the class or a base, declared as a
    dataclass field or slot, or assigned as `self.name` in the source of the class or a base."""
    assignment = re.compile(rf"\bself\.{re.escape(name)}\s*(?::[^=\n]+)?=(?!=)")
    for klass in getattr(owner, "__mro__", (owner,)):
        if name in vars(klass) or name in getattr(klass, "__slots__", ()) or \
                name in getattr(klass, "__dataclass_fields__", {}):
            return True
        source = _source_of(klass, inspect.getsource)
        if source is not None and assignment.search(source):
            return True
    return False


@lru_cache(maxsize=None)
def _source_of(klass: type, read: Callable[[Any], str]) -> str | None:
    """A class's source, read once per process (and per reader: a test that stands in for
    inspect.getsource gets its own): inspect re-parses the whole module on every call, which made
    checking a cloud's seams take seconds (each start, each snapshot load)."""
    try:
        return read(klass)
    except (OSError, TypeError):
        return None
