"""Catalog and storage writes of one statement, undone if the statement fails (Athena leaves the
catalog and S3 as they were when a query fails)."""

from __future__ import annotations

__all__ = ["Changes"]


class Changes:
    def __init__(self, catalog, storage) -> None:
        self.catalog = catalog
        self.storage = storage
        self._undo: list = []

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        try:
            previous = self.storage.get_object(bucket, key)
        except KeyError:
            previous = None
        self.storage.put_object(bucket, key, body)
        if previous is None:
            self._undo.append(lambda: self.storage.delete_objects(bucket, [key]))
        else:
            self._undo.append(lambda: self.storage.put_object(bucket, key, previous))

    def create_database(self, database_input: dict) -> None:
        self.catalog.create_database(database_input)
        self._undo.append(lambda: self.catalog.delete_database(database_input["Name"]))

    def delete_database(self, name: str) -> None:
        saved = self.catalog.get_database(name)
        self.catalog.delete_database(name)
        keep = {k: saved[k] for k in ("Name", "Description", "LocationUri", "Parameters") if k in saved}
        self._undo.append(lambda: self.catalog.create_database(keep))

    def create_table(self, database: str, table_input: dict) -> None:
        self.catalog.create_table(database, table_input)
        self._undo.append(lambda: self.catalog.delete_table(database, table_input["Name"]))

    def update_table(self, database: str, table_input: dict) -> None:
        saved = self.catalog.get_table(database, table_input["Name"])
        self.catalog.update_table(database, table_input)
        self._undo.append(lambda: self.catalog.update_table(database, _table_input(saved)))

    def delete_table(self, database: str, name: str) -> None:
        saved = self.catalog.get_table(database, name)
        partitions = self.catalog.get_partitions(database, name)
        self.catalog.delete_table(database, name)

        def undo() -> None:
            self.catalog.create_table(database, _table_input(saved))
            if partitions:
                self.catalog.create_partitions(database, name, [_partition_input(p) for p in partitions])
        self._undo.append(undo)

    def create_partitions(self, database: str, table: str, partition_inputs: list[dict]) -> None:
        if not partition_inputs:
            return
        self.catalog.create_partitions(database, table, partition_inputs)
        values = [list(p["Values"]) for p in partition_inputs]
        self._undo.append(lambda: self.catalog.delete_partitions(database, table, values))

    def delete_partitions(self, database: str, table: str, values: list[list[str]]) -> None:
        wanted = {tuple(v) for v in values}
        saved = [p for p in self.catalog.get_partitions(database, table) if tuple(p["Values"]) in wanted]
        if not saved:
            return
        self.catalog.delete_partitions(database, table, values)
        self._undo.append(lambda: self.catalog.create_partitions(database, table, [_partition_input(p) for p in saved]))

    def rollback(self) -> None:
        while self._undo:
            undo = self._undo.pop()
            try:
                undo()
            except Exception:  # noqa: BLE001 - undo as much as possible
                pass


_TABLE_INPUT_KEYS = ("Name", "Description", "Owner", "Retention", "StorageDescriptor", "PartitionKeys",
                     "ViewOriginalText", "ViewExpandedText", "TableType", "Parameters")


def _table_input(table: dict) -> dict:
    return {k: table[k] for k in _TABLE_INPUT_KEYS if k in table}


def _partition_input(p: dict) -> dict:
    return {k: p[k] for k in ("Values", "StorageDescriptor", "Parameters") if k in p}
