"""The Athena extension: installs the service's seams, runs its worker pool, reports status."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..extension import Extension
from ..seam import SeamSet
from .seams import build_seams, moto_backends
from .service import AthenaService

if TYPE_CHECKING:
    from ..cloud import LocalCloud

__all__ = ["AthenaExtension", "extension"]


class AthenaExtension(Extension):
    name = "athena"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.service = AthenaService(moto_backends())
        self.seams: SeamSet = build_seams(cloud)

    def install(self) -> None:
        self.seams.apply()

    def start(self) -> None:
        # DuckDB and sqlglot take a while to import: pay it now, not on the first query.
        import threading

        def warm() -> None:
            try:
                from . import engine  # noqa: F401
            except Exception:  # the first query reports a broken engine; warming must not
                pass

        threading.Thread(target=warm, name="warm-athena-engine", daemon=True).start()

    def stop(self) -> None:
        self.service.shutdown()
        self.seams.restore()

    def flush(self, timeout: float) -> dict[str, Any]:
        """Wait for the queries accepted so far."""
        drained = self.service.wait(timeout)
        return {"drained": drained, "queries_running": self.service.running()}

    def status(self) -> dict[str, Any]:
        return {"seams": self.seams.applied, "queries_running": self.service.running(),
                **self.service.counts}


def extension(cloud: "LocalCloud") -> AthenaExtension:
    return AthenaExtension(cloud)
