"""The crawl planner's inputs (S3 listings, the catalog's state) and outputs (the plan), and the
location and JSON helpers they share. Pure data, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from .classify import FileSchema

# The keys of a GetTable / GetPartitions result that TableInput / PartitionInput accept.
TABLE_INPUT_KEYS = (
    "Name", "Description", "Owner", "LastAccessTime", "LastAnalyzedTime", "Retention",
    "StorageDescriptor", "PartitionKeys", "ViewOriginalText", "ViewExpandedText", "TableType",
    "Parameters", "TargetTable",
)
PARTITION_INPUT_KEYS = ("Values", "LastAccessTime", "StorageDescriptor", "Parameters", "LastAnalyzedTime")

Values = tuple[str, ...]


# -- inputs --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    size: int
    last_modified: datetime | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class TableState:
    """A catalog table (GetTable's shape) and its partitions by values."""

    table: dict[str, Any]
    partitions: dict[Values, dict[str, Any]] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return normalize_location((self.table.get("StorageDescriptor") or {}).get("Location") or "")

    @property
    def partition_keys(self) -> list[str]:
        return [k["Name"] for k in self.table.get("PartitionKeys") or []]


@dataclass
class CatalogState:
    databases: frozenset[str]
    tables: dict[tuple[str, str], TableState]


ReadFile = Callable[[S3Object], FileSchema]


# -- outputs -------------------------------------------------------------------------------------
@dataclass
class TableChange:
    action: str  # "create" | "update" | "delete" | "deprecate"
    database: str
    name: str
    table_input: dict[str, Any] | None = None
    schema_changed: bool = False  # update only: columns / keys / formats changed (not just counts)


@dataclass
class PartitionChanges:
    database: str
    table: str
    create: list[dict[str, Any]] = field(default_factory=list)
    update: list[tuple[list[str], dict[str, Any]]] = field(default_factory=list)
    delete: list[list[str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.create or self.update or self.delete)


@dataclass
class CrawlPlan:
    tables: list[TableChange] = field(default_factory=list)
    partitions: list[PartitionChanges] = field(default_factory=list)
    log: list[tuple[str, str]] = field(default_factory=list)  # (level, message)
    errors: list[str] = field(default_factory=list)  # the crawl ends FAILED with the first one
    seen_folders: frozenset[str] = frozenset()  # leaf folders present, for incremental recrawls

    def info(self, message: str) -> None:
        self.log.append(("INFO", message))

    def warn(self, message: str) -> None:
        self.log.append(("WARN", message))

    @property
    def tables_created(self) -> int:
        return sum(1 for c in self.tables if c.action == "create")

    @property
    def tables_deleted(self) -> int:
        return sum(1 for c in self.tables if c.action in ("delete", "deprecate"))

    @property
    def tables_updated(self) -> int:
        touched = {(c.database, c.name) for c in self.tables if c.action == "update"}
        touched |= {(p.database, p.table) for p in self.partitions if p}
        created_or_gone = {(c.database, c.name) for c in self.tables if c.action != "update"}
        return len(touched - created_or_gone)


class CrawlFailed(Exception):
    """The crawl cannot go on (AWS ends it FAILED with this message)."""


# -- helpers -------------------------------------------------------------------------------------
def normalize_location(location: str) -> str:
    return location if not location or location.endswith("/") else location + "/"


def s3_uri(bucket: str, prefix: str) -> str:
    return f"s3://{bucket}/{prefix}"


def copy_json(value: Any) -> Any:
    """A copy of nested dicts and lists (leaves shared); much cheaper than deepcopy per partition."""
    if isinstance(value, dict):
        return {k: copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) for v in value]
    return value


def table_input_of(table: dict[str, Any]) -> dict[str, Any]:
    """The TableInput part of a GetTable result (drops CreateTime, VersionId...)."""
    return {k: copy_json(v) for k, v in table.items() if k in TABLE_INPUT_KEYS}


def partition_input_of(partition: dict[str, Any]) -> dict[str, Any]:
    return {k: copy_json(v) for k, v in partition.items() if k in PARTITION_INPUT_KEYS}
