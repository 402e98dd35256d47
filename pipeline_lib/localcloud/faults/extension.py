"""The faults extension: the cloud's `Faults` (configured from PIPELINE_FAULTS at start, then by
the control API), its seams, and what `local status` shows of it."""
from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, Any

from ..extension import Extension
from .config import FaultConfig
from .injector import Faults
from .seams import build_seams

if TYPE_CHECKING:
    from ..cloud import LocalCloud


class FaultsExtension(Extension):
    name = "faults"

    def __init__(self, cloud: "LocalCloud", environ: dict[str, str] | None = None):
        super().__init__(cloud)
        # A bad PIPELINE_FAULTS stops the cloud at start with FaultConfigError's message.
        self.faults = Faults(FaultConfig.from_env(os.environ if environ is None else environ))
        self.seams = build_seams(cloud)

    def install(self) -> None:
        self.seams.apply()

    def control(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """GET: the configuration and counts; POST {"set": {...}, "replace": bool}: change it;
        DELETE: no faults; POST {"crash": true}: the whole cloud dies at once (SIGKILL)."""
        if method == "POST" and args.get("crash"):
            os.kill(os.getpid(), signal.SIGKILL)
        if method == "POST":
            base = FaultConfig() if args.get("replace") else self.faults.config
            self.faults.configure(base.merged(args.get("set") or {}))
        elif method == "DELETE":
            self.faults.configure(FaultConfig())
        return {"config": self.faults.config.to_dict(), "injected": dict(self.faults.injected)}

    def status(self) -> dict[str, Any]:
        return self.faults.status()


def extension(cloud: "LocalCloud") -> FaultsExtension:
    return FaultsExtension(cloud)
