"""Check-then-patch moto's internals, idempotently and reversibly.

moto's internals are not a public API. An extension declares each attribute it replaces together
with the parameters the original has today; `SeamSet.apply()` checks them all first and refuses to
patch anything (naming moto's version and what changed) when one no longer matches. Applying twice
is applying once: a patched attribute carries a marker, so a second `apply()` leaves it alone.
`restore()` puts the originals back (benchmarks measure moto with and without the seams).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Callable

_MARK = "__localcloud_seam__"
_ORIGINAL = "__localcloud_original__"
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


@dataclass
class _Seam:
    owner: type
    name: str
    expect: tuple[str, ...] | None  # None: the attribute must not exist yet (an addition)
    make: Callable[[Any], Any]  # original raw attribute (or None) -> replacement raw attribute

    @property
    def where(self) -> str:
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"


class SeamSet:
    """The moto attributes one extension replaces or adds, under one tag."""

    def __init__(self, tag: str):
        self.tag = tag
        self._seams: list[_Seam] = []

    def replace(self, owner: type, name: str, expect: tuple[str, ...], make: Callable[[Any], Any]) -> None:
        """Replace `owner.name` (which must take exactly `expect`) with `make(original)`."""
        self._seams.append(_Seam(owner, name, tuple(expect), make))

    def add(self, owner: type, name: str, value: Any) -> None:
        """Add `owner.name`, which moto must not define itself."""
        self._seams.append(_Seam(owner, name, None, lambda _original: value))

    def describe(self) -> list[str]:
        return [s.where + ("" if s.expect is None else str(s.expect)) for s in self._seams]

    def _ours(self, seam: _Seam) -> bool:
        raw = seam.owner.__dict__.get(seam.name, _ABSENT)
        return getattr(_function_of(raw), _MARK, None) == (self.tag, seam.name)

    def check(self) -> None:
        problems = []
        for seam in self._seams:
            if self._ours(seam):
                continue
            raw = seam.owner.__dict__.get(seam.name, _ABSENT)
            if seam.expect is None:
                if raw is not _ABSENT:
                    problems.append(f"{seam.where} now exists in moto; the seam that adds it must be revisited")
            elif raw is _ABSENT:
                problems.append(f"{seam.where} no longer exists")
            elif parameter_names(raw) != seam.expect:
                problems.append(f"{seam.where} takes {parameter_names(raw)}, the seam expects {seam.expect}")
        if problems:
            raise SeamError(
                f"moto {moto_version()} does not match the local cloud's {self.tag} seams (written for moto 5.2.5): "
                + "; ".join(problems)
                + ". Install the pinned version: pip install 'moto[server]==5.2.5'."
            )

    def apply(self) -> None:
        self.check()
        for seam in self._seams:
            if self._ours(seam):
                continue
            raw = seam.owner.__dict__.get(seam.name, _ABSENT)
            replacement = seam.make(None if raw is _ABSENT else raw)
            function = _function_of(replacement)
            setattr(function, _MARK, (self.tag, seam.name))
            setattr(function, _ORIGINAL, raw)  # kept on the patch itself, so any instance can restore
            setattr(seam.owner, seam.name, replacement)

    @property
    def applied(self) -> bool:
        return bool(self._seams) and all(self._ours(s) for s in self._seams)

    def restore(self) -> None:
        """Put moto's originals back (only what this set patched)."""
        for seam in reversed(self._seams):
            if not self._ours(seam):
                continue
            original = getattr(_function_of(seam.owner.__dict__[seam.name]), _ORIGINAL, _ABSENT)
            if original is _ABSENT:
                delattr(seam.owner, seam.name)
            else:
                setattr(seam.owner, seam.name, original)
