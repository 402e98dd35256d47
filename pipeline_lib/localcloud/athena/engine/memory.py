"""In-memory Catalog and Storage (and MemoryLake, a builder over both): the test support the
engine's unit tests, conformance suite and benchmark run on.

Deliberately small and dict-based (the shapes boto3 returns), so the engine's tests need no moto;
the service's adapters over moto implement the same protocols. Not used by the running cloud.
"""

from __future__ import annotations

import copy
import io
import json
import threading

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["MemoryCatalog", "MemoryStorage", "MemoryLake", "split_s3_uri", "parquet_bytes", "json_bytes",
           "PARQUET", "JSON", "CSV"]


def split_s3_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


class _Body:
    """A MemoryStorage object's version: its bytes object itself (held, so its id is never reused
    while the version is), equal only to the same object; `objects` may be assigned directly."""

    __slots__ = ("body",)

    def __init__(self, body: bytes) -> None:
        self.body = body

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Body) and other.body is self.body

    def __hash__(self) -> int:
        return id(self.body)


class MemoryStorage:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.reads: list[str] = []  # s3:// URIs read, in order (tests check pruning with it)
        self._lock = threading.Lock()

    def list_objects(self, bucket: str, prefix: str) -> list[tuple[str, int]]:
        with self._lock:
            return sorted((k, len(v)) for (b, k), v in self.objects.items() if b == bucket and k.startswith(prefix))

    def get_object(self, bucket: str, key: str) -> bytes:
        with self._lock:
            self.reads.append(f"s3://{bucket}/{key}")
            return self.objects[(bucket, key)]

    def get_object_version(self, bucket: str, key: str) -> tuple[bytes, _Body]:
        body = self.get_object(bucket, key)
        return body, _Body(body)

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        with self._lock:
            self.objects[(bucket, key)] = bytes(body)

    def delete_objects(self, bucket: str, keys: list[str]) -> None:
        with self._lock:
            for k in keys:
                self.objects.pop((bucket, k), None)

    def put_uri(self, uri: str, body: bytes) -> None:
        self.put_object(*split_s3_uri(uri), body)

    def keys(self, uri_prefix: str) -> list[str]:
        bucket, prefix = split_s3_uri(uri_prefix)
        return [k for k, _ in self.list_objects(bucket, prefix)]


class MemoryCatalog:
    def __init__(self) -> None:
        self.databases: dict[str, dict] = {}
        self.tables: dict[tuple[str, str], dict] = {}
        self.partitions: dict[tuple[str, str], list[dict]] = {}

    def get_databases(self) -> list[dict]:
        return [copy.deepcopy(self.databases[n]) for n in sorted(self.databases)]

    def get_database(self, name: str) -> dict | None:
        db = self.databases.get(name)
        return copy.deepcopy(db) if db else None

    def create_database(self, database_input: dict) -> None:
        name = database_input["Name"]
        if name in self.databases:
            raise KeyError(f"database {name} exists")
        self.databases[name] = {"CatalogId": "123456789012", **copy.deepcopy(database_input)}

    def delete_database(self, name: str) -> None:
        self.databases.pop(name)
        for key in [k for k in self.tables if k[0] == name]:
            self.tables.pop(key)
            self.partitions.pop(key, None)

    def get_tables(self, database: str) -> list[dict]:
        return [copy.deepcopy(t) for (d, n), t in sorted(self.tables.items()) if d == database]

    def get_table(self, database: str, name: str) -> dict | None:
        t = self.tables.get((database, name))
        return copy.deepcopy(t) if t else None

    def create_table(self, database: str, table_input: dict) -> None:
        if database not in self.databases:
            raise KeyError(f"database {database} not found")
        key = (database, table_input["Name"])
        if key in self.tables:
            raise KeyError(f"table {key} exists")
        self.tables[key] = {"DatabaseName": database, **copy.deepcopy(table_input)}
        self.partitions[key] = []

    def update_table(self, database: str, table_input: dict) -> None:
        key = (database, table_input["Name"])
        self.tables[key] = {"DatabaseName": database, **copy.deepcopy(table_input)}

    def delete_table(self, database: str, name: str) -> None:
        self.tables.pop((database, name))
        self.partitions.pop((database, name), None)

    def get_partitions(self, database: str, table: str) -> list[dict]:
        return copy.deepcopy(self.partitions.get((database, table), []))

    def partition_locations(self, database: str, table: str) -> list[tuple[list[str], str]]:
        return [(list(p["Values"]), (p.get("StorageDescriptor") or {}).get("Location") or "")
                for p in self.partitions.get((database, table), [])]

    def create_partitions(self, database: str, table: str, partition_inputs: list[dict]) -> None:
        parts = self.partitions.setdefault((database, table), [])
        existing = {tuple(p["Values"]) for p in parts}
        for p in partition_inputs:
            if tuple(p["Values"]) in existing:
                raise KeyError(f"partition {p['Values']} exists")
            parts.append({"DatabaseName": database, "TableName": table, **copy.deepcopy(p)})

    def delete_partitions(self, database: str, table: str, values: list[list[str]]) -> None:
        drop = {tuple(v) for v in values}
        self.partitions[(database, table)] = [
            p for p in self.partitions.get((database, table), []) if tuple(p["Values"]) not in drop
        ]


PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
}
JSON = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
}
CSV = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                  "Parameters": {"field.delim": ","}},
}


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def json_bytes(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()

class MemoryLake:
    """A catalog + storage pair with helpers to add tables/objects and run queries (tests, benchmarks)."""

    def __init__(self, database: str = "db") -> None:
        self.catalog = MemoryCatalog()
        self.storage = MemoryStorage()
        self.database = database
        self.catalog.create_database({"Name": database})
        self.n = 0

    def table(self, name: str, columns: list[tuple[str, str]], location: str, fmt: dict = PARQUET,
              partition_keys: list[tuple[str, str]] = (), parameters: dict | None = None, database: str | None = None) -> None:
        self.catalog.create_table(database or self.database, {
            "Name": name, "TableType": "EXTERNAL_TABLE", "Parameters": dict(parameters or {}),
            "PartitionKeys": [{"Name": n, "Type": t} for n, t in partition_keys],
            "StorageDescriptor": {"Columns": [{"Name": n, "Type": t} for n, t in columns], "Location": location,
                                  **json.loads(json.dumps(fmt))},
        })

    def partition(self, name: str, values: list[str], location: str, database: str | None = None) -> None:
        self.catalog.create_partitions(database or self.database, name, [
            {"Values": values, "StorageDescriptor": {"Location": location}}])

    def put(self, uri: str, body: bytes) -> None:
        self.storage.put_uri(uri, body)

    def query(self, sql: str, params: list[str] | None = None, database: str | None = "__default__"):
        from .query import Query
        self.n += 1
        return Query(sql, catalog=self.catalog, storage=self.storage,
                     database=self.database if database == "__default__" else database, params=params,
                     query_id=f"q{self.n:04d}", output_location="s3://results/athena/").run()

    def rows(self, sql: str, **kw) -> list[list[str | None]]:
        return list(self.query(sql, **kw).render_rows())
