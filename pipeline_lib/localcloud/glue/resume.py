"""Crawls that were RUNNING (or STOPPING) when the state was saved run again after a load.

AWS keeps a started crawl going until it ends; the local cloud cannot continue a crawl thread of
another process, so it runs the crawl again from its start, as the same crawl (same id, start
time and elapsed time). That is safe because a crawl is idempotent: it plans against the catalog
as it is, so what an interrupted run already wrote is found and kept, not written twice (its
metrics then count it as unchanged rather than created). A crawl asked to stop before the save
ends CANCELLED, as it would have.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable

from .crawl import STATE_LOCK, is_local

if TYPE_CHECKING:
    from .engine import CrawlEngine

__all__ = ["unfinished_crawls", "resume_crawls"]

log = logging.getLogger("pipeline_lib.localcloud.glue")


def unfinished_crawls(backends: Iterable[Any]) -> list[tuple[Any, Any]]:
    """(crawler, crawl) for every crawler whose latest crawl is one of ours and not finished."""
    found = []
    for backend in backends:
        for crawler in list(backend.crawlers.values()):
            crawl = crawler.crawls[-1] if crawler.crawls else None
            if crawl is not None and is_local(crawl) and not crawl.finished:
                found.append((crawler, crawl))
    return found


def resume_crawls(engine: "CrawlEngine", backends: Iterable[Any]) -> int:
    """Run the unfinished crawls of a loaded state again; how many."""
    count = 0
    for crawler, crawl in unfinished_crawls(backends):
        started = getattr(crawl, "start_time", None)
        elapsed = 0.0
        if isinstance(started, datetime):
            now = datetime.now(timezone.utc).replace(tzinfo=None) if started.tzinfo is None else datetime.now(timezone.utc)
            elapsed = max(0.0, (now - started).total_seconds())
        with STATE_LOCK:
            if crawl.status == "STOPPING" and not crawl.cancel.is_set():
                crawl._phase = "RUNNING"  # the run ended before it stopped: run it again
            crawl.started_monotonic = time.monotonic() - elapsed
        log.info("crawler %s: crawl %s was running when the state was saved; running it again",
                 crawler.name, crawl.crawl_id)
        engine.launch(crawler, crawl)
        count += 1
    return count
