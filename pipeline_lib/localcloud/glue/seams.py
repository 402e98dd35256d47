"""Where the local crawler meets moto: patches, one added handler, and what it reads and writes.

Every moto internal this package touches is here, declared in one ``..seam.SeamSet``
(`glue_seams`) and checked at install time against the signature it was written for (moto
5.2.5); a mismatch stops the cloud with an error naming moto's version, and installing twice
patches once.

Seams
-----
Wrapped (moto's own code still runs inside):

* ``moto.glue.models.FakeCrawler.start_crawler(self)`` — after moto's check
  (CrawlerRunningException), the new crawl becomes a ``LocalCrawl`` and the crawl thread starts.
  Also refuses a start while the crawler is STOPPING.
* ``moto.glue.models.FakeCrawler.stop_crawler(self)`` — CrawlerStoppingException while stopping;
  moto's own code then sets the crawl's status to STOPPING, which ``LocalCrawl`` takes as a stop
  request.
* ``moto.glue.models.FakeCrawler.as_dict(self)`` — ``LastCrawl`` is the last *finished* crawl with
  AWS's statuses (SUCCEEDED | CANCELLED | FAILED) and ``ErrorMessage``; ``CrawlElapsedTime``.
* ``moto.glue.models.GlueBackend.create_crawler(self, name, role, database_name, description,
  targets, schedule, classifiers, table_prefix, schema_change_policy, recrawl_policy,
  lineage_configuration, configuration, crawler_security_configuration, tags)`` — refuses the
  definitions AWS refuses (InvalidInputException).
* ``moto.glue.models.GlueBackend.delete_crawler(self, name)`` — CrawlerRunningException while a
  crawl runs, as on AWS.

Added: ``moto.glue.responses.GlueResponse.get_crawler_metrics(self)`` (GetCrawlerMetrics).

Subclassed: ``moto.glue.models.FakeCrawl`` (its ``crawl_id``, ``log_group``, ``log_stream``,
``message_prefix``, ``start_time``, ``end_time`` attributes and ManagedState's ``status``).

Read and written: ``GlueBackend.crawlers / databases / get_database / get_table / create_table /
update_table / delete_table``; ``FakeCrawler.crawls / name / backend / database_name / targets /
table_prefix / schema_change_policy / recrawl_policy / configuration``; ``FakeTable.partitions /
create_partition / update_partition / delete_partition / as_dict``; ``FakePartition.values /
as_dict``; ``GlueResponse.parameters / glue_backend``; ``s3_backends[account][partition]
.get_bucket``, ``FakeBucket.keys``, ``FakeKey.size / last_modified / lock / _value_buffer``;
``logs_backends[account][region].ensure_log_group / ensure_log_stream / put_log_events``.

Signatures (and the module attributes named) are checked by `glue_seams().check()`, which
install runs first; instance attributes, which no signature shows, are covered by the
behavioural tests in tests/integration/test_glue_crawler.py.
"""
from __future__ import annotations

import copy
import logging
import statistics
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..seam import MOTO_VERSION_WRITTEN_FOR, SeamError, SeamSet
from .classify import UnreadableFile
from .config import CrawlerConfigError, CrawlerSpec, validate
from .model import CatalogState, CrawlPlan, S3Object, TableState, copy_json

if TYPE_CHECKING:
    from .engine import CrawlEngine

log = logging.getLogger("pipeline_lib.localcloud.glue_crawler")

LOG_GROUP = "/aws-glue/crawlers"
FINAL_PHASES = ("COMPLETED", "STOPPED", "FAILED")
LAST_CRAWL_STATUS = {"COMPLETED": "SUCCEEDED", "STOPPED": "CANCELLED", "FAILED": "FAILED"}

# Serialises start/stop/phase changes: moto's check-then-append is not atomic across threads.
_STATE_LOCK = threading.RLock()
_engine: "CrawlEngine | None" = None


class CrawlCancelled(Exception):
    """StopCrawler arrived: end the crawl as CANCELLED."""


# -- the seams -----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def glue_seams() -> SeamSet:
    """Every moto internal this package patches, adds, calls or reads by name."""
    from moto.glue import exceptions, models, responses
    from moto.logs import models as logs_models
    from moto.s3 import models as s3_models
    from moto.utilities import utils

    seams = SeamSet("glue_crawler")
    seams.replace(models.FakeCrawler, "start_crawler", ("self",), _start_crawler)
    seams.replace(models.FakeCrawler, "stop_crawler", ("self",), _stop_crawler)
    seams.replace(models.FakeCrawler, "as_dict", ("self",), _crawler_as_dict)
    seams.replace(models.GlueBackend, "create_crawler", (
        "self", "name", "role", "database_name", "description", "targets", "schedule", "classifiers",
        "table_prefix", "schema_change_policy", "recrawl_policy", "lineage_configuration", "configuration",
        "crawler_security_configuration", "tags",
    ), _create_crawler)
    seams.replace(models.GlueBackend, "delete_crawler", ("self", "name"), _delete_crawler)
    seams.add(responses.GlueResponse, "get_crawler_metrics", _get_crawler_metrics)
    for owner, name, params in (
        (models.GlueBackend, "get_database", ("self", "database_name")),
        (models.GlueBackend, "get_table", ("self", "database_name", "table_name")),
        (models.GlueBackend, "create_table", ("self", "database_name", "table_name", "table_input", "open_table_format_input")),
        (models.GlueBackend, "update_table", ("self", "database_name", "table_name", "table_input")),
        (models.GlueBackend, "delete_table", ("self", "database_name", "table_name")),
        (models.FakeTable, "create_partition", ("self", "partiton_input")),
        (models.FakeTable, "update_partition", ("self", "old_values", "partiton_input")),
        (models.FakeTable, "delete_partition", ("self", "values")),
        (models.FakeTable, "as_dict", ("self", "version")),
        (models.FakePartition, "as_dict", ("self",)),
        (models.FakeCrawl, "__init__", ("self", "crawler_name")),
        (s3_models.S3Backend, "get_bucket", ("self", "bucket_name")),
        (logs_models.LogsBackend, "ensure_log_group", ("self", "log_group_name")),
        (logs_models.LogsBackend, "ensure_log_stream", ("self", "log_group_name", "log_stream_name")),
        (logs_models.LogsBackend, "put_log_events", ("self", "log_group_name", "log_stream_name", "log_events")),
    ):
        seams.expect(owner, name, params)
    for module, names in (
        (models, ("FakeCrawler", "FakeCrawl", "glue_backends")),
        (exceptions, ("CrawlerRunningException", "CrawlerNotRunningException", "GlueClientError",
                      "InvalidInputException", "PartitionAlreadyExistsException", "PartitionNotFoundException",
                      "TableAlreadyExistsException", "EntityNotFoundException")),
        (s3_models, ("s3_backends", "FakeKey")),
        (logs_models, ("logs_backends",)),
        (utils, ("get_partition",)),
    ):
        for name in names:
            seams.expect(module, name)
    return seams


# -- the crawl object ----------------------------------------------------------------------------
def _local_crawl_class() -> type:
    from moto.glue.models import FakeCrawl

    class LocalCrawl(FakeCrawl):  # type: ignore[misc, valid-type]
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
            with _STATE_LOCK:
                if value == "STOPPING" and self._phase == "RUNNING":
                    self.cancel.set()
                self._phase = value

        @property
        def finished(self) -> bool:
            return self._phase in FINAL_PHASES

        def enter_stopping(self) -> None:
            with _STATE_LOCK:
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
            with _STATE_LOCK:
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
                import json

                data["Summary"] = json.dumps(self.summary)
                if self.error_message:
                    data["ErrorMessage"] = self.error_message
            return data

    return LocalCrawl


_LOCAL_CRAWL: type | None = None


def local_crawl_class() -> type:
    global _LOCAL_CRAWL
    if _LOCAL_CRAWL is None:
        _LOCAL_CRAWL = _local_crawl_class()
    return _LOCAL_CRAWL


def _is_local(crawl: Any) -> bool:
    return _LOCAL_CRAWL is not None and isinstance(crawl, _LOCAL_CRAWL)


def last_finished_crawl(crawler: Any) -> Any | None:
    for crawl in reversed(crawler.crawls):
        if _is_local(crawl) and crawl.finished:
            return crawl
    return None


def last_successful_crawl(crawler: Any) -> Any | None:
    for crawl in reversed(crawler.crawls):
        if _is_local(crawl) and crawl.status == "COMPLETED":
            return crawl
    return None


# -- patches -------------------------------------------------------------------------------------
def install(engine: "CrawlEngine") -> None:
    """Apply the seams (idempotent: a second install only re-points them at `engine`)."""
    global _engine
    seams = glue_seams()
    seams.check()
    local_crawl_class()
    _engine = engine
    seams.apply()


def _start_crawler(original: Callable) -> Callable:
    def start_crawler(self: Any) -> None:
        from moto.glue.exceptions import CrawlerRunningException

        with _STATE_LOCK:
            if self.crawls and self.crawls[-1].status == "STOPPING":
                raise CrawlerRunningException(f"Crawler with name {self.name} has already started")
            original(self)  # moto's validation, then it appends a FakeCrawl
            crawl = local_crawl_class().adopt(self.crawls[-1])
            self.crawls[-1] = crawl
        if _engine is None:
            raise SeamError("the Glue crawler extension is patched in but has no engine")
        _engine.launch(self, crawl)

    return start_crawler


def _stop_crawler(original: Callable) -> Callable:
    def stop_crawler(self: Any) -> None:
        from moto.glue.exceptions import GlueClientError

        with _STATE_LOCK:
            if self.crawls and self.crawls[-1].status == "STOPPING":
                raise GlueClientError("CrawlerStoppingException", f"Crawler with name {self.name} is stopping")
            original(self)

    return stop_crawler


def _crawler_as_dict(original: Callable) -> Callable:
    def as_dict(self: Any) -> dict[str, Any]:
        data = original(self)
        if not any(_is_local(c) for c in self.crawls):
            return data
        finished = last_finished_crawl(self)
        if finished is None:
            data.pop("LastCrawl", None)
        else:
            data["LastCrawl"] = finished.last_crawl_info()
        current = self.crawls[-1]
        data["CrawlElapsedTime"] = current.elapsed_ms() if _is_local(current) and not current.finished else 0
        return data

    return as_dict


def _create_crawler(original: Callable) -> Callable:
    def create_crawler(self: Any, name: str, role: str, database_name: str, description: str, targets: dict,
                       schedule: str, classifiers: list, table_prefix: str, schema_change_policy: dict,
                       recrawl_policy: dict, lineage_configuration: dict, configuration: str,
                       crawler_security_configuration: str, tags: dict) -> Any:
        from moto.glue.exceptions import InvalidInputException

        try:
            validate(
                CrawlerSpec.from_api(
                    {
                        "Name": name,
                        "DatabaseName": database_name,
                        "Targets": targets,
                        "TablePrefix": table_prefix,
                        "SchemaChangePolicy": schema_change_policy,
                        "RecrawlPolicy": recrawl_policy,
                        "Configuration": configuration,
                    }
                )
            )
        except CrawlerConfigError as exc:
            raise InvalidInputException("CreateCrawler", str(exc)) from None
        return original(self, name, role, database_name, description, targets, schedule, classifiers,
                        table_prefix, schema_change_policy, recrawl_policy, lineage_configuration,
                        configuration, crawler_security_configuration, tags)

    return create_crawler


def _delete_crawler(original: Callable) -> Callable:
    def delete_crawler(self: Any, name: str) -> None:
        from moto.glue.exceptions import CrawlerRunningException

        crawler = self.crawlers.get(name)
        if crawler is not None and crawler.crawls and crawler.crawls[-1].status in ("RUNNING", "STOPPING"):
            raise CrawlerRunningException(f"Crawler with name {name} is running; stop it before deleting it.")
        original(self, name)

    return delete_crawler


def crawler_metrics(crawler: Any) -> dict[str, Any]:
    """CrawlerMetrics of one crawler, from its crawls."""
    finished = [c for c in crawler.crawls if _is_local(c) and c.finished]
    runtimes = [c.runtime_seconds for c in finished if c.runtime_seconds is not None]
    current = crawler.crawls[-1] if crawler.crawls else None
    running = current is not None and _is_local(current) and not current.finished
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


def _get_crawler_metrics(self: Any) -> Any:
    """GetCrawlerMetrics: CrawlerNameList (all crawlers when absent), MaxResults, NextToken."""
    from moto.core.responses import ActionResult
    from moto.glue.exceptions import InvalidInputException

    params = self.parameters
    backend = self.glue_backend
    names = params.get("CrawlerNameList")
    crawlers = [backend.crawlers[n] for n in names if n in backend.crawlers] if names else list(backend.crawlers.values())
    try:
        start = int(params.get("NextToken") or 0)
    except ValueError:
        raise InvalidInputException("GetCrawlerMetrics", "NextToken is not one this API returned.") from None
    size = int(params.get("MaxResults") or 1000)
    page = crawlers[start : start + size]
    result: dict[str, Any] = {"CrawlerMetricsList": [crawler_metrics(c) for c in page]}
    if start + size < len(crawlers):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


# -- reading moto's state ------------------------------------------------------------------------
def _stable(read: Callable[[], Any], attempts: int = 50) -> Any:
    """Run a read of moto's dicts, again if a request thread resized one mid-iteration."""
    for _ in range(attempts - 1):
        try:
            return read()
        except RuntimeError as exc:
            if "changed size during iteration" not in str(exc) and "mutated during iteration" not in str(exc):
                raise
    return read()


def crawler_spec(crawler: Any) -> CrawlerSpec:
    return CrawlerSpec.from_api(
        {
            "Name": crawler.name,
            "DatabaseName": crawler.database_name,
            "Targets": crawler.targets,
            "TablePrefix": crawler.table_prefix,
            "SchemaChangePolicy": crawler.schema_change_policy,
            "RecrawlPolicy": crawler.recrawl_policy,
            "Configuration": crawler.configuration,
        }
    )


def catalog_snapshot(backend: Any, spec: CrawlerSpec) -> CatalogState:
    """Copies of the tables (and partitions) the crawl may touch."""

    def table_state(table: Any) -> TableState:
        partitions = _stable(lambda: list(table.partitions.values()))
        return TableState(
            table=copy_json(table.as_dict()),
            partitions={tuple(p.values): copy_json(p.as_dict()) for p in partitions},
        )

    databases = _stable(lambda: dict(backend.databases))
    tables: dict[tuple[str, str], TableState] = {}
    if spec.s3_targets and spec.database in databases:
        for name, table in _stable(lambda: list(databases[spec.database].tables.items())):
            tables[(spec.database, name)] = table_state(table)
    for target in spec.catalog_targets:
        database = databases.get(target.database)
        for name in target.tables:
            table = database.tables.get(name) if database is not None else None
            if table is not None:
                tables[(target.database, name)] = table_state(table)
    return CatalogState(frozenset(databases), tables)


def _bucket(account_id: str, region: str, bucket: str) -> Any:
    """moto's FakeBucket; LookupError when it does not exist."""
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    try:
        return s3_backends[account_id][get_partition(region)].get_bucket(bucket)
    except Exception as exc:  # MissingBucket
        raise LookupError(f"S3 bucket {bucket} does not exist") from exc


def list_objects(account_id: str, region: str, bucket: str, prefix: str) -> list[S3Object]:
    """Every current object under `prefix` (delete markers excluded). Raises LookupError for a
    missing bucket."""
    from moto.s3.models import FakeKey

    fake_bucket = _bucket(account_id, region, bucket)
    items = _stable(lambda: list(fake_bucket.keys.items()))  # moto's items() iterates a copy
    return [
        S3Object(bucket, name, key.size, key.last_modified)
        for name, key in items
        if name.startswith(prefix) and isinstance(key, FakeKey)
    ]


def object_reader(account_id: str, region: str, bucket: str) -> Callable[[str, int, int], bytes]:
    """`read(key, offset, length)` for one bucket: bytes of an object without copying the rest
    (the footer of a large Parquet file is all a crawler reads)."""
    fake_bucket = _bucket(account_id, region, bucket)

    def read(key: str, offset: int, length: int) -> bytes:
        fake_key = fake_bucket.keys.get(key)
        if fake_key is None or not hasattr(fake_key, "size"):
            raise UnreadableFile("the object was deleted during the crawl")
        buffer = getattr(fake_key, "_value_buffer", None)
        lock = getattr(fake_key, "lock", None)
        if buffer is None or lock is None:
            raise SeamError(f"moto's FakeKey has no _value_buffer/lock (written for moto {MOTO_VERSION_WRITTEN_FOR})")
        with lock:
            buffer.seek(offset)
            return buffer.read(length)

    return read


# -- writing the plan ----------------------------------------------------------------------------
@dataclass
class Applied:
    """What a plan actually changed (some changes can race with clients)."""

    created: set[tuple[str, str]] = field(default_factory=set)
    updated: set[tuple[str, str]] = field(default_factory=set)
    deleted: set[tuple[str, str]] = field(default_factory=set)
    partitions_created: int = 0
    partitions_updated: int = 0
    partitions_deleted: int = 0

    def metrics(self) -> dict[str, int]:
        return {
            "TablesCreated": len(self.created),
            "TablesUpdated": len(self.updated - self.created - self.deleted),
            "TablesDeleted": len(self.deleted),
        }

    def summary(self) -> dict[str, Any]:
        """ListCrawls' Summary JSON."""
        return {
            "TABLE": {"CREATE": {"Count": len(self.created)}, "UPDATE": {"Count": len(self.updated - self.created - self.deleted)}, "DELETE": {"Count": len(self.deleted)}},
            "PARTITION": {"CREATE": {"Count": self.partitions_created}, "UPDATE": {"Count": self.partitions_updated}, "DELETE": {"Count": self.partitions_deleted}},
        }


def apply_plan(backend: Any, plan: CrawlPlan, should_stop: Callable[[], bool], warn: Callable[[str], None]) -> Applied:
    """Write the plan through moto's backend. Checks for a stop request between tables."""
    from moto.glue.exceptions import EntityNotFoundException, TableAlreadyExistsException

    applied = Applied()
    for change in plan.tables:
        if should_stop():
            raise CrawlCancelled()
        key = (change.database, change.name)
        try:
            if change.action == "create":
                try:
                    backend.create_table(change.database, change.name, copy.deepcopy(change.table_input))
                    applied.created.add(key)
                except TableAlreadyExistsException:  # a client created it meanwhile
                    backend.update_table(change.database, change.name, copy.deepcopy(change.table_input))
                    applied.updated.add(key)
            elif change.action in ("update", "deprecate"):
                backend.update_table(change.database, change.name, copy.deepcopy(change.table_input))
                (applied.deleted if change.action == "deprecate" else applied.updated).add(key)
            elif change.action == "delete":
                backend.delete_table(change.database, change.name)
                applied.deleted.add(key)
        except EntityNotFoundException as exc:
            warn(f"Could not {change.action} table {change.name} in database {change.database}: {exc.message}")
    for changes in plan.partitions:
        if should_stop():
            raise CrawlCancelled()
        try:
            table = backend.get_table(changes.database, changes.table)
        except EntityNotFoundException:
            warn(f"Table {changes.table} in database {changes.database} vanished; its partitions were not written.")
            continue
        created, updated, deleted, existed = _write_partitions(table, changes)
        for values in existed:
            warn(f"Partition {values} of table {changes.table} already exists; left as is.")
        applied.partitions_created += created
        applied.partitions_updated += updated
        applied.partitions_deleted += deleted
        if created or updated or deleted:
            applied.updated.add((changes.database, changes.table))
    return applied


def _write_partitions(table: Any, changes: Any) -> tuple[int, int, int, list[list[str]]]:
    """Apply partition changes copy-on-write: moto's own FakeTable methods run on a staged copy
    of the partition dict, which then replaces the table's in one assignment, so a GetPartitions
    iterating the old dict in a request thread is never disturbed. The plan's inputs are the
    crawl's own (fresh per partition), so moto may keep them without a copy."""
    from moto.glue.exceptions import PartitionAlreadyExistsException, PartitionNotFoundException

    for _ in range(100):
        current = table.partitions
        staged = copy.copy(table)
        staged.partitions = OrderedDict(current)
        created = updated = deleted = 0
        existed: list[list[str]] = []
        for partition_input in changes.create:
            try:
                staged.create_partition(partition_input)
                created += 1
            except PartitionAlreadyExistsException:
                existed.append(list(partition_input["Values"]))
        for values, partition_input in changes.update:
            try:
                staged.update_partition(list(values), partition_input)
                updated += 1
            except PartitionNotFoundException:
                staged.create_partition(partition_input)
                created += 1
        for values in changes.delete:
            try:
                staged.delete_partition(list(values))
                deleted += 1
            except PartitionNotFoundException:
                pass
        if table.partitions is current:  # nobody wrote meanwhile: publish
            table.partitions = staged.partitions
            return created, updated, deleted, existed
    raise RuntimeError(f"partitions of table {table.name} kept changing while the crawler wrote them")


# -- crawl log -----------------------------------------------------------------------------------
class CrawlLog:
    """A crawl's log lines, written to CloudWatch Logs group /aws-glue/crawlers, stream = the
    crawler's name, each prefixed with the crawl id (LastCrawl.MessagePrefix), as AWS does."""

    def __init__(self, account_id: str, region: str, crawler_name: str, crawl_id: str):
        self.account_id = account_id
        self.region = region
        self.stream = crawler_name
        self.prefix = crawl_id
        self._events: list[dict[str, Any]] = []

    def line(self, level: str, message: str) -> None:
        self._events.append({"timestamp": int(time.time() * 1000), "message": f"[{self.prefix}] {level} : {message}"})
        log.debug("crawler %s: %s %s", self.stream, level, message)

    def lines(self, entries: Iterable[tuple[str, str]]) -> None:
        for level, message in entries:
            self.line(level, message)

    def flush(self) -> None:
        if not self._events:
            return
        from moto.logs.models import logs_backends

        events, self._events = self._events, []
        backend = logs_backends[self.account_id][self.region]
        try:
            backend.ensure_log_group(LOG_GROUP)
            backend.ensure_log_stream(LOG_GROUP, self.stream)
            backend.put_log_events(LOG_GROUP, self.stream, sorted(events, key=lambda e: e["timestamp"]))
        except Exception:  # logging must never fail a crawl
            log.exception("writing the crawl log of %s failed", self.stream)
