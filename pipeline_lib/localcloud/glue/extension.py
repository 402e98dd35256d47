"""The Glue extension: StartCrawler runs a real crawl (see the package docstring)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..extension import Extension
from .seams import build_seams
from .engine import CrawlEngine

if TYPE_CHECKING:
    from ..cloud import LocalCloud


class GlueExtension(Extension):
    name = "glue"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.engine = CrawlEngine(cloud)
        self.seams = build_seams(cloud)

    def install(self) -> None:
        self.seams.apply()

    def start(self) -> None:
        """Crawls a loaded state holds unfinished run again (resume.py)."""
        from ..moto_backends import backends
        from .resume import resume_crawls

        resume_crawls(self.engine, backends("glue"))

    def stop(self) -> None:
        self.engine.shutdown()

    def flush(self, timeout: float) -> dict[str, Any]:
        """Wait for the crawls running now (a crawl started is work accepted)."""
        done = self.engine.wait(timeout)
        return {"crawls_running": self.engine.running(), "drained": done}

    def status(self) -> dict[str, Any]:
        return {"crawls_running": self.engine.running(), "crawls_finished": dict(self.engine.crawls_finished)}


def extension(cloud: "LocalCloud") -> GlueExtension:
    return GlueExtension(cloud)
