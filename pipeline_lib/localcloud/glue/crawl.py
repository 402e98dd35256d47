"""The crawl object: moto's FakeCrawl, driven by the crawl thread instead of advancing on reads.

moto's `FakeCrawler.start_crawler` appends a FakeCrawl; the start seam swaps it for a
`LocalCrawl.adopt`ed copy (seams.py). What it reads of FakeCrawl (``crawl_id``, ``log_group``,
``log_stream``, ``message_prefix``, ``start_time``, ``end_time``, ManagedState's ``status``) is
declared in `seams.build_seams`.
"""
from __future__ import annotations

import json
import statistics
import threading
import time
from datetime import datetime, timezone
from typing import Any

from moto.glue.models import FakeCrawl

FINAL_PHASES = ("COMPLETED", "STOPPED", "FAILED")
LAST_CRAWL_STATUS = {"COMPLETED": "SUCCEEDED", "STOPPED": "CANCELLED", "FAILED": "FAILED"}

# Serialises start/stop/phase changes: moto's check-then-append is not atomic across threads.
STATE_LOCK = threading.RLock()


class CrawlCancelled(Exception):
    """StopCrawler arrived: end the crawl as CANCELLED."""


class LocalCrawl(FakeCrawl):  # type: ignore[misc]
    """A crawl whose phase the crawl thread drives (moto's FakeCrawl advances on reads).

    Phases: RUNNING → STOPPING → COMPLETED | STOPPED | FAILED (moto's FakeCrawler maps these
    to the crawler states RUNNING, STOPPING, READY)."""

    @classmethod
    def adopt(cls, crawl: Any) -> "LocalCrawl":
        obj = cls.__new__(cls)
        obj.__dict__.update(crawl.__dict__)
        obj._phase = "RUNNING"
        obj.cancel = threading.Event()
        obj.started_monotonic = time.monotonic()
        obj.runtime_seconds = None
        obj.error_message = None
        obj.metrics = {"TablesCreated": 0, "TablesUpdated": 0, "TablesDeleted": 0}
        obj.summary = {}
        obj.seen_folders = None
        return obj

    @property  # type: ignore[override]
    def status(self) -> str:
        return self._phase

    @status.setter
    def status(self, value: str) -> None:
        # moto's stop_crawler writes "STOPPING": for a running crawl that is a stop request.
        with STATE_LOCK:
            if value == "STOPPING" and self._phase == "RUNNING":
                self.cancel.set()
            self._phase = value

    @property
    def finished(self) -> bool:
        return self._phase in FINAL_PHASES

    def enter_stopping(self) -> None:
        with STATE_LOCK:
            if self._phase == "RUNNING":
                self._phase = "STOPPING"

    def finish(self, outcome: str, error: str | None, metrics: dict[str, int], summary: dict, seen: frozenset[str] | None) -> None:
        """Record the outcome, then (last) make the crawler READY, so a poller that sees READY
        always sees the outcome too."""
        self.error_message = error
        self.metrics = metrics
        self.summary = summary
        self.seen_folders = seen
        self.runtime_seconds = time.monotonic() - self.started_monotonic
        self.end_time = datetime.now(timezone.utc).replace(tzinfo=None)
        phase = {"SUCCEEDED": "COMPLETED", "CANCELLED": "STOPPED"}.get(outcome, "FAILED")
        with STATE_LOCK:
            self._phase = phase

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started_monotonic) * 1000)

    def last_crawl_info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "Status": LAST_CRAWL_STATUS[self._phase],
            "LogGroup": self.log_group,
            "LogStream": self.log_stream,
            "MessagePrefix": self.message_prefix,
            "StartTime": self.start_time,
        }
        if self.error_message:
            info["ErrorMessage"] = self.error_message
        return info

    def as_dict(self) -> dict[str, Any]:  # ListCrawls' CrawlerHistory
        data = super().as_dict()
        if self.finished:
            data["Summary"] = json.dumps(self.summary)
            if self.error_message:
                data["ErrorMessage"] = self.error_message
        return data


def is_local(crawl: Any) -> bool:
    return isinstance(crawl, LocalCrawl)


def last_finished_crawl(crawler: Any) -> Any | None:
    for crawl in reversed(crawler.crawls):
        if is_local(crawl) and crawl.finished:
            return crawl
    return None


def last_successful_crawl(crawler: Any) -> Any | None:
    for crawl in reversed(crawler.crawls):
        if is_local(crawl) and crawl.status == "COMPLETED":
            return crawl
    return None


def crawler_metrics(crawler: Any) -> dict[str, Any]:
    """CrawlerMetrics of one crawler, from its crawls."""
    finished = [c for c in crawler.crawls if is_local(c) and c.finished]
    runtimes = [c.runtime_seconds for c in finished if c.runtime_seconds is not None]
    current = crawler.crawls[-1] if crawler.crawls else None
    running = current is not None and is_local(current) and not current.finished
    median = statistics.median(runtimes) if runtimes else 0.0
    last = finished[-1] if finished else None
    metrics = {
        "CrawlerName": crawler.name,
        "TimeLeftSeconds": max(0.0, median - current.elapsed_ms() / 1000) if running and runtimes else 0.0,
        "StillEstimating": bool(running and not runtimes),
        "LastRuntimeSeconds": round(runtimes[-1], 3) if runtimes else 0.0,
        "MedianRuntimeSeconds": round(median, 3),
        "TablesCreated": 0,
        "TablesUpdated": 0,
        "TablesDeleted": 0,
    }
    if last is not None:
        metrics.update(last.metrics)
    return metrics
