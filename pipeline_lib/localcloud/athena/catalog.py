"""The engine's Catalog protocol over the local cloud's own Glue Data Catalog (moto's backend,
in-process), in the shapes boto3's glue client returns; and the Athena API's views of it
(GetDatabase, ListDatabases, GetTableMetadata, ListTableMetadata).

The moto internals used here are declared in `seams.build_seams` (expect)."""
from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from typing import Any

from ..moto_backends import stable_read

__all__ = ["MotoGlueCatalog", "database_api", "matches", "table_metadata"]


class MotoGlueCatalog:
    def __init__(self, glue_backend: Any):
        self._glue = glue_backend

    # -- databases ---------------------------------------------------------------------------------
    def get_databases(self) -> list[dict]:
        databases = stable_read(lambda: list(self._glue.databases.values()))
        return [copy.deepcopy(db.as_dict()) for db in databases]

    def get_database(self, name: str) -> dict | None:
        db = self._glue.databases.get(name)
        return None if db is None else copy.deepcopy(db.as_dict())

    def create_database(self, database_input: dict) -> None:
        self._glue.create_database(database_input["Name"], copy.deepcopy(database_input))

    def delete_database(self, name: str) -> None:
        self._glue.delete_database(name)

    # -- tables ------------------------------------------------------------------------------------
    def _table(self, database: str, name: str) -> Any:
        db = self._glue.databases.get(database)
        return None if db is None else db.tables.get(name)

    def get_tables(self, database: str) -> list[dict]:
        db = self._glue.databases.get(database)
        if db is None:
            return []
        tables = stable_read(lambda: list(db.tables.values()))
        return [copy.deepcopy(table.as_dict()) for table in tables]

    def get_table(self, database: str, name: str) -> dict | None:
        table = self._table(database, name)
        return None if table is None else copy.deepcopy(table.as_dict())

    def create_table(self, database: str, table_input: dict) -> None:
        self._glue.create_table(database, table_input["Name"], copy.deepcopy(table_input))

    def update_table(self, database: str, table_input: dict) -> None:
        self._glue.update_table(database, table_input["Name"], copy.deepcopy(table_input))

    def delete_table(self, database: str, name: str) -> None:
        self._glue.delete_table(database, name)

    # -- partitions --------------------------------------------------------------------------------
    def get_partitions(self, database: str, table: str) -> list[dict]:
        fake = self._table(database, table)
        if fake is None:
            return []
        partitions = stable_read(lambda: list(fake.partitions.values()))
        return [copy.deepcopy(p.as_dict()) for p in partitions]

    def partition_locations(self, database: str, table: str) -> list[tuple[list[str], str]]:
        """Each partition's values and location, read from moto's partition input without copying
        the rest (a scan asks for them per query; `get_partitions` deep-copies whole partitions)."""
        fake = self._table(database, table)
        if fake is None:
            return []
        inputs = stable_read(lambda: [p.partition_input for p in fake.partitions.values()])
        return [(list(i.get("Values") or []), (i.get("StorageDescriptor") or {}).get("Location") or "") for i in inputs]

    def create_partitions(self, database: str, table: str, partition_inputs: list[dict]) -> None:
        for partition_input in partition_inputs:
            self._glue.create_partition(database, table, copy.deepcopy(partition_input))

    def delete_partitions(self, database: str, table: str, values: list[list[str]]) -> None:
        fake = self._glue.get_table(database, table)
        for value in values:
            fake.delete_partition(value)


# -- the Athena API's views of the catalog ---------------------------------------------------------
def database_api(database: dict) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": database["Name"]}
    if database.get("Description"):
        out["Description"] = database["Description"]
    out["Parameters"] = dict(database.get("Parameters") or {})
    return out


def _columns(columns: list[dict] | None) -> list[dict[str, str]]:
    out = []
    for column in columns or []:
        item = {"Name": column["Name"], "Type": column.get("Type", "")}
        if column.get("Comment"):
            item["Comment"] = column["Comment"]
        out.append(item)
    return out


def table_metadata(table: dict) -> dict[str, Any]:
    """Athena's TableMetadata: the Glue table's columns, partition keys and parameters, with the
    storage descriptor's formats, location and SerDe folded into Parameters as Athena shows them."""
    descriptor = table.get("StorageDescriptor") or {}
    parameters = dict(table.get("Parameters") or {})
    if descriptor.get("InputFormat"):
        parameters["inputformat"] = descriptor["InputFormat"]
    if descriptor.get("OutputFormat"):
        parameters["outputformat"] = descriptor["OutputFormat"]
    if descriptor.get("Location"):
        parameters["location"] = descriptor["Location"]
    serde = descriptor.get("SerdeInfo") or {}
    if serde.get("SerializationLibrary"):
        parameters["serde.serialization.lib"] = serde["SerializationLibrary"]
    for key, value in (serde.get("Parameters") or {}).items():
        parameters[f"serde.param.{key}"] = value
    out: dict[str, Any] = {
        "Name": table["Name"],
        "TableType": table.get("TableType", "EXTERNAL_TABLE"),
        "Columns": _columns(descriptor.get("Columns")),
        "PartitionKeys": _columns(table.get("PartitionKeys")),
        "Parameters": parameters,
    }
    created = table.get("CreateTime")
    if isinstance(created, datetime):
        # moto keeps naive UTC datetimes
        out["CreateTime"] = (created if created.tzinfo else created.replace(tzinfo=timezone.utc)).timestamp()
    return out


def matches(expression: str | None, name: str) -> bool:
    """ListTableMetadata's Expression: a regex pattern (`*` as a wildcard), whole-name match."""
    if not expression:
        return True
    pattern = expression.replace("*", ".*") if ".*" not in expression else expression
    return re.fullmatch(pattern, name, flags=re.IGNORECASE) is not None
