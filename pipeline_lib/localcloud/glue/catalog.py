"""The crawler's reads and writes of moto's state: the crawler definition, the catalog tables and
partitions, S3 listings and object bytes, and the crawl log (every attribute named here is
declared in `seams.build_seams`)."""
from __future__ import annotations

import copy
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..moto_backends import backend as moto_backend
from ..moto_backends import stable_read
from .classify import UnreadableFile
from .config import CrawlerSpec
from .crawl import CrawlCancelled
from .model import CatalogState, CrawlPlan, S3Object, TableState, copy_json

log = logging.getLogger("pipeline_lib.localcloud.glue")

LOG_GROUP = "/aws-glue/crawlers"


# -- reading moto's state ------------------------------------------------------------------------
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
        partitions = stable_read(lambda: list(table.partitions.values()))
        return TableState(
            table=copy_json(table.as_dict()),
            partitions={tuple(p.values): copy_json(p.as_dict()) for p in partitions},
        )

    databases = stable_read(lambda: dict(backend.databases))
    tables: dict[tuple[str, str], TableState] = {}
    if spec.s3_targets and spec.database in databases:
        for name, table in stable_read(lambda: list(databases[spec.database].tables.items())):
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
    try:
        return moto_backend("s3", account_id, region).get_bucket(bucket)
    except Exception as exc:  # MissingBucket
        raise LookupError(f"S3 bucket {bucket} does not exist") from exc


def list_objects(account_id: str, region: str, bucket: str, prefix: str) -> list[S3Object]:
    """Every current object under `prefix` (delete markers excluded). Raises LookupError for a
    missing bucket."""
    from moto.s3.models import FakeKey

    fake_bucket = _bucket(account_id, region, bucket)
    items = stable_read(lambda: list(fake_bucket.keys.items()))  # moto's items() iterates a copy
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
        # FakeKey._value_buffer and .lock are declared in seams.build_seams (checked at install).
        with fake_key.lock:
            fake_key._value_buffer.seek(offset)
            return fake_key._value_buffer.read(length)

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
        events, self._events = self._events, []
        backend = moto_backend("logs", self.account_id, self.region)
        try:
            backend.ensure_log_group(LOG_GROUP)
            backend.ensure_log_stream(LOG_GROUP, self.stream)
            backend.put_log_events(LOG_GROUP, self.stream, sorted(events, key=lambda e: e["timestamp"]))
        except Exception:  # logging must never fail a crawl
            log.exception("writing the crawl log of %s failed", self.stream)
