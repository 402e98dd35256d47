"""The local Glue crawler: StartCrawler runs a real crawl of the crawler's targets.

S3 targets become tables (columns from Parquet footers or JSON records, ``key=value`` folders as
string partition keys, partitions with their locations, the crawler's table parameters); catalog
targets get the partitions found under their location. SchemaChangePolicy, RecrawlPolicy and the
Configuration JSON apply; the crawler goes RUNNING → STOPPING → READY with LastCrawl set;
GetCrawlerMetrics and StopCrawler work. Modules: `planner` (pure planning, with `discover`: tables
in S3 listings, `table_inputs`: what is written, `model`: inputs and the plan), `classify` and
`schema` (formats and types), `config` (the crawler definition), `seams` (moto), `engine` (runs).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..extension import Extension
from . import seams
from .engine import CrawlEngine

if TYPE_CHECKING:
    from ..cloud import LocalCloud


class GlueCrawlerExtension(Extension):
    name = "glue_crawler"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.engine = CrawlEngine(cloud)

    def install(self) -> None:
        seams.install(self.engine)

    def stop(self) -> None:
        self.engine.shutdown()

    def flush(self, timeout: float) -> dict[str, Any]:
        """Wait for the crawls running now (a crawl started is work accepted)."""
        done = self.engine.wait(timeout)
        return {"crawls_running": self.engine.running(), "drained": done}

    def status(self) -> dict[str, Any]:
        return {"crawls_running": self.engine.running(), "crawls_finished": dict(self.engine.crawls_finished)}


def extension(cloud: "LocalCloud") -> GlueCrawlerExtension:
    return GlueCrawlerExtension(cloud)
