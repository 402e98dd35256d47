"""Test support: build small lakes (Parquet/JSON/CSV objects + Glue entries) in the in-memory
Catalog/Storage of `engine.memory`, and run queries on them."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline_lib.localcloud.athena.engine import Query
from pipeline_lib.localcloud.athena.engine.memory import MemoryCatalog, MemoryStorage

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


class Lake:
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
        self.n += 1
        return Query(sql, catalog=self.catalog, storage=self.storage,
                     database=self.database if database == "__default__" else database, params=params,
                     query_id=f"q{self.n:04d}", output_location="s3://results/athena/").run()

    def rows(self, sql: str, **kw) -> list[list[str | None]]:
        return list(self.query(sql, **kw).render_rows())
