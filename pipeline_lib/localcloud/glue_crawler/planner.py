"""Plan one crawl: from S3 listings, a classifier and the catalog's state to catalog changes.

Pure logic, no I/O: the caller lists the objects, supplies `read` (object → FileSchema) and a
snapshot of the catalog, then applies the returned plan. The rules follow the Glue developer
guide:

* S3 targets: under each include path the crawler finds table roots. A folder whose data share a
  format, sit at one depth and have similar schemas (a majority of leaf folders with at least 70%
  of the merged columns; any compatible schemas with ``CombineCompatibleSchemas``) is one table;
  otherwise each sub-folder is considered on its own. ``TableLevelConfiguration`` fixes the level
  (the bucket is level 1). Folders below a table root are partitions: ``key=value`` folders give
  a string partition key ``key``, other folders ``partition_0``, ``partition_1``...
* Catalog targets: the table exists; its location is crawled and the folders become partitions
  of its partition keys, in order.
* SchemaChangePolicy, RecrawlPolicy and the Configuration JSON decide what changes are written.
"""
from __future__ import annotations

import copy
import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from .classify import FileSchema, UnknownFormat, UnreadableFile
from .config import (
    CRAWL_EVENT_MODE,
    CRAWL_NEW_FOLDERS_ONLY,
    DELETE_FROM_DATABASE,
    DEPRECATE_IN_DATABASE,
    UPDATE_IN_DATABASE,
    CrawlerConfigError,
    CrawlerSpec,
    folder_prefix,
    split_s3_path,
)
from .schema import merge_columns

# Similarity a leaf folder's columns need with the merged columns to count as "similar".
SIMILARITY_THRESHOLD = 0.7
# Table parameters written by the crawler (and compared when deciding whether anything changed).
PARQUET_FORMATS = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}
JSON_FORMATS = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe", "Parameters": {}},
}
STATS_KEYS = ("recordCount", "objectCount", "sizeKey", "averageRecordSize")
RUN_KEYS = ("CRAWL_RUN_ID",)
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


def skipped_key(relative_key: str, size: int) -> bool:
    """Objects a crawler never catalogues: folder markers, empty objects, hidden or `_` names."""
    if not relative_key or relative_key.endswith("/") or relative_key.endswith("_$folder$"):
        return True
    if size == 0:
        return True
    return any(part.startswith(("_", ".")) for part in relative_key.split("/"))


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """An Exclusions glob (relative to the include path) as a regex: ``*`` stays within a folder,
    ``**`` crosses folders, ``?`` one character, ``[..]`` / ``[!..]`` classes, ``{a,b}`` choice."""
    out, i, depth = [], 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append(f"[{body}]")
                i = end
        elif ch == "{":
            out.append("(?:")
            depth += 1
        elif ch == "}" and depth:
            out.append(")")
            depth -= 1
        elif ch == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(ch))
        i += 1
    try:
        return re.compile("".join(out) + ")" * depth)
    except re.error as exc:
        raise CrawlerConfigError(f"Exclusion pattern {pattern!r} is not a valid glob: {exc}") from None


def table_name(hint: str, prefix: str = "") -> str:
    """Glue table names are lower case; anything but letters, digits and _ becomes _."""
    return re.sub(r"[^a-z0-9_]", "_", (prefix + hint).lower())


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


def listing_locations(spec: CrawlerSpec, catalog: CatalogState) -> list[tuple[str, str]]:
    """The (bucket, prefix) pairs the caller must list for this crawl."""
    wanted: list[tuple[str, str]] = []
    for target in spec.s3_targets:
        wanted.append((target.bucket, target.prefix))
    for target in spec.catalog_targets:
        for name in target.tables:
            state = catalog.tables.get((target.database, name))
            if state and state.location.startswith("s3://"):
                bucket, key = split_s3_path(state.location)
                wanted.append((bucket, folder_prefix(key)))
    return list(dict.fromkeys(wanted))


# -- the crawl's view of the data ----------------------------------------------------------------
@dataclass
class _File:
    obj: S3Object
    parts: tuple[str, ...]  # folder names from the include path down to the object
    schema: FileSchema | None  # None: not sampled (SampleSize), stats only


@dataclass
class _Folder:
    bucket: str
    prefix: str  # bucket-relative, '' or ending in '/'
    parts: tuple[str, ...]  # folder names below the include path
    files: list[_File] = field(default_factory=list)
    children: dict[str, "_Folder"] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.prefix.rstrip("/").rsplit("/", 1)[-1] if self.prefix else self.bucket

    @property
    def level(self) -> int:
        """Absolute level as TableLevelConfiguration counts it: the bucket is 1."""
        return 1 + (len(self.prefix.rstrip("/").split("/")) if self.prefix else 0)

    def all_files(self) -> list[_File]:
        out = list(self.files)
        for child in self.children.values():
            out.extend(child.all_files())
        return out


@dataclass
class _Stats:
    objects: int = 0
    size: int = 0
    records: int = 0

    def add(self, other: "_Stats") -> None:
        self.objects += other.objects
        self.size += other.size
        self.records += other.records


@dataclass
class _CrawledPartition:
    location: str
    columns: list[tuple[str, str]]
    stats: _Stats


@dataclass
class _CrawledTable:
    hint: str
    location: str
    classification: str
    compression: str
    json_paths: tuple[str, ...]
    columns: list[tuple[str, str]]
    partition_keys: list[str]
    partitions: dict[Values, _CrawledPartition]
    stats: _Stats


def _stats_of(files: Iterable[_File]) -> _Stats:
    """Objects, bytes and records; records of unsampled files are estimated from the average
    record size of the sampled ones (AWS estimates the same way)."""
    files = list(files)
    read = [f for f in files if f.schema is not None]
    read_size = sum(f.obj.size for f in read)
    read_rows = sum(f.schema.num_rows for f in read if f.schema)
    stats = _Stats(objects=len(files), size=sum(f.obj.size for f in files), records=read_rows)
    unsampled = [f for f in files if f.schema is None]
    if unsampled and read_rows:
        stats.records += round(sum(f.obj.size for f in unsampled) * read_rows / read_size)
    return stats


# -- entry point ---------------------------------------------------------------------------------
def plan_crawl(
    spec: CrawlerSpec,
    listings: dict[tuple[str, str], list[S3Object]],
    read: ReadFile,
    catalog: CatalogState,
    *,
    crawl_id: str,
    now_ms: int,
    previous_folders: frozenset[str] | None = None,
) -> CrawlPlan:
    """Plan the crawl of every target of `spec`.

    `listings` maps each (bucket, prefix) of `listing_locations` to the objects under it;
    `previous_folders` are the leaf folders the last successful crawl saw (None: no such crawl).
    """
    plan = CrawlPlan()
    if spec.other_targets:
        plan.warn(f"The local crawler crawls S3 and catalog targets only; ignoring {', '.join(spec.other_targets)}.")
    if spec.recrawl_behavior == CRAWL_EVENT_MODE:
        plan.warn("CRAWL_EVENT_MODE needs S3 event notifications; crawling everything instead.")
    seen: set[str] = set()
    if spec.s3_targets:
        if spec.database not in catalog.databases:
            raise CrawlFailed(f"Database {spec.database} not found.")
        incremental = spec.recrawl_behavior == CRAWL_NEW_FOLDERS_ONLY and previous_folders is not None
        if incremental:
            _plan_incremental(plan, spec, listings, read, catalog, previous_folders or frozenset(), seen, crawl_id)
        else:
            _plan_s3_targets(plan, spec, listings, read, catalog, crawl_id, now_ms, seen)
    for target in spec.catalog_targets:
        for name in target.tables:
            _plan_catalog_table(plan, spec, target.database, name, listings, read, catalog, crawl_id)
    plan.seen_folders = frozenset(seen)
    return plan


def _catalogued(
    target_bucket: str, prefix: str, objects: Iterable[S3Object], exclusions: tuple[re.Pattern[str], ...]
) -> list[S3Object]:
    """Objects under the include path that a crawler looks at, sorted by key."""
    kept = []
    for obj in objects:
        if obj.bucket != target_bucket or not obj.key.startswith(prefix):
            continue
        relative = obj.key[len(prefix) :]
        if skipped_key(relative, obj.size) or any(p.fullmatch(relative) for p in exclusions):
            continue
        kept.append(obj)
    return sorted(kept, key=lambda o: o.key)


def _leaf_prefix(obj: S3Object) -> str:
    return obj.key.rsplit("/", 1)[0] + "/" if "/" in obj.key else ""


def _read_files(
    plan: CrawlPlan, objects: list[S3Object], read: ReadFile, sample_size: int | None
) -> list[tuple[S3Object, FileSchema | None]]:
    """Classify the objects (the first `sample_size` of each folder when set). Unreadable and
    unrecognised objects are logged and left out, as AWS does."""
    out: list[tuple[S3Object, FileSchema | None]] = []
    per_folder: Counter[str] = Counter()
    for obj in objects:
        folder = _leaf_prefix(obj)
        if sample_size is not None and per_folder[folder] >= sample_size:
            out.append((obj, None))
            continue
        try:
            schema = read(obj)
        except UnreadableFile as exc:
            plan.warn(f"Skipping {obj.uri}: {exc}")
            continue
        except UnknownFormat as exc:
            plan.info(f"Classification UNKNOWN for {obj.uri} ({exc}); it is not catalogued.")
            continue
        per_folder[folder] += 1
        out.append((obj, schema))
    return out


def _present_folders(objects: Iterable[S3Object]) -> set[str]:
    """Every folder (s3 URI with trailing slash) that holds at least one listed object."""
    present: set[str] = set()
    for obj in objects:
        parts = obj.key.split("/")[:-1]
        for i in range(len(parts) + 1):
            present.add(s3_uri(obj.bucket, "".join(p + "/" for p in parts[:i])))
    return present


# -- S3 targets, full crawl ----------------------------------------------------------------------
def _plan_s3_targets(
    plan: CrawlPlan,
    spec: CrawlerSpec,
    listings: dict[tuple[str, str], list[S3Object]],
    read: ReadFile,
    catalog: CatalogState,
    crawl_id: str,
    now_ms: int,
    seen: set[str],
) -> None:
    crawled: list[_CrawledTable] = []
    present: set[str] = set()
    for target in spec.s3_targets:
        exclusions = tuple(glob_to_regex(p) for p in target.exclusions)
        objects = _catalogued(target.bucket, target.prefix, listings.get((target.bucket, target.prefix), ()), exclusions)
        present |= _present_folders(objects)
        seen.update(s3_uri(o.bucket, _leaf_prefix(o)) for o in objects)
        files = _read_files(plan, objects, read, target.sample_size)
        root = _build_tree(target.bucket, target.prefix, files)
        groups = _group_at_level(plan, root, spec.configuration.table_level) if spec.configuration.table_level else _group(plan, root, spec.configuration.combine_compatible_schemas)
        for group_root, group_files in groups:
            table = _describe_table(plan, group_root, group_files)
            if table is not None:
                crawled.append(table)
    threshold = spec.configuration.table_threshold
    if threshold is not None and len(crawled) > threshold:
        raise CrawlFailed(
            f"The number of tables detected by crawler ({len(crawled)}) is greater than the table "
            f"threshold value provided: {threshold}. Nothing was written to the Data Catalog."
        )
    own = {
        state.location: name
        for (db, name), state in catalog.tables.items()
        if db == spec.database and state.location
    }
    planned_names: set[str] = set()
    matched: set[str] = set()
    for table in crawled:
        existing_name = own.get(normalize_location(table.location))
        if existing_name is not None:
            matched.add(existing_name)
            _plan_existing_s3_table(plan, spec, catalog.tables[(spec.database, existing_name)], table, present, crawl_id)
            continue
        name = table_name(table.hint, spec.table_prefix)
        taken = (spec.database, name) in catalog.tables or name in planned_names
        if taken:
            # Same name, other location: AWS keeps both, suffixing the new one with a hash.
            name = f"{name}_{hashlib.md5(table.location.encode()).hexdigest()}"
        planned_names.add(name)
        _plan_new_table(plan, spec, name, table, crawl_id)
    _plan_vanished_tables(plan, spec, catalog, matched, present, now_ms)


def _build_tree(bucket: str, prefix: str, files: list[tuple[S3Object, FileSchema | None]]) -> _Folder:
    root = _Folder(bucket, prefix, ())
    for obj, schema in files:
        parts = tuple(obj.key[len(prefix) :].split("/")[:-1])
        node = root
        for i, part in enumerate(parts):
            node = node.children.setdefault(
                part, _Folder(bucket, prefix + "".join(p + "/" for p in parts[: i + 1]), parts[: i + 1])
            )
        node.files.append(_File(obj, parts, schema))
    return root


def _readable(files: Iterable[_File]) -> list[_File]:
    return [f for f in files if f.schema is not None]


def _format_of(f: _File) -> tuple[str, str]:
    assert f.schema is not None
    return (f.schema.classification, f.schema.compression)


def _leaf_columns(files: list[_File]) -> dict[tuple[str, ...], list[tuple[str, str]]]:
    by_leaf: dict[tuple[str, ...], list[list[tuple[str, str]]]] = defaultdict(list)
    for f in _readable(files):
        assert f.schema is not None
        by_leaf[f.parts].append(list(f.schema.columns))
    return {leaf: merge_columns(cols)[0] for leaf, cols in by_leaf.items()}


def _compatible(folder: _Folder, combine: bool) -> bool:
    """Can everything under `folder` be one table (its sub-folders partitions)?"""
    files = _readable(folder.all_files())
    if len({_format_of(f) for f in files}) != 1:
        return False
    if len({len(f.parts) for f in files}) != 1:
        return False  # data at several depths cannot be partitions of one table
    # Differing types do not split a table: AWS keeps them as partitions with their own columns.
    leaves = list(_leaf_columns(files).values())
    if combine or len(leaves) <= 1:
        return True
    union = merge_columns(leaves)[0]
    names = {n for n, _ in union}
    similar = sum(1 for cols in leaves if len({n for n, _ in cols}) / len(names) >= SIMILARITY_THRESHOLD)
    return similar * 2 > len(leaves)


def _group(plan: CrawlPlan, folder: _Folder, combine: bool) -> list[tuple[_Folder, list[_File]]]:
    """Table roots under `folder`, highest first; loose files of a mixed folder are one table each."""
    files = folder.all_files()
    if not _readable(files):
        return []
    if _compatible(folder, combine):
        return [(folder, files)]
    groups: list[tuple[_Folder, list[_File]]] = []
    for child in sorted(folder.children.values(), key=lambda c: c.prefix):
        groups.extend(_group(plan, child, combine))
    for f in folder.files:
        if f.schema is not None:
            groups.append((_Folder(folder.bucket, f.obj.key, folder.parts), [f]))
    return groups


def _group_at_level(plan: CrawlPlan, folder: _Folder, level: int) -> list[tuple[_Folder, list[_File]]]:
    """TableLevelConfiguration: every folder at `level` (the include path, if deeper) is a table."""
    if folder.level >= level:
        files = folder.all_files()
        return [(folder, files)] if _readable(files) else []
    groups: list[tuple[_Folder, list[_File]]] = []
    for f in folder.files:
        plan.info(f"Not cataloguing {f.obj.uri}: it lies above the table level {level}.")
    for child in sorted(folder.children.values(), key=lambda c: c.prefix):
        groups.extend(_group_at_level(plan, child, level))
    return groups


def _describe_table(plan: CrawlPlan, root: _Folder, files: list[_File]) -> _CrawledTable | None:
    """Columns, partition keys and partitions of the table rooted at `root`."""
    readable = _readable(files)
    if not readable:
        return None
    single_file = root.prefix == files[0].obj.key
    base = len(root.parts)
    # A forced grouping (table level) can mix formats or depths: keep the majority, log the rest.
    fmt = Counter(_format_of(f) for f in readable).most_common(1)[0][0]
    depth = Counter(len(f.parts) for f in readable if _format_of(f) == fmt).most_common(1)[0][0]
    kept: list[_File] = []
    for f in files:
        if f.schema is not None and (_format_of(f) != fmt or len(f.parts) != depth):
            plan.warn(f"Not adding {f.obj.uri} to the table at {s3_uri(root.bucket, root.prefix)}: its format or folder depth differs.")
        elif len(f.parts) == depth:
            kept.append(f)
    readable = _readable(kept)
    columns, conflicts = merge_columns(f.schema.columns for f in readable if f.schema)
    for conflict in conflicts:
        plan.warn(f"Incompatible types in {s3_uri(root.bucket, root.prefix)} ({conflict}); the table keeps the first.")
    keys, value_of = _partition_keys([f.parts[base:] for f in kept])
    partitions: dict[Values, list[_File]] = defaultdict(list)
    for f in kept:
        partitions[value_of(f.parts[base:])].append(f)
    crawled_partitions: dict[Values, _CrawledPartition] = {}
    if keys:
        for values, part_files in sorted(partitions.items()):
            part_readable = _readable(part_files)
            if not part_readable:
                continue
            folder = part_files[0].obj.key.rsplit("/", 1)[0] + "/"
            crawled_partitions[values] = _CrawledPartition(
                location=s3_uri(root.bucket, folder),
                columns=merge_columns(f.schema.columns for f in part_readable if f.schema)[0],
                stats=_stats_of(part_files),
            )
    paths = sorted({p for f in readable if f.schema for p in f.schema.json_paths})
    return _CrawledTable(
        hint=files[0].obj.key.rsplit("/", 1)[-1] if single_file else root.name,
        location=s3_uri(root.bucket, root.prefix),  # for a single-file table, the object itself
        classification=fmt[0],
        compression=fmt[1],
        json_paths=tuple(paths),
        columns=columns,
        partition_keys=keys,
        partitions=crawled_partitions,
        stats=_stats_of(kept),
    )


def _partition_keys(paths: list[tuple[str, ...]]) -> tuple[list[str], Callable[[tuple[str, ...]], Values]]:
    """Partition key names for folder paths of equal length, and the values of one path."""
    depth = len(paths[0]) if paths else 0
    keys: list[str] = []
    hive: list[bool] = []
    for i in range(depth):
        names = {p[i] for p in paths}
        hive_keys = {n.split("=", 1)[0].lower() for n in names if "=" in n}
        if all("=" in n for n in names) and len(hive_keys) == 1:
            keys.append(hive_keys.pop())
            hive.append(True)
        else:
            keys.append(f"partition_{i}")
            hive.append(False)

    def values(path: tuple[str, ...]) -> Values:
        return tuple(part.split("=", 1)[1] if is_hive else part for part, is_hive in zip(path, hive))

    return keys, values


# -- table inputs --------------------------------------------------------------------------------
def _formats(classification: str, json_paths: tuple[str, ...]) -> dict[str, Any]:
    formats = copy.deepcopy(PARQUET_FORMATS if classification == "parquet" else JSON_FORMATS)
    if classification == "json":
        formats["SerdeInfo"]["Parameters"] = {"paths": ",".join(json_paths)}
    return formats


def _crawler_parameters(
    spec: CrawlerSpec, crawl_id: str, classification: str, compression: str, stats: _Stats, partitioned: bool
) -> dict[str, str]:
    params = {
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
        "UPDATED_BY_CRAWLER": spec.name,
        "CRAWL_RUN_ID": crawl_id,
        "averageRecordSize": str(stats.size // stats.records if stats.records else 0),
        "classification": classification,
        "compressionType": compression,
        "objectCount": str(stats.objects),
        "recordCount": str(stats.records),
        "sizeKey": str(stats.size),
        "typeOfData": "file",
    }
    if partitioned:
        params["partition_filtering.enabled"] = "true"
    return params


def _columns(columns: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"Name": n, "Type": t} for n, t in columns]


def _storage_descriptor(location: str, columns: list[tuple[str, str]], formats: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    return {
        "Columns": _columns(columns),
        "Location": location,
        **copy.deepcopy(formats),
        "Compressed": False,
        "NumberOfBuckets": -1,
        "BucketColumns": [],
        "SortColumns": [],
        "Parameters": dict(params),
        "StoredAsSubDirectories": False,
    }


def _new_table_input(spec: CrawlerSpec, name: str, table: _CrawledTable, crawl_id: str) -> dict[str, Any]:
    params = _crawler_parameters(spec, crawl_id, table.classification, table.compression, table.stats, bool(table.partition_keys))
    formats = _formats(table.classification, table.json_paths)
    return {
        "Name": name,
        "Owner": "owner",
        "Retention": 0,
        "TableType": "EXTERNAL_TABLE",
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in table.partition_keys],
        "Parameters": params,
        "StorageDescriptor": _storage_descriptor(table.location, table.columns, formats, params),
    }


def _partition_input(
    spec: CrawlerSpec,
    table_input: dict[str, Any],
    values: Values,
    part: _CrawledPartition,
    crawl_id: str,
) -> dict[str, Any]:
    """A partition's input: the table's storage descriptor with its own location; its own
    columns and counts unless the partitions inherit from the table."""
    sd = copy_json(table_input["StorageDescriptor"])
    sd["Location"] = part.location
    if not spec.configuration.partitions_inherit_from_table:
        params = dict(sd.get("Parameters") or {})
        classification = params.get("classification") or (table_input.get("Parameters") or {}).get("classification") or "parquet"
        compression = params.get("compressionType") or "none"
        sd["Columns"] = _columns(part.columns)
        sd["Parameters"] = _crawler_parameters(spec, crawl_id, classification, compression, part.stats, False)
    return {"Values": list(values), "StorageDescriptor": sd}


def _without(d: dict[str, Any] | None, keys: Iterable[str]) -> dict[str, Any]:
    return {k: v for k, v in (d or {}).items() if k not in keys}


def _schema_view(sd: dict[str, Any] | None) -> tuple:
    """What counts as a schema/format change of a storage descriptor (not counts, not location)."""
    sd = sd or {}
    columns = tuple((c.get("Name"), c.get("Type")) for c in sd.get("Columns") or [])
    serde = sd.get("SerdeInfo") or {}
    return (columns, sd.get("InputFormat"), sd.get("OutputFormat"), serde.get("SerializationLibrary"), repr(sorted((serde.get("Parameters") or {}).items())))


def _sd_view(sd: dict[str, Any] | None) -> tuple:
    """Schema, location and crawler parameters minus the run id: differences worth an update."""
    sd = sd or {}
    return (_schema_view(sd), sd.get("Location"), repr(sorted(_without(sd.get("Parameters"), RUN_KEYS).items())))


# -- reconciling with the catalog ----------------------------------------------------------------
def _plan_new_table(plan: CrawlPlan, spec: CrawlerSpec, name: str, table: _CrawledTable, crawl_id: str) -> None:
    table_input = _new_table_input(spec, name, table, crawl_id)
    plan.tables.append(TableChange("create", spec.database, name, table_input))
    plan.info(f"Created table {name} in database {spec.database}")
    if table.partitions:
        changes = PartitionChanges(spec.database, name)
        for values, part in table.partitions.items():
            changes.create.append(_partition_input(spec, table_input, values, part, crawl_id))
        plan.partitions.append(changes)
        _log_partitions(plan, changes)


def _log_partitions(plan: CrawlPlan, changes: PartitionChanges) -> None:
    for verb, items in (
        ("Created", [p["Values"] for p in changes.create]),
        ("Updated", [v for v, _ in changes.update]),
        ("Deleted", list(changes.delete)),
    ):
        for start in range(0, len(items), 100):
            chunk = items[start : start + 100]
            plan.info(f"{verb} partitions with values {chunk} for table {changes.table} in database {changes.database}")


def _merged_columns(existing: list[dict[str, Any]], crawled: list[tuple[str, str]], merge_new_only: bool) -> list[dict[str, Any]]:
    if not merge_new_only:
        return _columns(crawled)
    names = {c["Name"] for c in existing}
    return copy.deepcopy(existing) + [{"Name": n, "Type": t} for n, t in crawled if n not in names]


def _plan_existing_s3_table(
    plan: CrawlPlan, spec: CrawlerSpec, state: TableState, table: _CrawledTable, present: set[str], crawl_id: str
) -> None:
    name = state.table["Name"]
    current = table_input_of(state.table)
    crawled_input = _new_table_input(spec, name, table, crawl_id)
    final = current
    if spec.update_behavior == UPDATE_IN_DATABASE:
        proposed = copy.deepcopy(current)
        sd = proposed.setdefault("StorageDescriptor", {})
        new_sd = crawled_input["StorageDescriptor"]
        if spec.configuration.tables_merge_new_columns:
            # Keep formats and existing columns; add new columns and the crawler's parameters.
            sd["Columns"] = _merged_columns(sd.get("Columns") or [], table.columns, True)
            sd["Parameters"] = {**(sd.get("Parameters") or {}), **new_sd["Parameters"]}
            proposed["Parameters"] = {**(proposed.get("Parameters") or {}), **crawled_input["Parameters"]}
        else:
            new_sd["Location"] = sd.get("Location") or new_sd["Location"]
            proposed["StorageDescriptor"] = new_sd
            proposed["Parameters"] = crawled_input["Parameters"]
        proposed["PartitionKeys"] = crawled_input["PartitionKeys"]
        schema_changed = (
            _schema_view(current.get("StorageDescriptor")) != _schema_view(proposed["StorageDescriptor"])
            or current.get("PartitionKeys") != proposed["PartitionKeys"]
        )
        counts_changed = _without(current.get("Parameters"), RUN_KEYS) != _without(proposed["Parameters"], RUN_KEYS)
        if schema_changed or counts_changed:
            plan.tables.append(TableChange("update", spec.database, name, proposed, schema_changed))
            if schema_changed:
                plan.info(f"Table {name} in database {spec.database} has a new schema: updated.")
            final = proposed
    elif _schema_view(current.get("StorageDescriptor")) != _schema_view(crawled_input["StorageDescriptor"]) or current.get(
        "PartitionKeys"
    ) != crawled_input["PartitionKeys"]:
        plan.info(f"Table {name} in database {spec.database} changed schema; UpdateBehavior LOG leaves it as is.")
    if [k["Name"] for k in final.get("PartitionKeys") or []] != table.partition_keys:
        plan.warn(f"Table {name} keeps partition keys {state.partition_keys}; the data has {table.partition_keys}: no partitions written.")
        return
    changes = _reconcile_partitions(plan, spec, name, final, table.partitions, state, present, crawl_id, deletable=True)
    if changes:
        plan.partitions.append(changes)
        _log_partitions(plan, changes)


def _reconcile_partitions(
    plan: CrawlPlan,
    spec: CrawlerSpec,
    name: str,
    table_input: dict[str, Any],
    crawled: dict[Values, _CrawledPartition],
    state: TableState,
    present: set[str],
    crawl_id: str,
    *,
    deletable: bool,
) -> PartitionChanges:
    database = table_input.get("DatabaseName") or state.table.get("DatabaseName") or spec.database
    changes = PartitionChanges(database, name)
    inherit = spec.configuration.partitions_inherit_from_table
    for values, part in crawled.items():
        wanted = _partition_input(spec, table_input, values, part, crawl_id)
        existing = state.partitions.get(values)
        if existing is None:
            changes.create.append(wanted)
            continue
        old_sd = existing.get("StorageDescriptor")
        if inherit:
            # "Update all new and existing partitions with metadata from the table."
            if _schema_view(old_sd) != _schema_view(wanted["StorageDescriptor"]):
                changes.update.append((list(values), {**partition_input_of(existing), "StorageDescriptor": wanted["StorageDescriptor"]}))
        elif spec.update_behavior == UPDATE_IN_DATABASE and _sd_view(old_sd) != _sd_view(wanted["StorageDescriptor"]):
            changes.update.append((list(values), {**partition_input_of(existing), "StorageDescriptor": wanted["StorageDescriptor"]}))
    if deletable:
        root = state.location or normalize_location((table_input.get("StorageDescriptor") or {}).get("Location") or "")
        for values, partition in state.partitions.items():
            if values in crawled:
                continue
            location = normalize_location((partition.get("StorageDescriptor") or {}).get("Location") or "")
            if not location.startswith(root) or location in present:
                continue  # not ours to judge, or its data is still there (maybe unreadable)
            if spec.delete_behavior == DELETE_FROM_DATABASE:
                changes.delete.append(list(values))
            else:
                plan.info(f"Partition {list(values)} of table {name}: its data at {location} is gone; DeleteBehavior {spec.delete_behavior} keeps it.")
    return changes


def _plan_vanished_tables(
    plan: CrawlPlan, spec: CrawlerSpec, catalog: CatalogState, matched: set[str], present: set[str], now_ms: int
) -> None:
    """Tables this crawler made under its include paths whose data is gone."""
    roots = [s3_uri(t.bucket, t.prefix) for t in spec.s3_targets]
    for (db, name), state in catalog.tables.items():
        params = state.table.get("Parameters") or {}
        if db != spec.database or name in matched or params.get("UPDATED_BY_CRAWLER") != spec.name:
            continue
        location = state.location
        if not any(location.startswith(root) for root in roots) or location in present:
            continue
        _plan_vanished(plan, spec, db, name, state, now_ms)


def _plan_vanished(plan: CrawlPlan, spec: CrawlerSpec, db: str, name: str, state: TableState, now_ms: int) -> None:
    if spec.delete_behavior == DELETE_FROM_DATABASE:
        plan.tables.append(TableChange("delete", db, name))
        plan.info(f"Deleted table {name} from database {db}: its data at {state.location} is gone.")
    elif spec.delete_behavior == DEPRECATE_IN_DATABASE:
        if "DEPRECATED_BY_CRAWLER" in (state.table.get("Parameters") or {}):
            return
        table_input = table_input_of(state.table)
        table_input["Parameters"] = {**(table_input.get("Parameters") or {}), "DEPRECATED_BY_CRAWLER": str(now_ms)}
        plan.tables.append(TableChange("deprecate", db, name, table_input))
        plan.info(f"Table {name} in database {db} marked deprecated: its data at {state.location} is gone.")
    else:
        plan.info(f"Table {name} in database {db}: its data at {state.location} is gone; DeleteBehavior LOG keeps it.")


# -- S3 targets, incremental ---------------------------------------------------------------------
def _values_for(keys: list[str], parts: tuple[str, ...]) -> Values | str:
    """Partition values of folder names `parts` for a table's `keys`, or why they do not fit."""
    if len(parts) != len(keys):
        return f"{len(parts)} folder level(s) below the table, but the table has {len(keys)} partition key(s) {keys}"
    values = []
    for key, part in zip(keys, parts):
        if "=" in part:
            name, value = part.split("=", 1)
            if name.lower() != key.lower():
                return f"folder {part!r} names key {name!r} where the table's partition key is {key!r}"
            values.append(value)
        else:
            values.append(part)
    return tuple(values)


def _plan_incremental(
    plan: CrawlPlan,
    spec: CrawlerSpec,
    listings: dict[tuple[str, str], list[S3Object]],
    read: ReadFile,
    catalog: CatalogState,
    previous: frozenset[str],
    seen: set[str],
    crawl_id: str,
) -> None:
    """CRAWL_NEW_FOLDERS_ONLY after a first crawl: read only folders no earlier crawl saw and add
    them as partitions of the tables they fall under. No new tables, no updates, no deletes."""
    seen.update(previous)
    tables = sorted(
        ((state.location, name, state) for (db, name), state in catalog.tables.items() if db == spec.database and state.location),
        key=lambda t: -len(t[0]),
    )
    changes_by_table: dict[str, PartitionChanges] = {}
    for target in spec.s3_targets:
        exclusions = tuple(glob_to_regex(p) for p in target.exclusions)
        objects = _catalogued(target.bucket, target.prefix, listings.get((target.bucket, target.prefix), ()), exclusions)
        by_folder: dict[str, list[S3Object]] = defaultdict(list)
        for obj in objects:
            by_folder[s3_uri(obj.bucket, _leaf_prefix(obj))].append(obj)
        new_folders = sorted(f for f in by_folder if f not in previous)
        seen.update(by_folder)
        plan.info(f"Incremental crawl of {target.path}: {len(new_folders)} new folder(s) of {len(by_folder)}.")
        for folder in new_folders:
            owner = next(((loc, name, state) for loc, name, state in tables if folder.startswith(loc)), None)
            if owner is None:
                plan.info(f"No table holds new folder {folder}; incremental crawls add no tables.")
                continue
            location, name, state = owner
            parts = tuple(p for p in folder[len(location) :].split("/") if p)
            values = _values_for(state.partition_keys, parts)
            if isinstance(values, str):
                plan.warn(f"Folder {folder} is not a partition of table {name}: {values}.")
                continue
            if values in state.partitions:
                continue
            files = [_File(o, parts, s) for o, s in _read_files(plan, by_folder[folder], read, target.sample_size)]
            readable = _readable(files)
            if not readable:
                continue
            table_params = state.table.get("Parameters") or {}
            if any(f.schema and f.schema.classification != table_params.get("classification", f.schema.classification) for f in readable):
                plan.warn(f"Folder {folder} holds {readable[0].schema.classification if readable[0].schema else '?'} data, table {name} is {table_params.get('classification')}: skipped.")
                continue
            part = _CrawledPartition(
                location=folder,
                columns=merge_columns(f.schema.columns for f in readable if f.schema)[0],
                stats=_stats_of(files),
            )
            changes = changes_by_table.setdefault(name, PartitionChanges(spec.database, name))
            changes.create.append(_partition_input(spec, table_input_of(state.table), values, part, crawl_id))
    for changes in changes_by_table.values():
        plan.partitions.append(changes)
        _log_partitions(plan, changes)


# -- catalog targets -----------------------------------------------------------------------------
def _plan_catalog_table(
    plan: CrawlPlan,
    spec: CrawlerSpec,
    database: str,
    name: str,
    listings: dict[tuple[str, str], list[S3Object]],
    read: ReadFile,
    catalog: CatalogState,
    crawl_id: str,
) -> None:
    state = catalog.tables.get((database, name))
    if state is None:
        plan.errors.append(f"Table {name} in database {database} not found (catalog target).")
        return
    if not state.location.startswith("s3://"):
        plan.errors.append(f"Table {database}.{name} has no s3:// location to crawl.")
        return
    bucket, key = split_s3_path(state.location)
    prefix = folder_prefix(key)
    objects = _catalogued(bucket, prefix, listings.get((bucket, prefix), ()), ())
    present = _present_folders(objects)
    if not objects:
        # The table is the user's, not the crawler's: an empty location never removes it (its
        # partitions whose data vanished still follow DeleteBehavior below).
        plan.info(f"No data at {state.location} for table {name} in database {database}.")
    keys = state.partition_keys
    table_params = state.table.get("Parameters") or {}
    expected = table_params.get("classification")
    files: list[_File] = []
    for obj, schema in _read_files(plan, objects, read, None):
        parts = tuple(obj.key[len(prefix) :].split("/")[:-1])
        if schema is not None and expected and schema.classification != expected:
            plan.warn(f"Skipping {obj.uri}: classification {schema.classification}, table {name} is {expected}.")
            continue
        files.append(_File(obj, parts, schema))
    partitions: dict[Values, list[_File]] = defaultdict(list)
    misfits: set[tuple[str, ...]] = set()
    for f in files:
        values = _values_for(keys, f.parts)
        if isinstance(values, str):
            if f.parts not in misfits:
                misfits.add(f.parts)
                plan.warn(f"Folder {s3_uri(bucket, prefix + ''.join(p + '/' for p in f.parts))} is not a partition of table {name}: {values}.")
            continue
        partitions[values].append(f)
    kept = [f for part_files in partitions.values() for f in part_files]
    readable = _readable(kept)
    current = table_input_of(state.table)
    final = current
    if readable and spec.update_behavior == UPDATE_IN_DATABASE:
        columns = merge_columns(f.schema.columns for f in readable if f.schema)[0]
        first = readable[0].schema
        assert first is not None
        proposed = copy.deepcopy(current)
        sd = proposed.setdefault("StorageDescriptor", {})
        sd["Columns"] = _merged_columns(sd.get("Columns") or [], columns, spec.configuration.tables_merge_new_columns)
        stats = _crawler_parameters(spec, crawl_id, first.classification, first.compression, _stats_of(kept), bool(keys))
        proposed["Parameters"] = {**(proposed.get("Parameters") or {}), **stats}
        schema_changed = _schema_view(current.get("StorageDescriptor")) != _schema_view(sd)
        if schema_changed or _without(current.get("Parameters"), RUN_KEYS) != _without(proposed["Parameters"], RUN_KEYS):
            plan.tables.append(TableChange("update", database, name, proposed, schema_changed))
            if schema_changed:
                plan.info(f"Table {name} in database {database} has a new schema: updated.")
            final = proposed
    elif readable:
        columns = merge_columns(f.schema.columns for f in readable if f.schema)[0]
        known = {c["Name"]: c["Type"] for c in (current.get("StorageDescriptor") or {}).get("Columns") or []}
        if any(known.get(n) != t for n, t in columns):
            plan.info(f"The data of table {name} has columns the table lacks or types it differs in; UpdateBehavior LOG leaves the table as is.")
    if not keys:
        return
    crawled: dict[Values, _CrawledPartition] = {}
    for values, part_files in sorted(partitions.items()):
        part_readable = _readable(part_files)
        if not part_readable:
            continue
        folder = part_files[0].obj.key.rsplit("/", 1)[0] + "/"
        crawled[values] = _CrawledPartition(
            location=s3_uri(bucket, folder),
            columns=merge_columns(f.schema.columns for f in part_readable if f.schema)[0],
            stats=_stats_of(part_files),
        )
    final = {**final, "DatabaseName": database}
    changes = _reconcile_partitions(plan, spec, name, final, crawled, state, present, crawl_id, deletable=True)
    if changes:
        plan.partitions.append(changes)
        _log_partitions(plan, changes)
