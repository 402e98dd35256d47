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
        # DuckDB and sqlglot take a while to import (and more is loaded on first use): pay it now,
        # not on the first query (awswrangler polls a second later when a query takes > 250 ms).
        import threading

        def warm() -> None:
            try:
                from .engine import warm_up
                warm_up()
            except Exception:  # the first query reports a broken engine; warming must not
                pass

        threading.Thread(target=warm, name="warm-athena-engine", daemon=True).start()
        self._resume()

    def _resume(self) -> None:
        """Queries a loaded state holds unfinished: run again or failed (resume.py)."""
        from .resume import resume_executions

        with self.service._lock:
            unfinished = [e for region in self.service._regions.values()
                          for e in region.executions.values() if not e.finished]
        resume_executions(self.service, unfinished)

    def stop(self) -> None:
        self.service.shutdown()
        self.seams.restore()

    def flush(self, timeout: float) -> dict[str, Any]:
        """Wait for the queries accepted so far."""
        drained = self.service.wait(timeout)
        return {"drained": drained, "queries_running": self.service.running()}

    def save_state(self) -> dict[str, Any]:
        """Query history (executions still QUEUED or RUNNING too: resume.py decides at load
        whether they run again), tokens, work-group creation times and named/prepared statements
        (for localcloud/state/)."""
        from dataclasses import replace

        service = self.service
        with service._lock:
            regions = {}
            for key, region in service._regions.items():
                done = [(eid, replace(e, running_query=None, on_finish=None, action=None))
                        for eid, e in list(region.executions.items())]
                regions[key] = replace(region, executions=type(region.executions)(done),
                                       tokens=dict(region.tokens), work_groups_created=dict(region.work_groups_created))
            sequence = service._sequence
        with service.saved._lock:
            stores = dict(service.saved._stores)
        return {"regions": regions, "sequence": sequence, "saved": stores, "counts": dict(service.counts)}

    def load_state(self, state: dict[str, Any]) -> None:
        service = self.service
        with service._lock:
            service._regions = dict(state.get("regions", {}))
            service._sequence = state.get("sequence", 0)
            service.counts.update(state.get("counts", {}))
        with service.saved._lock:
            service.saved._stores = dict(state.get("saved", {}))

    def status(self) -> dict[str, Any]:
        from .engine.objectfiles import status as object_files

        # object_files: the scanned objects kept in memory for DuckDB (engine/objectfiles.py).
        return {"seams": self.seams.applied, "queries_running": self.service.running(),
                **self.service.counts, "object_files": object_files()}


def extension(cloud: "LocalCloud") -> AthenaExtension:
    return AthenaExtension(cloud)
