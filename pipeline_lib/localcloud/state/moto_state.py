"""moto's state: every backend moto has made, captured and put back.

moto keeps each service's state in a module-level `BackendDict` (account -> region -> backend);
`BackendDict._instances` lists those in use. A capture names each by where it lives
("module:attribute") and holds its backends as plain dicts; a restore puts them into the live
`BackendDict` of that name. Everything goes through one pickle, so objects shared between
services (a CloudFormation stack's resources are the services' own models) stay shared.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any

from ..seam import SeamSet

__all__ = ["capture", "restore", "clear_all", "declare", "MotoStateError"]


class MotoStateError(RuntimeError):
    pass


def declare(seams: SeamSet) -> None:
    """What this module touches of moto (checked against the installed moto at install)."""
    from moto.core import base_backend

    seams.expect(base_backend, "BackendDict")
    seams.expect(base_backend, "AccountSpecificBackend")
    seams.expect(base_backend.BackendDict, "_instances")
    seams.expect(base_backend.BackendDict, "__getitem__", ("self", "account_id"))


def _locate(found: Any) -> str:
    for name, module in list(sys.modules.items()):
        if not name.startswith("moto.") or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if value is found:
                return f"{name}:{attr}"
    raise MotoStateError(f"cannot tell where moto keeps the backends of {found.service_name!r}")


def _resolve(location: str) -> Any:
    module, _, attr = location.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise MotoStateError(f"moto has no {location} any more ({exc}); this state was saved with "
                             "another moto version") from None


def capture(order: tuple[str, ...] = ()) -> dict[str, dict[str, dict[str, Any]]]:
    """{"module:attr": {account: {region: backend}}}; services named in `order` (moto service
    names) first, in that order (pickle writes objects where it first meets them)."""
    from moto.core.base_backend import BackendDict

    live = list(BackendDict._instances)
    rank = {name: i for i, name in enumerate(order)}
    live.sort(key=lambda d: rank.get(d.service_name, len(rank)))
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for backends in live:
        accounts = {account: dict(regions.items()) for account, regions in list(backends.items())}
        if any(accounts.values()):
            out[_locate(backends)] = accounts
    return out


def restore(captured: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Put captured backends in place of moto's (checked first: nothing is replaced when a
    location no longer exists)."""
    targets = {location: _resolve(location) for location in captured}
    for location, accounts in captured.items():
        backends = targets[location]
        backends.clear()
        for account, regions in accounts.items():
            per_account = backends[account]  # makes moto's AccountSpecificBackend
            for region, found in regions.items():
                dict.__setitem__(per_account, region, found)


def clear_all() -> None:
    """Empty every backend moto has made (before a state is loaded into a running process: a
    service the loaded state does not hold must not keep what it held before). The BackendDicts
    stay where moto's modules keep them, so `restore` finds them."""
    from moto.core.base_backend import BackendDict

    for backends in list(BackendDict._instances):
        backends.clear()
