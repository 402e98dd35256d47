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

This module decides; `discover` finds tables in S3 listings, `table_inputs` builds what is
written, `model` holds the inputs and the plan.
"""
from __future__ import annotations

import copy
import hashlib
import re
from collections import defaultdict
from typing import Any

from .config import (
    CRAWL_EVENT_MODE,
    CRAWL_NEW_FOLDERS_ONLY,
    DELETE_FROM_DATABASE,
    DEPRECATE_IN_DATABASE,
    UPDATE_IN_DATABASE,
    CrawlerSpec,
    folder_prefix,
    split_s3_path,
)
from .discover import (
    CrawledPartition,
    CrawledTable,
    File,
    build_tree,
    catalogued_objects,
    describe_table,
    glob_to_regex,
    leaf_prefix,
    partitions_of,
    present_folders,
    read_files,
    readable_files,
    stats_of,
    table_roots,
    table_roots_at_level,
)
from .model import (
    CatalogState,
    CrawlFailed,
    CrawlPlan,
    PartitionChanges,
    ReadFile,
    S3Object,
    TableChange,
    TableState,
    Values,
    normalize_location,
    s3_uri,
    table_input_of,
    partition_input_of,
)
from .schema import merge_columns
from .table_inputs import (
    PARQUET_FORMATS,
    RUN_KEYS,
    crawler_parameters,
    merged_columns,
    new_table_input,
    partition_input,
    schema_view,
    sd_view,
    without,
)

__all__ = [
    "PARQUET_FORMATS", "CatalogState", "CrawlFailed", "CrawlPlan", "S3Object", "TableState",
    "glob_to_regex", "listing_locations", "plan_crawl",
]


def table_name(hint: str, prefix: str = "") -> str:
    """Glue table names are lower case; anything but letters, digits and _ becomes _."""
    return re.sub(r"[^a-z0-9_]", "_", (prefix + hint).lower())


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
    crawled: list[CrawledTable] = []
    present: set[str] = set()
    for target in spec.s3_targets:
        exclusions = tuple(glob_to_regex(p) for p in target.exclusions)
        objects = catalogued_objects(target.bucket, target.prefix, listings.get((target.bucket, target.prefix), ()), exclusions)
        present |= present_folders(objects)
        seen.update(s3_uri(o.bucket, leaf_prefix(o)) for o in objects)
        files = read_files(plan, objects, read, target.sample_size)
        root = build_tree(target.bucket, target.prefix, files)
        groups = table_roots_at_level(plan, root, spec.configuration.table_level) if spec.configuration.table_level else table_roots(root, spec.configuration.combine_compatible_schemas)
        for group_root, group_files in groups:
            table = describe_table(plan, group_root, group_files)
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


# -- reconciling with the catalog ----------------------------------------------------------------
def _plan_new_table(plan: CrawlPlan, spec: CrawlerSpec, name: str, table: CrawledTable, crawl_id: str) -> None:
    table_input = new_table_input(spec, name, table, crawl_id)
    plan.tables.append(TableChange("create", spec.database, name, table_input))
    plan.info(f"Created table {name} in database {spec.database}")
    if table.partitions:
        changes = PartitionChanges(spec.database, name)
        for values, part in table.partitions.items():
            changes.create.append(partition_input(spec, table_input, values, part, crawl_id))
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


def _plan_existing_s3_table(
    plan: CrawlPlan, spec: CrawlerSpec, state: TableState, table: CrawledTable, present: set[str], crawl_id: str
) -> None:
    name = state.table["Name"]
    current = table_input_of(state.table)
    crawled_input = new_table_input(spec, name, table, crawl_id)
    final = current
    if spec.update_behavior == UPDATE_IN_DATABASE:
        proposed = copy.deepcopy(current)
        sd = proposed.setdefault("StorageDescriptor", {})
        new_sd = crawled_input["StorageDescriptor"]
        if spec.configuration.tables_merge_new_columns:
            # Keep formats and existing columns; add new columns and the crawler's parameters.
            sd["Columns"] = merged_columns(sd.get("Columns") or [], table.columns, True)
            sd["Parameters"] = {**(sd.get("Parameters") or {}), **new_sd["Parameters"]}
            proposed["Parameters"] = {**(proposed.get("Parameters") or {}), **crawled_input["Parameters"]}
        else:
            new_sd["Location"] = sd.get("Location") or new_sd["Location"]
            proposed["StorageDescriptor"] = new_sd
            proposed["Parameters"] = crawled_input["Parameters"]
        proposed["PartitionKeys"] = crawled_input["PartitionKeys"]
        schema_changed = (
            schema_view(current.get("StorageDescriptor")) != schema_view(proposed["StorageDescriptor"])
            or current.get("PartitionKeys") != proposed["PartitionKeys"]
        )
        counts_changed = without(current.get("Parameters"), RUN_KEYS) != without(proposed["Parameters"], RUN_KEYS)
        if schema_changed or counts_changed:
            plan.tables.append(TableChange("update", spec.database, name, proposed, schema_changed))
            if schema_changed:
                plan.info(f"Table {name} in database {spec.database} has a new schema: updated.")
            final = proposed
    elif schema_view(current.get("StorageDescriptor")) != schema_view(crawled_input["StorageDescriptor"]) or current.get(
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
    crawled: dict[Values, CrawledPartition],
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
        wanted = partition_input(spec, table_input, values, part, crawl_id)
        existing = state.partitions.get(values)
        if existing is None:
            changes.create.append(wanted)
            continue
        old_sd = existing.get("StorageDescriptor")
        if inherit:
            # "Update all new and existing partitions with metadata from the table."
            if schema_view(old_sd) != schema_view(wanted["StorageDescriptor"]):
                changes.update.append((list(values), {**partition_input_of(existing), "StorageDescriptor": wanted["StorageDescriptor"]}))
        elif spec.update_behavior == UPDATE_IN_DATABASE and sd_view(old_sd) != sd_view(wanted["StorageDescriptor"]):
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
        objects = catalogued_objects(target.bucket, target.prefix, listings.get((target.bucket, target.prefix), ()), exclusions)
        by_folder: dict[str, list[S3Object]] = defaultdict(list)
        for obj in objects:
            by_folder[s3_uri(obj.bucket, leaf_prefix(obj))].append(obj)
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
            files = [File(o, parts, s) for o, s in read_files(plan, by_folder[folder], read, target.sample_size)]
            readable = readable_files(files)
            if not readable:
                continue
            table_params = state.table.get("Parameters") or {}
            if any(f.schema and f.schema.classification != table_params.get("classification", f.schema.classification) for f in readable):
                plan.warn(f"Folder {folder} holds {readable[0].schema.classification if readable[0].schema else '?'} data, table {name} is {table_params.get('classification')}: skipped.")
                continue
            part = CrawledPartition(
                location=folder,
                columns=merge_columns(f.schema.columns for f in readable if f.schema)[0],
                stats=stats_of(files),
            )
            changes = changes_by_table.setdefault(name, PartitionChanges(spec.database, name))
            changes.create.append(partition_input(spec, table_input_of(state.table), values, part, crawl_id))
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
    objects = catalogued_objects(bucket, prefix, listings.get((bucket, prefix), ()), ())
    present = present_folders(objects)
    if not objects:
        # The table is the user's, not the crawler's: an empty location never removes it (its
        # partitions whose data vanished still follow DeleteBehavior below).
        plan.info(f"No data at {state.location} for table {name} in database {database}.")
    keys = state.partition_keys
    table_params = state.table.get("Parameters") or {}
    expected = table_params.get("classification")
    files: list[File] = []
    for obj, schema in read_files(plan, objects, read, None):
        parts = tuple(obj.key[len(prefix) :].split("/")[:-1])
        if schema is not None and expected and schema.classification != expected:
            plan.warn(f"Skipping {obj.uri}: classification {schema.classification}, table {name} is {expected}.")
            continue
        files.append(File(obj, parts, schema))
    partitions: dict[Values, list[File]] = defaultdict(list)
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
    readable = readable_files(kept)
    current = table_input_of(state.table)
    final = current
    if readable and spec.update_behavior == UPDATE_IN_DATABASE:
        columns = merge_columns(f.schema.columns for f in readable if f.schema)[0]
        first = readable[0].schema
        assert first is not None
        proposed = copy.deepcopy(current)
        sd = proposed.setdefault("StorageDescriptor", {})
        sd["Columns"] = merged_columns(sd.get("Columns") or [], columns, spec.configuration.tables_merge_new_columns)
        stats = crawler_parameters(spec, crawl_id, first.classification, first.compression, stats_of(kept), bool(keys))
        proposed["Parameters"] = {**(proposed.get("Parameters") or {}), **stats}
        schema_changed = schema_view(current.get("StorageDescriptor")) != schema_view(sd)
        if schema_changed or without(current.get("Parameters"), RUN_KEYS) != without(proposed["Parameters"], RUN_KEYS):
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
    crawled = partitions_of(bucket, partitions)
    final = {**final, "DatabaseName": database}
    changes = _reconcile_partitions(plan, spec, name, final, crawled, state, present, crawl_id, deletable=True)
    if changes:
        plan.partitions.append(changes)
        _log_partitions(plan, changes)
