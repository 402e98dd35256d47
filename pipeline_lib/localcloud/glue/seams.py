"""Where the local crawler meets moto: patches, one added handler, and the declaration of what
crawl.py and catalog.py read and write.

Every moto internal this package touches is declared here, in one ``..seam.SeamSet``
(`build_seams(cloud)`) and checked at install time against the signature it was written for (moto
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
as_dict``; ``GlueResponse.parameters / glue_backend``; ``moto_backends.backend("s3", ...).get_bucket``, ``FakeBucket.keys``, ``FakeKey.size / last_modified / lock / _value_buffer``;
``moto_backends.backend("logs", ...).ensure_log_group / ensure_log_stream / put_log_events``.

Signatures, module attributes and instance attributes (``SeamSet.reads``: found in moto's class
source) are checked by `build_seams(cloud).check()`, which install runs first.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..seam import SeamSet
from .config import CrawlerConfigError, CrawlerSpec, validate
from .crawl import STATE_LOCK, LocalCrawl, crawler_metrics, is_local, last_finished_crawl

if TYPE_CHECKING:
    from ..cloud import LocalCloud
    from .engine import CrawlEngine


def build_seams(cloud: "LocalCloud") -> SeamSet:
    """Every moto internal this package patches, adds, calls or reads by name; crawls run in
    `cloud`'s Glue extension's engine."""
    from moto.glue import exceptions, models, responses
    from moto.logs import models as logs_models
    from moto.s3 import models as s3_models

    from .. import moto_backends

    def engine() -> "CrawlEngine":
        return cloud.extension("glue").engine  # type: ignore[attr-defined]

    seams = SeamSet("glue")
    seams.replace(models.FakeCrawler, "start_crawler", ("self",), lambda original: _start_crawler(original, engine))
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
        (s3_models, ("FakeKey",)),
    ):
        for name in names:
            seams.expect(module, name)
    # Instance attributes read or written (crawl.py, catalog.py).
    seams.reads(models.FakeCrawl, "crawl_id", "log_group", "log_stream", "message_prefix", "start_time", "end_time",
                "status")
    seams.reads(models.FakeCrawler, "crawls", "name", "backend", "database_name", "targets", "table_prefix", "role",
                "schema_change_policy", "recrawl_policy", "configuration")
    seams.reads(models.GlueBackend, "crawlers", "databases")
    seams.reads(models.FakeTable, "partitions")
    seams.reads(models.FakePartition, "values")
    seams.reads(responses.GlueResponse, "parameters", "glue_backend")
    seams.reads(s3_models.FakeBucket, "keys")
    seams.reads(s3_models.FakeKey, "size", "last_modified", "lock", "_value_buffer")
    # Called by the CloudFormation models (cloudformation.py).
    for name in ("create_database", "update_database", "delete_database", "create_crawler", "get_crawler"):
        seams.expect(models.GlueBackend, name)
    moto_backends.declare(seams)
    return seams


def _start_crawler(original: Callable, engine: Callable[[], "CrawlEngine"]) -> Callable:
    def start_crawler(self: Any) -> None:
        from moto.glue.exceptions import CrawlerRunningException

        with STATE_LOCK:
            if self.crawls and self.crawls[-1].status == "STOPPING":
                raise CrawlerRunningException(f"Crawler with name {self.name} has already started")
            original(self)  # moto's validation, then it appends a FakeCrawl
            crawl = LocalCrawl.adopt(self.crawls[-1])
            self.crawls[-1] = crawl
        engine().launch(self, crawl)

    return start_crawler


def _stop_crawler(original: Callable) -> Callable:
    def stop_crawler(self: Any) -> None:
        from moto.glue.exceptions import GlueClientError

        with STATE_LOCK:
            if self.crawls and self.crawls[-1].status == "STOPPING":
                raise GlueClientError("CrawlerStoppingException", f"Crawler with name {self.name} is stopping")
            original(self)

    return stop_crawler


def _crawler_as_dict(original: Callable) -> Callable:
    def as_dict(self: Any) -> dict[str, Any]:
        data = original(self)
        if not any(is_local(c) for c in self.crawls):
            return data
        finished = last_finished_crawl(self)
        if finished is None:
            data.pop("LastCrawl", None)
        else:
            data["LastCrawl"] = finished.last_crawl_info()
        current = self.crawls[-1]
        data["CrawlElapsedTime"] = current.elapsed_ms() if is_local(current) and not current.finished else 0
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
