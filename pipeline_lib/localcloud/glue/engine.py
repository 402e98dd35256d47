"""Runs crawls: one thread per StartCrawler, RUNNING → STOPPING → READY, outcome in LastCrawl.

A crawl lists its targets through moto's S3 backend, classifies objects (Parquet footers only),
plans with `planner.plan_crawl` and writes the plan through moto's Glue backend. The only waits
are AWS's pacing on the cloud's time scale: a start-up before the crawl reads anything and a short
STOPPING phase; both end early when StopCrawler arrives or the cloud shuts down.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from . import catalog
from .crawl import CrawlCancelled, last_successful_crawl
from .classify import FileSchema, classify
from .config import CrawlerConfigError
from .model import CrawlFailed, CrawlPlan, S3Object
from .planner import listing_locations, plan_crawl
from .role_access import RoleChecks, role_checks

if TYPE_CHECKING:
    from ..cloud import LocalCloud

log = logging.getLogger("pipeline_lib.localcloud.glue")

# AWS crawlers take tens of seconds to start and a few to stop; scaled by the cloud's time scale
# (0.05 by default: 0.75 s and 0.25 s), so clients observe RUNNING and STOPPING as on AWS.
STARTUP_SECONDS = 15.0
STOPPING_SECONDS = 5.0


class CrawlEngine:
    def __init__(self, cloud: "LocalCloud"):
        self.cloud = cloud
        self._runs: dict[threading.Thread, Any] = {}  # crawl thread → its LocalCrawl
        self._lock = threading.Lock()
        self._shutdown = threading.Event()
        self.crawls_finished = {"SUCCEEDED": 0, "CANCELLED": 0, "FAILED": 0}

    # -- lifecycle ---------------------------------------------------------------------------
    def launch(self, crawler: Any, crawl: Any) -> None:
        thread = threading.Thread(target=self._run, args=(crawler, crawl), name=f"glue-crawl-{crawler.name}", daemon=True)
        with self._lock:
            self._runs[thread] = crawl
        if self._shutdown.is_set():
            crawl.cancel.set()
        thread.start()

    def running(self) -> int:
        with self._lock:
            return sum(1 for t in self._runs if t.is_alive())

    def wait(self, timeout: float) -> bool:
        """Wait for the crawls running now; True when all finished in time."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._runs)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every crawl (they end CANCELLED) and wait for their threads."""
        self._shutdown.set()
        with self._lock:
            crawls = list(self._runs.values())
        for crawl in crawls:
            crawl.cancel.set()
        self.wait(timeout)

    # -- one crawl ---------------------------------------------------------------------------
    def _run(self, crawler: Any, crawl: Any) -> None:
        """The crawl thread: crawl, then end the crawl with its outcome, whatever happened."""
        crawl_log = catalog.CrawlLog(crawler.backend.account_id, crawler.backend.region_name, crawler.name,
                                     crawl.crawl_id)
        outcome, error, seen = "FAILED", None, None
        applied = catalog.Applied()
        try:
            applied, plan = self._crawl(crawler, crawl, crawl_log)
            seen = plan.seen_folders
            if plan.errors:
                outcome, error = "FAILED", plan.errors[0]
                for message in plan.errors:
                    crawl_log.line("ERROR", message)
            else:
                outcome = "SUCCEEDED"
        except CrawlCancelled:
            outcome = "CANCELLED"
            crawl_log.line("INFO", "Crawl stopped on request (StopCrawler).")
        except CrawlFailed as exc:
            outcome, error = "FAILED", str(exc)
            crawl_log.line("ERROR", error)
        except Exception as exc:  # a bug or moto surprise: the crawl fails, the cloud goes on
            log.exception("crawl %s of crawler %s failed", crawl.crawl_id, crawler.name)
            outcome, error = "FAILED", f"Internal Service Exception: {type(exc).__name__}: {exc}"
            crawl_log.line("ERROR", error)
        finally:
            self._finish(crawler, crawl, crawl_log, outcome, error, applied, seen)

    def _stop_requested(self, crawl: Any) -> bool:
        return crawl.cancel.is_set() or self._shutdown.is_set()

    def _crawl(self, crawler: Any, crawl: Any, crawl_log: catalog.CrawlLog) -> tuple[catalog.Applied, CrawlPlan]:
        """Start-up pause, read the definition and the catalog, list and classify, plan, write."""
        backend = crawler.backend
        crawl_log.line("BENCHMARK", f"Running Start Crawl for Crawler {crawler.name}")
        crawl_log.flush()
        if crawl.cancel.wait(self.cloud.scaled(STARTUP_SECONDS)):
            raise CrawlCancelled()
        try:
            spec = catalog.crawler_spec(crawler)
        except CrawlerConfigError as exc:
            raise CrawlFailed(str(exc)) from None
        crawl_log.line(
            "INFO",
            f"Crawler configured with SchemaChangePolicy {{\"UpdateBehavior\":\"{spec.update_behavior}\","
            f"\"DeleteBehavior\":\"{spec.delete_behavior}\"}}, RecrawlBehavior {spec.recrawl_behavior}.",
        )
        checks = role_checks(self.cloud, crawler)  # the crawler's role: what it may read and write
        if checks is not None:
            for target in spec.catalog_targets:
                checks.read_catalog(target.database, list(target.tables))
        state = catalog.catalog_snapshot(backend, spec)
        previous = last_successful_crawl(crawler)
        plan = plan_crawl(
            spec,
            self._listings(backend, spec, state, checks),
            self._reader(backend, crawl, checks),
            state,
            crawl_id=crawl.crawl_id,
            now_ms=int(time.time() * 1000),
            previous_folders=previous.seen_folders if previous is not None else None,
        )
        crawl_log.line("BENCHMARK", f"Classification complete, writing results to database {spec.database}")
        crawl_log.lines(plan.log)
        crawl_log.flush()
        if checks is not None and not plan.errors:
            checks.write_plan(plan)
        applied = catalog.apply_plan(backend, plan, lambda: self._stop_requested(crawl),
                                     lambda m: crawl_log.line("WARN", m))
        crawl_log.line("BENCHMARK", "Finished writing to Catalog")
        return applied, plan

    @staticmethod
    def _listings(backend: Any, spec: Any, state: Any, checks: RoleChecks | None = None) -> dict[tuple[str, str], list[S3Object]]:
        """The S3 objects under each location the crawl reads."""
        listings: dict[tuple[str, str], list[S3Object]] = {}
        for bucket, prefix in listing_locations(spec, state):
            if checks is not None:
                checks.list_bucket(bucket, prefix)
            try:
                listings[(bucket, prefix)] = catalog.list_objects(backend.account_id, backend.region_name, bucket, prefix)
            except LookupError as exc:
                raise CrawlFailed(f"{exc}: cannot crawl s3://{bucket}/{prefix}") from None
        return listings

    def _reader(self, backend: Any, crawl: Any, checks: RoleChecks | None = None) -> Callable[[S3Object], FileSchema]:
        """Classify one object (reading only the bytes it needs); a stop request ends the crawl."""
        readers: dict[str, Any] = {}

        def read(obj: S3Object) -> FileSchema:
            if self._stop_requested(crawl):
                raise CrawlCancelled()
            if checks is not None:
                checks.get_object(obj.bucket, obj.key)
            if obj.bucket not in readers:
                readers[obj.bucket] = catalog.object_reader(backend.account_id, backend.region_name, obj.bucket)
            bucket_read = readers[obj.bucket]
            return classify(obj.size, lambda offset, length: bucket_read(obj.key, offset, length))

        return read

    def _finish(self, crawler: Any, crawl: Any, crawl_log: catalog.CrawlLog, outcome: str, error: str | None,
                applied: catalog.Applied, seen: frozenset[str] | None) -> None:
        """STOPPING for a moment (as AWS), then READY with the outcome recorded."""
        crawl.enter_stopping()
        crawl_log.flush()
        self._shutdown.wait(self.cloud.scaled(STOPPING_SECONDS))
        metrics = applied.metrics()
        crawl_log.line(
            "BENCHMARK",
            f"Crawler has finished running and is in state READY ({outcome}; tables created "
            f"{metrics['TablesCreated']}, updated {metrics['TablesUpdated']}, deleted {metrics['TablesDeleted']}; "
            f"partitions created {applied.partitions_created}, updated {applied.partitions_updated}, "
            f"deleted {applied.partitions_deleted})",
        )
        crawl_log.flush()
        crawl.finish(outcome, error, metrics, applied.summary(), seen)
        self.crawls_finished[outcome] += 1
        with self._lock:
            self._runs.pop(threading.current_thread(), None)
        log.info("crawler %s: crawl %s %s", crawler.name, crawl.crawl_id, outcome)
