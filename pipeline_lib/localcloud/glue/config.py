"""A crawler's definition as the crawl needs it: targets, policies, and its Configuration JSON.

Pure parsing and validation. Validation messages are AWS's own where AWS documents them, so a
template that CreateCrawler would reject on AWS is rejected locally too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

UPDATE_IN_DATABASE, LOG = "UPDATE_IN_DATABASE", "LOG"
DELETE_FROM_DATABASE, DEPRECATE_IN_DATABASE = "DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE"
CRAWL_EVERYTHING, CRAWL_NEW_FOLDERS_ONLY, CRAWL_EVENT_MODE = (
    "CRAWL_EVERYTHING",
    "CRAWL_NEW_FOLDERS_ONLY",
    "CRAWL_EVENT_MODE",
)
# CreateCrawler's defaults when SchemaChangePolicy / RecrawlPolicy are left out.
DEFAULT_UPDATE, DEFAULT_DELETE, DEFAULT_RECRAWL = UPDATE_IN_DATABASE, DEPRECATE_IN_DATABASE, CRAWL_EVERYTHING

_UPDATE_VALUES = (LOG, UPDATE_IN_DATABASE)
_DELETE_VALUES = (LOG, DELETE_FROM_DATABASE, DEPRECATE_IN_DATABASE)
_RECRAWL_VALUES = (CRAWL_EVERYTHING, CRAWL_NEW_FOLDERS_ONLY, CRAWL_EVENT_MODE)
_OTHER_TARGETS = ("JdbcTargets", "MongoDBTargets", "DynamoDBTargets", "DeltaTargets", "IcebergTargets", "HudiTargets")


class CrawlerConfigError(ValueError):
    """A crawler definition AWS would refuse (raised as InvalidInputException)."""


@dataclass(frozen=True)
class S3Target:
    path: str
    exclusions: tuple[str, ...] = ()
    sample_size: int | None = None

    @property
    def bucket(self) -> str:
        return split_s3_path(self.path)[0]

    @property
    def prefix(self) -> str:
        """The include path as a folder prefix: '' (bucket) or 'a/b/'."""
        return folder_prefix(split_s3_path(self.path)[1])


@dataclass(frozen=True)
class CatalogTarget:
    database: str
    tables: tuple[str, ...]


@dataclass(frozen=True)
class Configuration:
    """The crawler's Configuration JSON, the options the local crawler honours."""

    partitions_inherit_from_table: bool = False
    tables_merge_new_columns: bool = False
    table_threshold: int | None = None
    combine_compatible_schemas: bool = False
    table_level: int | None = None


@dataclass(frozen=True)
class CrawlerSpec:
    name: str
    database: str
    table_prefix: str = ""
    s3_targets: tuple[S3Target, ...] = ()
    catalog_targets: tuple[CatalogTarget, ...] = ()
    other_targets: tuple[str, ...] = ()  # target kinds the local crawler cannot crawl
    update_behavior: str = DEFAULT_UPDATE
    delete_behavior: str = DEFAULT_DELETE
    recrawl_behavior: str = DEFAULT_RECRAWL
    configuration: Configuration = field(default_factory=Configuration)

    @classmethod
    def from_api(cls, crawler: dict[str, Any]) -> "CrawlerSpec":
        """From a Crawler structure (GetCrawler's shape, or CreateCrawler's arguments)."""
        targets = crawler.get("Targets") or {}
        s3_targets = tuple(
            S3Target(
                path=t["Path"],
                exclusions=tuple(t.get("Exclusions") or ()),
                sample_size=t.get("SampleSize"),
            )
            for t in targets.get("S3Targets") or ()
        )
        catalog_targets = tuple(
            CatalogTarget(database=t["DatabaseName"], tables=tuple(t.get("Tables") or ()))
            for t in targets.get("CatalogTargets") or ()
        )
        policy = crawler.get("SchemaChangePolicy") or {}
        recrawl = crawler.get("RecrawlPolicy") or {}
        return cls(
            name=crawler["Name"],
            database=crawler.get("DatabaseName") or "",
            table_prefix=crawler.get("TablePrefix") or "",
            s3_targets=s3_targets,
            catalog_targets=catalog_targets,
            other_targets=tuple(k for k in _OTHER_TARGETS if targets.get(k)),
            update_behavior=policy.get("UpdateBehavior") or DEFAULT_UPDATE,
            delete_behavior=policy.get("DeleteBehavior") or DEFAULT_DELETE,
            recrawl_behavior=recrawl.get("RecrawlBehavior") or DEFAULT_RECRAWL,
            configuration=parse_configuration(crawler.get("Configuration")),
        )


def split_s3_path(path: str) -> tuple[str, str]:
    """('bucket', 'key/prefix') of an s3:// path."""
    if not path.startswith("s3://") or len(path) <= 5:
        raise CrawlerConfigError(f"S3 target path {path!r} must look like s3://bucket/prefix")
    bucket, _, key = path[5:].partition("/")
    if not bucket:
        raise CrawlerConfigError(f"S3 target path {path!r} has no bucket name")
    return bucket, key


def folder_prefix(key: str) -> str:
    key = key.strip("/")
    return f"{key}/" if key else ""


def parse_configuration(text: str | None) -> Configuration:
    """Parse the Configuration JSON string; unknown keys are refused as AWS refuses them."""
    if not text:
        return Configuration()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CrawlerConfigError(f"Crawler configuration is not valid JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(doc, dict):
        raise CrawlerConfigError("Crawler configuration must be a JSON object")
    _only(doc, "Configuration", {"Version", "CrawlerOutput", "Grouping", "CreatePartitionIndex"})
    output = _object(doc, "CrawlerOutput")
    _only(output, "CrawlerOutput", {"Partitions", "Tables"})
    partitions = _object(output, "Partitions", "CrawlerOutput.")
    _only(partitions, "CrawlerOutput.Partitions", {"AddOrUpdateBehavior"})
    tables = _object(output, "Tables", "CrawlerOutput.")
    _only(tables, "CrawlerOutput.Tables", {"AddOrUpdateBehavior", "TableThreshold"})
    grouping = _object(doc, "Grouping")
    _only(grouping, "Grouping", {"TableGroupingPolicy", "TableLevelConfiguration"})

    inherit = _enum(partitions, "AddOrUpdateBehavior", ("InheritFromTable",), "CrawlerOutput.Partitions")
    merge = _enum(tables, "AddOrUpdateBehavior", ("MergeNewColumns",), "CrawlerOutput.Tables")
    combine = _enum(grouping, "TableGroupingPolicy", ("CombineCompatibleSchemas",), "Grouping")
    return Configuration(
        partitions_inherit_from_table=inherit is not None,
        tables_merge_new_columns=merge is not None,
        table_threshold=_positive_int(tables, "TableThreshold", "CrawlerOutput.Tables"),
        combine_compatible_schemas=combine is not None,
        table_level=_positive_int(grouping, "TableLevelConfiguration", "Grouping"),
    )


def _object(doc: dict, key: str, where: str = "") -> dict:
    value = doc.get(key) or {}
    if not isinstance(value, dict):
        raise CrawlerConfigError(f"{where}{key} must be a JSON object")
    return value


def _only(doc: dict, where: str, allowed: set[str]) -> None:
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise CrawlerConfigError(f"{where} contains unsupported keys: {', '.join(unknown)}.")


def _enum(doc: dict, key: str, allowed: tuple[str, ...], where: str) -> str | None:
    value = doc.get(key)
    if value is not None and value not in allowed:
        raise CrawlerConfigError(f"{where}.{key} must be one of {', '.join(allowed)}; got {value!r}.")
    return value


def _positive_int(doc: dict, key: str, where: str) -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CrawlerConfigError(f"{where}.{key} must be a positive integer; got {value!r}.")
    return value


def validate(spec: CrawlerSpec) -> None:
    """Refuse definitions CreateCrawler refuses on AWS."""
    if spec.update_behavior not in _UPDATE_VALUES:
        raise CrawlerConfigError(f"SchemaChangePolicy.UpdateBehavior must be one of {', '.join(_UPDATE_VALUES)}.")
    if spec.delete_behavior not in _DELETE_VALUES:
        raise CrawlerConfigError(f"SchemaChangePolicy.DeleteBehavior must be one of {', '.join(_DELETE_VALUES)}.")
    if spec.recrawl_behavior not in _RECRAWL_VALUES:
        raise CrawlerConfigError(f"RecrawlPolicy.RecrawlBehavior must be one of {', '.join(_RECRAWL_VALUES)}.")
    for target in spec.s3_targets:
        split_s3_path(target.path)
        if target.sample_size is not None and not 1 <= int(target.sample_size) <= 249:
            raise CrawlerConfigError("SampleSize of an S3 target must be between 1 and 249.")
    for target in spec.catalog_targets:
        if not target.tables:
            raise CrawlerConfigError(f"Catalog target {target.database} must name at least one table.")
    if spec.recrawl_behavior == CRAWL_NEW_FOLDERS_ONLY:
        if spec.catalog_targets or spec.other_targets:
            raise CrawlerConfigError('RecrawlBehavior "Crawl new folders only" can only apply to Amazon S3 target.')
        if spec.update_behavior != LOG or spec.delete_behavior != LOG:
            raise CrawlerConfigError(
                'The SchemaChangePolicy for "Crawl new folders only" Amazon S3 target can have only '
                "LOG DeleteBehavior value and LOG UpdateBehavior value."
            )
