"""Reading a Glue table's data from S3: its partitions (from the catalog or projection, never from
listing storage), the pruning of partitions by a filter, the objects under each location.

Only the objects actually read count towards data scanned, as in Athena.
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_left
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq  # at import (the engine is warmed at the cloud's start), not in the first scan

from pipeline_lib import schema

from .errors import user_error
from .formats import _converter, read_object, table_format
from .projection import is_projected, projected_partitions
from .types import glue_to_arrow

__all__ = ["ScanResult", "table_columns", "partition_keys", "table_partitions", "partition_values_table",
           "scan_table", "split_uri", "list_data_objects", "list_data_objects_under", "parquet_schema"]

HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


@dataclass
class ScanResult:
    table: pa.Table | None  # the rows (text formats), or None when `sql` reads them (Parquet)
    bytes_read: int = 0
    files: list[str] = field(default_factory=list)
    sql: str | None = None  # a DuckDB SELECT over the Parquet objects (typed as Glue declares)


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
    out = catalog.partition_locations(database, name)
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


def _folder(location: str) -> tuple[str, str]:
    bucket, prefix = split_uri(location)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def _data_objects(bucket: str, prefix: str, listed) -> list[tuple[str, int]]:
    """Hive skips names starting with '_' or '.' and folder markers."""
    out = []
    for key, size in listed:
        rel = key[len(prefix):]
        if not rel or key.endswith("/") or any(part.startswith(("_", ".")) for part in rel.split("/")):
            continue
        out.append((f"s3://{bucket}/{key}", size))
    return out


def list_data_objects(storage, location: str) -> list[tuple[str, int]]:
    """Data objects under a location."""
    bucket, prefix = _folder(location)
    return _data_objects(bucket, prefix, storage.list_objects(bucket, prefix))


def list_data_objects_under(storage, locations: list[str]) -> list[list[tuple[str, int]]]:
    """`list_data_objects` of each location, with one listing per bucket (a table's partitions share
    its folder: listing the bucket once per partition would cost partitions x objects)."""
    folders = [_folder(location) for location in locations]
    by_bucket: dict[str, list[int]] = {}
    for i, (bucket, _) in enumerate(folders):
        by_bucket.setdefault(bucket, []).append(i)
    out: list[list[tuple[str, int]]] = [[] for _ in locations]
    for bucket, indexes in by_bucket.items():
        prefixes = [folders[i][1] for i in indexes]
        listed = storage.list_objects(bucket, os.path.commonprefix(prefixes))  # sorted by key
        keys = [key for key, _ in listed]
        for i, prefix in zip(indexes, prefixes):
            start = end = bisect_left(keys, prefix)  # the keys under a prefix are contiguous
            while end < len(keys) and keys[end].startswith(prefix):
                end += 1
            out[i] = _data_objects(bucket, prefix, listed[start:end])
    return out


class _FooterSchemas:
    """Parquet schemas already read, keyed by the footer they were read from (the footer is the
    file's whole metadata, so a rewritten object with another schema has another key: never stale).
    At most `limit` bytes of footers are kept, the least recently used dropped first."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._held = 0
        self._schemas: "OrderedDict[bytes, pa.Schema]" = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def footer(body: bytes) -> bytes | None:
        """The footer (metadata, its length, the magic), or None when `body` does not end as Parquet."""
        if len(body) < 12 or body[-4:] != b"PAR1":
            return None
        length = int.from_bytes(body[-8:-4], "little")
        return body[-8 - length:] if length + 12 <= len(body) else None

    def schema(self, body: bytes) -> pa.Schema:
        footer = self.footer(body)
        if footer is not None:
            with self._lock:
                found = self._schemas.get(footer)
                if found is not None:
                    self._schemas.move_to_end(footer)
                    return found
        found = pq.read_schema(pa.BufferReader(body))
        if footer is not None and len(footer) <= self._limit:
            with self._lock:
                if footer not in self._schemas:
                    self._schemas[footer] = found
                    self._held += len(footer)
                while self._held > self._limit:
                    dropped, _ = self._schemas.popitem(last=False)
                    self._held -= len(dropped)
        return found


# Footers are a few KB each: 8 MB holds thousands of objects' schemas.
_SCHEMAS = _FooterSchemas(8 * 1024 * 1024)


def parquet_schema(body: bytes) -> pa.Schema:
    """The Arrow schema of a Parquet object (pyarrow's error if it is not Parquet)."""
    return _SCHEMAS.schema(body)


def scan_table(table: dict, *, storage, columns: list[str] | None,
               partitions: list[tuple[list[str], str]] | None,
               partition_columns: list[str] | None = None, blob_sink=None, name: str = "t") -> ScanResult:
    """The table's rows (data columns then partition columns, Glue-typed) from the given partitions
    (None for an unpartitioned table). `columns` limits the data columns read and
    `partition_columns` the partition columns added (None: all)."""
    fmt, serde = table_format(table)
    params = table.get("Parameters") or {}
    data_cols = table_columns(table)
    if columns is not None:
        wanted = set(columns)
        data_cols_read = [c for c in data_cols if c[0] in wanted]
    else:
        data_cols_read = data_cols
    keys = partition_keys(table)
    if partition_columns is not None:
        keys = [k for k in keys if k[0] in set(partition_columns)]
    if fmt != "parquet":
        data_cols_read = data_cols  # text formats are positional (CSV) or read whole anyway
    jobs: list[tuple[str, int, int]] = []  # (uri, size, partition index)
    if partitions is None:
        location = (table.get("StorageDescriptor") or {}).get("Location") or ""
        jobs = [(u, s, -1) for u, s in list_data_objects(storage, location)]
    else:
        listed = list_data_objects_under(storage, [loc for _, loc in partitions])
        for i, objects in enumerate(listed):
            jobs.extend((u, s, i) for u, s in objects)

    if fmt == "parquet":
        if blob_sink is None:
            raise ValueError("Parquet tables are read by DuckDB: a blob_sink is required")
        return _parquet_sql(table, storage, jobs, data_cols_read, keys, partitions, blob_sink, name)

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
    all_keys = partition_keys(table)
    part_table = partition_values_table(all_keys, [v for v, _ in partitions]) if partitions else None
    tables = []
    for job, piece in zip(jobs, pieces):
        if piece is None:
            continue
        if keys:
            idx = job[2]
            for f in key_fields:
                value = part_table.column(f.name)[idx]
                piece = piece.append_column(f, pa.repeat(value, piece.num_rows))
        tables.append(piece)
    full_schema = pa.schema(out_fields + key_fields)
    if columns is not None:
        keep = [f.name for f in full_schema if f.name in set(columns) or f.name in {k for k, _ in keys}]
        keep = keep or [f.name for f in full_schema][:1]
        full_schema = pa.schema([full_schema.field(n) for n in keep])
        tables = [t.select(keep) for t in tables]
    result = pa.concat_tables(tables) if tables else full_schema.empty_table()
    read_jobs = [j for j, p in zip(jobs, pieces) if p is not None]
    return ScanResult(result, sum(s for _, s, _ in read_jobs), [u for u, _, _ in read_jobs])


def _parquet_sql(table: dict, storage, jobs, data_cols, keys, partitions, blob_sink, name: str) -> ScanResult:
    """DuckDB reads the Parquet objects itself (each at the path `blob_sink(path, body, version)`
    gives it: a file kept in memory, or the fsspec file system's): a SELECT that casts each column
    to its Glue type, NULL for columns no file has, and joins the partition values (from the
    catalog) by the file each row was read from (or, when every object read is of one partition,
    puts its values in as constants)."""
    from .types import arrow_to_duckdb

    paths, present, read_jobs, read_parts, schemas = [], {}, [], [], set()
    declared = dict(data_cols)
    checked: dict[pa.Schema, tuple] = {}  # each distinct file schema is checked once
    get_versioned = getattr(storage, "get_object_version", None)
    for n, (uri, size, idx) in enumerate(jobs):
        bucket, key = split_uri(uri)
        try:
            if get_versioned is not None:
                body, version = get_versioned(bucket, key)
            else:
                body, version = storage.get_object(bucket, key), None
        except KeyError:
            continue
        try:
            file_schema = parquet_schema(body)
        except Exception as exc:  # noqa: BLE001 - an unreadable object is bad data to Athena
            raise user_error("HIVE_BAD_DATA", f"Not valid Parquet file: {uri} ({exc})") from None
        signature = checked.get(file_schema)
        if signature is None:
            for f in file_schema:
                present.setdefault(f.name.lower(), f.name)
                glue = declared.get(f.name.lower())
                if glue is not None and not parquet_type_readable(f.type, glue_to_arrow(glue)):
                    raise user_error("HIVE_BAD_DATA", f"Field {f.name}'s type {f.type} in parquet file {uri} is "
                                     f"incompatible with type {glue} defined in table schema")
            signature = checked[file_schema] = tuple((f.name, str(f.type)) for f in file_schema)
        schemas.add(signature)
        paths.append(blob_sink(f"{name}/{n}.parquet", body, version, uri))
        read_jobs.append((uri, size))
        read_parts.append(max(idx, 0))
    select = []
    for col, glue in data_cols:
        duck = arrow_to_duckdb(glue_to_arrow(glue))
        source = f'r."{present[col]}"' if col in present else "NULL"
        select.append(f'CAST({source} AS {duck}) AS "{col}"')
    if not paths:
        return ScanResult(None, 0, [], sql=None)
    parts_sql = None
    if keys and partitions is not None:
        values = partition_values_table(partition_keys(table), [v for v, _ in partitions]).select([k for k, _ in keys])
        literals = _partition_literals(values)
        if len(set(read_parts)) == 1:
            # Every object read is of one partition (a partition-filtered query): its values are
            # constants, as the join below would give every row, without joining each row.
            only = read_parts[0]
            select += [f'{literal} AS "{k}"' for literal, (k, _) in zip(literals[only], keys)]
        else:
            file_column = "__file"
            while file_column in present:  # a name no file has
                file_column += "_"
            parts_sql = _files_sql(values.column_names, [literals[i] for i in read_parts], paths, file_column)
            select += [f'p."{k}" AS "{k}"' for k, _ in keys]
    listing = ", ".join(_quote(p) for p in paths)
    # Files of one schema are read by it (DuckDB binds the first file's footer only); files that
    # differ are united by column name (the footer of every file read at bind).
    source = f"read_parquet([{listing}], union_by_name = {'true' if len(schemas) > 1 else 'false'}, " \
             "hive_partitioning = false"
    if parts_sql is not None:
        source += f", filename = '{file_column}') AS r JOIN {parts_sql} ON r.\"{file_column}\" = p.\"{file_column}\""
    else:
        source += ") AS r"
    sql = f"SELECT {', '.join(select)} FROM {source}"
    return ScanResult(None, sum(s for _, s in read_jobs), [u for u, _ in read_jobs], sql=sql)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _files_sql(names: list[str], literals: list[list[str]], paths: list[str], file_column: str) -> str:
    """Each file's partition values (typed literals) as an inline DuckDB VALUES list
    `p(<file_column>, <names>)`, keyed by the path DuckDB reads it at: part of the scan's SQL, so
    nothing is registered on the connection. (Paths are the files', not Hive-style `key=value`
    folders: an object kept in memory is read at /proc/self/fd/N.)"""
    rows = [f"({_quote(path)}, " + ", ".join(row) + ")" for path, row in zip(paths, literals)]
    columns = ", ".join([f'"{file_column}"'] + [f'"{n}"' for n in names])
    return f"(VALUES {', '.join(rows)}) AS p({columns})"


def _partition_literals(values: pa.Table) -> list[list[str]]:
    """Each partition's values as DuckDB literals: its canonical text cast to the column's DuckDB
    type (NULL where the value did not convert)."""
    from .types import arrow_to_duckdb

    def literal(value, duck: str) -> str:
        if value is None:
            return f"CAST(NULL AS {duck})"
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, float):
            text = repr(value)
        elif hasattr(value, "isoformat"):
            text = value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
        else:
            text = str(value)
        return "CAST('" + text.replace("'", "''") + f"' AS {duck})"

    types = [arrow_to_duckdb(f.type) for f in values.schema]
    columns = [values.column(i).to_pylist() for i in range(values.num_columns)]
    return [[literal(col[i], duck) for col, duck in zip(columns, types)] for i in range(values.num_rows)]


_INT_WIDTH = {8: 1, 16: 2, 32: 3, 64: 4}


def parquet_type_readable(physical: pa.DataType, declared: pa.DataType) -> bool:
    """Whether Athena's Parquet reader reads a file column of `physical` type as `declared`:
    the same type, a wider integer, float as double, a decimal that fits, any timestamp unit;
    nested types field by field. Anything else is HIVE_BAD_DATA (no string -> number, no narrowing)."""
    t = pa.types
    if physical == declared:
        return True
    if t.is_integer(physical) and t.is_integer(declared):
        return _INT_WIDTH[physical.bit_width] <= _INT_WIDTH[declared.bit_width]
    if t.is_integer(physical) and t.is_decimal(declared):
        return True
    if t.is_floating(physical) and t.is_floating(declared):
        return physical.bit_width <= declared.bit_width
    if t.is_decimal(physical) and t.is_decimal(declared):
        return declared.precision - declared.scale >= physical.precision - physical.scale and declared.scale >= physical.scale
    if t.is_timestamp(physical) and t.is_timestamp(declared):
        return True
    if (t.is_string(physical) or t.is_large_string(physical) or t.is_dictionary(physical)) and t.is_string(declared):
        return True
    if (t.is_binary(physical) or t.is_large_binary(physical)) and (t.is_binary(declared) or t.is_string(declared)):
        return True
    if t.is_date(physical) and t.is_date(declared):
        return True
    if (t.is_list(physical) or t.is_large_list(physical)) and t.is_list(declared):
        return parquet_type_readable(physical.value_type, declared.value_type)
    if t.is_map(physical) and t.is_map(declared):
        return parquet_type_readable(physical.key_type, declared.key_type) and \
            parquet_type_readable(physical.item_type, declared.item_type)
    if t.is_struct(physical) and t.is_struct(declared):
        fields = {f.name.lower(): f.type for f in physical}
        return all(parquet_type_readable(fields[f.name.lower()], f.type) for f in declared if f.name.lower() in fields)
    return False
