"""The shape every local-cloud extension has.

An extension makes one managed behaviour real (a Lambda runtime, a delivery engine, a crawler).
`install` applies its moto seams (done once, before the server answers); `start`/`stop` run its
background work; `flush` returns when everything it accepted so far has been delivered;
`status` summarises what it holds for `local status`.
"""
from __future__ import annotations

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
