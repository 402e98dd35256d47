"""Patching moto at a named seam: checked against the pinned moto, idempotent, reversible."""
from __future__ import annotations

import inspect
from typing import Any, Callable

# (owner, attribute name) -> moto's own attribute, as found before the first patch.
_ORIGINALS: dict[tuple[Any, str], Any] = {}


class SeamChanged(RuntimeError):
    """moto no longer has the attribute (or signature) a seam relies on."""


def _moto_version() -> str:
    import moto

    return moto.__version__


def _label(owner: Any, name: str) -> str:
    return f"{getattr(owner, '__module__', '')}.{getattr(owner, '__name__', owner)}.{name}"


def _raw(owner: Any, name: str) -> Any:
    # Through the class dict, so staticmethod/classmethod/property objects stay as they are.
    if inspect.isclass(owner):
        for klass in owner.__mro__:
            if name in vars(klass):
                return vars(klass)[name]
        return None
    return getattr(owner, name, None)


def original(owner: Any, name: str) -> Any:
    """moto's own attribute (whether or not it is patched)."""
    return _ORIGINALS.get((owner, name), _raw(owner, name))


def patched(owner: Any, name: str) -> bool:
    return (owner, name) in _ORIGINALS


def check(owner: Any, name: str, params: tuple[str, ...] | None = None) -> Any:
    """moto's attribute `owner.name`; raise SeamChanged unless it exists and (when `params` is
    given) its parameters start with those names (`self`/`cls` left out)."""
    attribute = original(owner, name)
    if attribute is None:
        raise SeamChanged(
            f"moto {_moto_version()} has no {_label(owner, name)}; "
            "pipeline_lib.localcloud.cfn was written against moto 5.2.5"
        )
    if params is not None:
        function = attribute.fget if isinstance(attribute, property) else getattr(attribute, "__func__", attribute)
        actual = tuple(p for p in inspect.signature(function).parameters if p not in ("self", "cls"))
        if actual[: len(params)] != params:
            raise SeamChanged(
                f"moto {_moto_version()}: {_label(owner, name)} takes {actual}, expected {params}; "
                "pipeline_lib.localcloud.cfn was written against moto 5.2.5"
            )
    return attribute


def patch(owner: Any, name: str, make: Callable[[Any], Any], params: tuple[str, ...] | None = None) -> None:
    """Set `owner.name` to `make(moto's attribute)`; doing it again replaces our patch, never
    wraps it."""
    attribute = check(owner, name, params)
    _ORIGINALS.setdefault((owner, name), attribute)
    setattr(owner, name, make(attribute))


def unpatch(owner: Any, name: str) -> None:
    if (owner, name) in _ORIGINALS:
        setattr(owner, name, _ORIGINALS.pop((owner, name)))


def unpatch_all() -> None:
    """Put every attribute patched here back to moto's (tests that patch moto in-process)."""
    for owner, name in list(_ORIGINALS):
        unpatch(owner, name)
