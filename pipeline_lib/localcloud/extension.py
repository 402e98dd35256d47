"""The shape every local-cloud extension has.

An extension makes one emulated service behave (a Lambda runtime, a delivery engine, a crawler);
each service package's `extension.py` defines one, built by the package's `extension(cloud)`.
It builds its moto seams with the package's `seams.build_seams(cloud)` (closures over the cloud
it belongs to: no module keeps "the active instance"); `install` applies them (done once, before
the server answers); `start`/`stop` run its background work; `flush` returns when everything it
accepted so far has been delivered; `status` summarises what it holds for `local status`; `wrap` may put a WSGI layer in front
of moto's app (IAM's request check);
`cloudformation_types` hands the package's CloudFormation models to the cfn registry.
`save_state`/`load_state` carry what the extension holds outside moto's backends across
`down`/`up` (see `localcloud/state/`).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cloud import LocalCloud


class Extension:
    name = "extension"

    def __init__(self, cloud: "LocalCloud"):
        self.cloud = cloud

    def install(self) -> None:
        """Apply moto seams. Must be idempotent."""

    def start(self) -> None:
        """Start background work (threads, workers)."""

    def stop(self) -> None:
        """Stop background work; called once on shutdown."""

    def flush(self, timeout: float) -> dict[str, Any]:
        """Block until accepted work is delivered (or timeout); report what was done."""
        return {}

    def status(self) -> dict[str, Any]:
        return {}

    def wrap(self, app: Any) -> Any:
        """The WSGI app in front of moto's, if the service has to see requests first (IAM)."""
        return app

    def save_state(self) -> Any:
        """What this extension holds outside moto's backends, picklable (None: nothing). Called
        while the cloud runs (periodic saves): take a consistent copy."""
        return None

    def load_state(self, state: Any) -> None:
        """Take back what `save_state` returned; called after install, before start."""

    def cloudformation_types(self) -> tuple[type, ...]:
        """The CloudFormation resource types this service models: `RESOURCE_TYPES` of the
        `cloudformation` module of the extension's package (none when it has no such module).
        The CloudFormation extension's registry collects them from every extension."""
        package = type(self).__module__.rpartition(".")[0]
        name = f"{package}.cloudformation"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            return ()
        return tuple(module.RESOURCE_TYPES)
