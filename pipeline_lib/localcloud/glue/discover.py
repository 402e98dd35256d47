"""S3 objects to the tables they hold: which objects a crawler looks at, the folder tree, table
roots, partition keys and values, and object / record counts (pure; `read` does the I/O)."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .classify import FileSchema, UnknownFormat, UnreadableFile
from .config import CrawlerConfigError
from .model import CrawlPlan, ReadFile, S3Object, Values, s3_uri
from .schema import merge_columns

# Similarity a leaf folder's columns need with the merged columns to count as "similar".
SIMILARITY_THRESHOLD = 0.7


# -- which objects count -------------------------------------------------------------------------
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


def catalogued_objects(
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


def leaf_prefix(obj: S3Object) -> str:
    return obj.key.rsplit("/", 1)[0] + "/" if "/" in obj.key else ""


def read_files(
    plan: CrawlPlan, objects: list[S3Object], read: ReadFile, sample_size: int | None
) -> list[tuple[S3Object, FileSchema | None]]:
    """Classify the objects (the first `sample_size` of each folder when set). Unreadable and
    unrecognised objects are logged and left out, as AWS does."""
    out: list[tuple[S3Object, FileSchema | None]] = []
    per_folder: Counter[str] = Counter()
    for obj in objects:
        folder = leaf_prefix(obj)
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


def present_folders(objects: Iterable[S3Object]) -> set[str]:
    """Every folder (s3 URI with trailing slash) that holds at least one listed object."""
    present: set[str] = set()
    for obj in objects:
        parts = obj.key.split("/")[:-1]
        for i in range(len(parts) + 1):
            present.add(s3_uri(obj.bucket, "".join(p + "/" for p in parts[:i])))
    return present


# -- the crawl's view of the data ----------------------------------------------------------------
@dataclass
class File:
    obj: S3Object
    parts: tuple[str, ...]  # folder names from the include path down to the object
    schema: FileSchema | None  # None: not sampled (SampleSize), stats only


@dataclass
class Folder:
    bucket: str
    prefix: str  # bucket-relative, '' or ending in '/'
    parts: tuple[str, ...]  # folder names below the include path
    files: list[File] = field(default_factory=list)
    children: dict[str, "Folder"] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.prefix.rstrip("/").rsplit("/", 1)[-1] if self.prefix else self.bucket

    @property
    def level(self) -> int:
        """Absolute level as TableLevelConfiguration counts it: the bucket is 1."""
        return 1 + (len(self.prefix.rstrip("/").split("/")) if self.prefix else 0)

    def all_files(self) -> list[File]:
        out = list(self.files)
        for child in self.children.values():
            out.extend(child.all_files())
        return out


@dataclass
class Stats:
    objects: int = 0
    size: int = 0
    records: int = 0

    def add(self, other: "Stats") -> None:
        self.objects += other.objects
        self.size += other.size
        self.records += other.records


@dataclass
class CrawledPartition:
    location: str
    columns: list[tuple[str, str]]
    stats: Stats


@dataclass
class CrawledTable:
    hint: str
    location: str
    classification: str
    compression: str
    json_paths: tuple[str, ...]
    columns: list[tuple[str, str]]
    partition_keys: list[str]
    partitions: dict[Values, CrawledPartition]
    stats: Stats


def stats_of(files: Iterable[File]) -> Stats:
    """Objects, bytes and records; records of unsampled files are estimated from the average
    record size of the sampled ones (AWS estimates the same way)."""
    files = list(files)
    read = [f for f in files if f.schema is not None]
    read_size = sum(f.obj.size for f in read)
    read_rows = sum(f.schema.num_rows for f in read if f.schema)
    stats = Stats(objects=len(files), size=sum(f.obj.size for f in files), records=read_rows)
    unsampled = [f for f in files if f.schema is None]
    if unsampled and read_rows:
        stats.records += round(sum(f.obj.size for f in unsampled) * read_rows / read_size)
    return stats


# -- table roots and partitions ------------------------------------------------------------------
def build_tree(bucket: str, prefix: str, files: list[tuple[S3Object, FileSchema | None]]) -> Folder:
    root = Folder(bucket, prefix, ())
    for obj, schema in files:
        parts = tuple(obj.key[len(prefix) :].split("/")[:-1])
        node = root
        for i, part in enumerate(parts):
            node = node.children.setdefault(
                part, Folder(bucket, prefix + "".join(p + "/" for p in parts[: i + 1]), parts[: i + 1])
            )
        node.files.append(File(obj, parts, schema))
    return root


def readable_files(files: Iterable[File]) -> list[File]:
    return [f for f in files if f.schema is not None]


def format_of(f: File) -> tuple[str, str]:
    assert f.schema is not None
    return (f.schema.classification, f.schema.compression)


def leaf_columns(files: list[File]) -> dict[tuple[str, ...], list[tuple[str, str]]]:
    by_leaf: dict[tuple[str, ...], list[list[tuple[str, str]]]] = defaultdict(list)
    for f in readable_files(files):
        assert f.schema is not None
        by_leaf[f.parts].append(list(f.schema.columns))
    return {leaf: merge_columns(cols)[0] for leaf, cols in by_leaf.items()}


def compatible(files: list[File], combine: bool) -> bool:
    """Can these readable files of one folder be one table (its sub-folders partitions)?"""
    if len({format_of(f) for f in files}) != 1:
        return False
    if len({len(f.parts) for f in files}) != 1:
        return False  # data at several depths cannot be partitions of one table
    # Differing types do not split a table: AWS keeps them as partitions with their own columns.
    leaves = list(leaf_columns(files).values())
    if combine or len(leaves) <= 1:
        return True
    union = merge_columns(leaves)[0]
    names = {n for n, _ in union}
    similar = sum(1 for cols in leaves if len({n for n, _ in cols}) / len(names) >= SIMILARITY_THRESHOLD)
    return similar * 2 > len(leaves)


def table_roots(folder: Folder, combine: bool) -> list[tuple[Folder, list[File]]]:
    """Table roots under `folder`, highest first; loose files of a mixed folder are one table each."""
    files = folder.all_files()
    readable = readable_files(files)
    if not readable:
        return []
    if compatible(readable, combine):
        return [(folder, files)]
    groups: list[tuple[Folder, list[File]]] = []
    for child in sorted(folder.children.values(), key=lambda c: c.prefix):
        groups.extend(table_roots(child, combine))
    for f in folder.files:
        if f.schema is not None:
            groups.append((Folder(folder.bucket, f.obj.key, folder.parts), [f]))
    return groups


def table_roots_at_level(plan: CrawlPlan, folder: Folder, level: int) -> list[tuple[Folder, list[File]]]:
    """TableLevelConfiguration: every folder at `level` (the include path, if deeper) is a table."""
    if folder.level >= level:
        files = folder.all_files()
        return [(folder, files)] if readable_files(files) else []
    groups: list[tuple[Folder, list[File]]] = []
    for f in folder.files:
        plan.info(f"Not cataloguing {f.obj.uri}: it lies above the table level {level}.")
    for child in sorted(folder.children.values(), key=lambda c: c.prefix):
        groups.extend(table_roots_at_level(plan, child, level))
    return groups


def describe_table(plan: CrawlPlan, root: Folder, files: list[File]) -> CrawledTable | None:
    """Columns, partition keys and partitions of the table rooted at `root`."""
    readable = readable_files(files)
    if not readable:
        return None
    single_file = root.prefix == files[0].obj.key
    base = len(root.parts)
    # A forced grouping (table level) can mix formats or depths: keep the majority, log the rest.
    fmt = Counter(format_of(f) for f in readable).most_common(1)[0][0]
    depth = Counter(len(f.parts) for f in readable if format_of(f) == fmt).most_common(1)[0][0]
    kept: list[File] = []
    for f in files:
        if f.schema is not None and (format_of(f) != fmt or len(f.parts) != depth):
            plan.warn(f"Not adding {f.obj.uri} to the table at {s3_uri(root.bucket, root.prefix)}: its format or folder depth differs.")
        elif len(f.parts) == depth:
            kept.append(f)
    readable = readable_files(kept)
    columns, conflicts = merge_columns(f.schema.columns for f in readable if f.schema)
    for conflict in conflicts:
        plan.warn(f"Incompatible types in {s3_uri(root.bucket, root.prefix)} ({conflict}); the table keeps the first.")
    keys, value_of = partition_keys_of([f.parts[base:] for f in kept])
    partitions: dict[Values, list[File]] = defaultdict(list)
    for f in kept:
        partitions[value_of(f.parts[base:])].append(f)
    crawled_partitions = partitions_of(root.bucket, partitions) if keys else {}
    paths = sorted({p for f in readable if f.schema for p in f.schema.json_paths})
    return CrawledTable(
        hint=files[0].obj.key.rsplit("/", 1)[-1] if single_file else root.name,
        location=s3_uri(root.bucket, root.prefix),  # for a single-file table, the object itself
        classification=fmt[0],
        compression=fmt[1],
        json_paths=tuple(paths),
        columns=columns,
        partition_keys=keys,
        partitions=crawled_partitions,
        stats=stats_of(kept),
    )


def partitions_of(bucket: str, partitions: dict[Values, list[File]]) -> dict[Values, CrawledPartition]:
    """Each partition with readable data, in value order: its folder, merged columns and counts."""
    crawled: dict[Values, CrawledPartition] = {}
    for values, part_files in sorted(partitions.items()):
        part_readable = readable_files(part_files)
        if not part_readable:
            continue
        crawled[values] = CrawledPartition(
            location=s3_uri(bucket, leaf_prefix(part_files[0].obj)),
            columns=merge_columns(f.schema.columns for f in part_readable if f.schema)[0],
            stats=stats_of(part_files),
        )
    return crawled


def partition_keys_of(paths: list[tuple[str, ...]]) -> tuple[list[str], Callable[[tuple[str, ...]], Values]]:
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
