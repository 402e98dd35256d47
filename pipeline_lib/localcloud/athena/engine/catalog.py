"""Resolving table names through the Glue catalog, as Athena does.

`t` (the query's database), `db.t`, `"awsdatacatalog"."db"."t"`; names are case-insensitive
(Glue stores them lower case). Missing ones fail with Athena's TABLE_NOT_FOUND / SCHEMA_NOT_FOUND.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from .errors import user_error

__all__ = ["TableName", "table_name", "lookup_table", "require_database", "position"]


@dataclass(frozen=True)
class TableName:
    catalog: str
    database: str
    name: str

    def __str__(self) -> str:
        return f"{self.catalog}.{self.database}.{self.name}"


def position(node: exp.Expression | None) -> str:
    """'line L:C' of where a node starts in the statement (sqlglot's meta holds the token's end)."""
    ident = node
    if isinstance(node, (exp.Table, exp.Column)):
        parts = node.parts if isinstance(node, exp.Column) else [p for p in (node.args.get("catalog"), node.args.get("db"), node.this) if p]
        ident = parts[0] if parts else node.this
    meta = getattr(ident, "meta", None) or {}
    if not meta and isinstance(ident, exp.Expression) and isinstance(ident.this, exp.Expression):
        meta = ident.this.meta or {}
    if "line" not in meta:
        return "line 1:1"
    width = meta["end"] - meta["start"] + (2 if getattr(ident, "args", {}).get("quoted") else 0)
    return f"line {meta['line']}:{max(1, meta['col'] - width)}"


def table_name(table: exp.Table, default_db: str | None, catalog_name: str) -> TableName:
    catalog = (table.catalog or catalog_name).lower()
    db = table.db or default_db
    if not db:
        raise user_error("MISSING_SCHEMA_NAME", f"{position(table)}: Schema must be specified when session schema is not set")
    return TableName(catalog, db.lower(), table.name.lower())


def require_database(catalog, name: str, node: exp.Expression | None = None) -> dict:
    db = catalog.get_database(name)
    if db is None:
        where = position(node) + ": " if node is not None else ""
        raise user_error("SCHEMA_NOT_FOUND", f"{where}Schema '{name}' does not exist")
    return db


def lookup_table(catalog, name: TableName, node: exp.Expression | None) -> dict:
    if name.catalog != "awsdatacatalog":
        raise user_error("CATALOG_NOT_FOUND", f"{position(node)}: Catalog '{name.catalog}' does not exist")
    where = position(node)
    if catalog.get_database(name.database) is None:
        raise user_error("SCHEMA_NOT_FOUND", f"{where}: Schema '{name.database}' does not exist")
    table = catalog.get_table(name.database, name.name)
    if table is None:
        raise user_error("TABLE_NOT_FOUND", f"{where}: Table '{name}' does not exist")
    return table
