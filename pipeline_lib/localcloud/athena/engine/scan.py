"""Reading a Glue table's data from S3: its partitions (from the catalog or projection, never from
listing storage), the pruning of partitions by a filter, the objects under each location.

Only the objects actually read count towards data scanned, as in Athena.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa

from pipeline_lib import schema

from .errors import user_error
from .formats import _converter, read_object, table_format
from .projection import is_projected, projected_partitions
from .types import glue_to_arrow

__all__ = ["ScanResult", "table_columns", "partition_keys", "table_partitions", "partition_values_table",
           "scan_table", "split_uri", "list_data_objects"]

HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


@dataclass
class ScanResult:
    table: pa.Table
    bytes_read: int = 0
    files: list[str] = field(default_factory=list)


def split_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise user_error("HIVE_METASTORE_ERROR", f"Table location {uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def table_columns(table: dict) -> list[tuple[str, str]]:
    return [(c["Name"].lower(), c["Type"]) for c in (table.get("StorageDescriptor") or {}).get("Columns") or []]


def partition_keys(table: dict) -> list[tuple[str, str]]:
    return [(c["Name"].lower(), c["Type"]) for c in table.get("PartitionKeys") or []]


def table_partitions(catalog, database: str, name: str, table: dict,
                     injected: dict[str, list[str]] | None = None) -> list[tuple[list[str], str]]:
    """[(values, location)]: projection if enabled, else the catalog's partitions."""
    if is_projected(table):
        return projected_partitions(table, injected or {})
    out = []
    for p in catalog.get_partitions(database, name):
        loc = (p.get("StorageDescriptor") or {}).get("Location") or ""
        out.append((list(p["Values"]), loc))
    out.sort(key=lambda vl: vl[0])
    return out


def partition_values_table(keys: list[tuple[str, str]], parts: list[list[str]]) -> pa.Table:
    """The partitions' values typed as their Glue types (a value that does not convert is NULL)."""
    arrays = []
    for i, (name, glue) in enumerate(keys):
        conv = _converter(schema.parse_type(glue, catalog=True))
        values = [None if p[i] == HIVE_DEFAULT_PARTITION else conv(p[i]) for p in parts]
        arrays.append(pa.array(values, type=glue_to_arrow(glue)))
    return pa.Table.from_arrays(arrays, names=[k for k, _ in keys]) if keys else pa.table({})


def list_data_objects(storage, location: str) -> list[tuple[str, int]]:
    """Data objects under a location: Hive skips names starting with '_' or '.' and folder markers."""
    bucket, prefix = split_uri(location)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    out = []
    for key, size in storage.list_objects(bucket, prefix):
        rel = key[len(prefix):]
        if not rel or key.endswith("/") or any(part.startswith(("_", ".")) for part in rel.split("/")):
            continue
        out.append((f"s3://{bucket}/{key}", size))
    return out


def scan_table(table: dict, *, storage, columns: list[str] | None,
               partitions: list[tuple[list[str], str]] | None) -> ScanResult:
    """The table's rows (data columns then partition columns, Glue-typed) from the given partitions
    (None for an unpartitioned table). `columns` limits the data columns read (None: all)."""
    fmt, serde = table_format(table)
    params = table.get("Parameters") or {}
    data_cols = table_columns(table)
    if columns is not None:
        wanted = set(columns)
        data_cols_read = [c for c in data_cols if c[0] in wanted]
    else:
        data_cols_read = data_cols
    keys = partition_keys(table)
    if fmt != "parquet":
        data_cols_read = data_cols  # text formats are positional (CSV) or read whole anyway
    jobs: list[tuple[str, int, int]] = []  # (uri, size, partition index)
    if partitions is None:
        location = (table.get("StorageDescriptor") or {}).get("Location") or ""
        jobs = [(u, s, -1) for u, s in list_data_objects(storage, location)]
    else:
        for i, (_, loc) in enumerate(partitions):
            jobs.extend((u, s, i) for u, s in list_data_objects(storage, loc))

    def read(job: tuple[str, int, int]) -> pa.Table:
        uri, _, _ = job
        bucket, key = split_uri(uri)
        try:
            body = storage.get_object(bucket, key)
        except KeyError:
            return None  # deleted between list and read
        return read_object(body, fmt, serde, data_cols_read, params, uri)

    if len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=4) as pool:
            pieces = list(pool.map(read, jobs))
    else:
        pieces = [read(j) for j in jobs]
    out_fields = [pa.field(n, glue_to_arrow(g)) for n, g in data_cols_read]
    key_fields = [pa.field(n, glue_to_arrow(g)) for n, g in keys]
    part_table = partition_values_table(keys, [v for v, _ in partitions]) if partitions else None
    tables = []
    for job, piece in zip(jobs, pieces):
        if piece is None:
            continue
        if keys:
            idx = job[2]
            for f in key_fields:
                value = part_table.column(f.name)[idx]
                piece = piece.append_column(f, pa.array([value.as_py()] * piece.num_rows, type=f.type)
                                            if piece.num_rows < 1024 else
                                            pa.repeat(value, piece.num_rows) if hasattr(pa, "repeat") else
                                            pa.array([value.as_py()] * piece.num_rows, type=f.type))
        tables.append(piece)
    full_schema = pa.schema(out_fields + key_fields)
    if columns is not None:
        keep = [f.name for f in full_schema if f.name in set(columns) or f.name in {k for k, _ in keys}]
        full_schema = pa.schema([full_schema.field(n) for n in keep])
        tables = [t.select(keep) for t in tables]
    result = pa.concat_tables(tables) if tables else full_schema.empty_table()
    read_jobs = [j for j, p in zip(jobs, pieces) if p is not None]
    return ScanResult(result, sum(s for _, s, _ in read_jobs), [u for u, _, _ in read_jobs])
