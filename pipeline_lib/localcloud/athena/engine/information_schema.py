"""information_schema (schemata, tables, columns, views) built from the Glue catalog, as Athena
answers it: types in Trino's spelling (varchar, integer, row(...), timestamp(3))."""

from __future__ import annotations

import pyarrow as pa

from pipeline_lib import schema

from .resolve_views import decode_view_sql

__all__ = ["SCHEMA", "information_schema_table", "trino_type"]

SCHEMA = "information_schema"
_NAMES = {"string": "varchar", "int": "integer", "float": "real", "binary": "varbinary", "timestamp": "timestamp(3)"}


def trino_type(glue: str) -> str:
    """Glue's type as Trino spells it (information_schema.columns.data_type, SHOW/DESCRIBE of views)."""
    return _trino(schema.parse_type(glue, catalog=True))


def _trino(t) -> str:
    if isinstance(t, schema.ArrayType):
        return f"array({_trino(t.element)})"
    if isinstance(t, schema.MapType):
        return f"map({_trino(t.key)}, {_trino(t.value)})"
    if isinstance(t, schema.StructType):
        return "row(" + ", ".join(f"{f.name} {_trino(f.type)}" for f in t.fields) + ")"
    name = str(t)
    return _NAMES.get(name, name)


def _tables(catalog) -> list[tuple[str, dict]]:
    out = []
    for db in catalog.get_databases():
        for t in catalog.get_tables(db["Name"]):
            out.append((db["Name"], t))
    return out


def information_schema_table(catalog, name: str, catalog_name: str = "awsdatacatalog") -> pa.Table | None:
    if name == "schemata":
        names = sorted([d["Name"] for d in catalog.get_databases()] + [SCHEMA])
        return pa.table({"catalog_name": [catalog_name] * len(names), "schema_name": names})
    if name == "tables":
        rows = [(db, t["Name"], "VIEW" if t.get("TableType") == "VIRTUAL_VIEW" else "BASE TABLE")
                for db, t in _tables(catalog)]
        return pa.table({"table_catalog": [catalog_name] * len(rows), "table_schema": [r[0] for r in rows],
                         "table_name": [r[1] for r in rows], "table_type": [r[2] for r in rows]})
    if name == "columns":
        rows = []
        for db, t in _tables(catalog):
            cols = list((t.get("StorageDescriptor") or {}).get("Columns") or []) + list(t.get("PartitionKeys") or [])
            for i, c in enumerate(cols, 1):
                rows.append((db, t["Name"], c["Name"].lower(), i, trino_type(c["Type"]), c.get("Comment")))
        fields = ["table_schema", "table_name", "column_name", "ordinal_position", "data_type", "comment"]
        data = {f: [r[i] for r in rows] for i, f in enumerate(fields)}
        return pa.table({"table_catalog": [catalog_name] * len(rows), "table_schema": data["table_schema"],
                         "table_name": data["table_name"], "column_name": data["column_name"],
                         "ordinal_position": pa.array(data["ordinal_position"], pa.int64()),
                         "column_default": pa.nulls(len(rows), pa.string()), "is_nullable": ["YES"] * len(rows),
                         "data_type": data["data_type"], "comment": pa.array(data["comment"], pa.string()),
                         "extra_info": pa.nulls(len(rows), pa.string())})
    if name == "views":
        rows = [(db, t["Name"], decode_view_sql(t.get("ViewOriginalText") or ""))
                for db, t in _tables(catalog) if t.get("TableType") == "VIRTUAL_VIEW"]
        return pa.table({"table_catalog": [catalog_name] * len(rows), "table_schema": [r[0] for r in rows],
                         "table_name": [r[1] for r in rows], "view_definition": [r[2] for r in rows]})
    return None
