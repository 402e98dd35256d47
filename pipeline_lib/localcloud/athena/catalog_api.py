"""The Athena API's views of the data catalogs: ListDataCatalogs, GetDataCatalog (AwsDataCatalog,
the account's Glue Data Catalog, always exists), GetDatabase, ListDatabases, GetTableMetadata,
ListTableMetadata (read from the local Glue catalog)."""
from __future__ import annotations

from typing import Any

from .backends import Backends
from .catalog import MotoGlueCatalog, database_api, matches, table_metadata
from .errors import InvalidRequest, MetadataError
from .paging import list_page, with_token

__all__ = ["AWS_DATA_CATALOG", "CatalogApi"]

AWS_DATA_CATALOG = "AwsDataCatalog"


class CatalogApi:
    ACTIONS = ("list_data_catalogs", "get_data_catalog", "get_database", "list_databases", "get_table_metadata",
               "list_table_metadata")

    def __init__(self, backends: Backends):
        self.backends = backends

    def _glue(self, account: str, region: str, catalog_name: str | None) -> MotoGlueCatalog:
        if not catalog_name or catalog_name.lower() != AWS_DATA_CATALOG.lower():
            raise MetadataError(f"Catalog {catalog_name} not found or is not a Glue Data Catalog.")
        return MotoGlueCatalog(self.backends.glue(account, region))

    def _database(self, catalog: MotoGlueCatalog, name: str | None) -> dict[str, Any]:
        database = catalog.get_database(name or "")
        if database is None:
            raise MetadataError(f"Database {name} not found.")
        return database

    def list_data_catalogs(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        catalogs = [{"CatalogName": AWS_DATA_CATALOG, "Type": "GLUE"}]
        catalogs += [{"CatalogName": c.name, "Type": c.type}
                     for c in self.backends.athena(account, region).data_catalogs.values()]
        page, token = list_page(catalogs, p.get("NextToken"), p.get("MaxResults"), 50, "catalogs")
        return with_token({"DataCatalogsSummary": page}, token)

    def get_data_catalog(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        name = p.get("Name") or ""
        if name.lower() == AWS_DATA_CATALOG.lower():
            return {"DataCatalog": {"Name": AWS_DATA_CATALOG, "Description": "AWS Glue Data Catalog", "Type": "GLUE",
                                    "Parameters": {"catalog-id": account}}}
        catalog = self.backends.athena(account, region).data_catalogs.get(name)
        if catalog is None:
            raise InvalidRequest(f"DataCatalog {name} was not found")
        out = {"Name": catalog.name, "Type": catalog.type, "Parameters": dict(catalog.parameters or {})}
        if catalog.description:
            out["Description"] = catalog.description
        return {"DataCatalog": out}

    def get_database(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        catalog = self._glue(account, region, p.get("CatalogName"))
        return {"Database": database_api(self._database(catalog, p.get("DatabaseName")))}

    def list_databases(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        catalog = self._glue(account, region, p.get("CatalogName"))
        databases = sorted((database_api(d) for d in catalog.get_databases()), key=lambda d: d["Name"])
        page, token = list_page(databases, p.get("NextToken"), p.get("MaxResults"), 50, "databases")
        return with_token({"DatabaseList": page}, token)

    def get_table_metadata(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        catalog = self._glue(account, region, p.get("CatalogName"))
        database = self._database(catalog, p.get("DatabaseName"))["Name"]
        table = catalog.get_table(database, p.get("TableName") or "")
        if table is None:
            raise MetadataError(f"Table {p.get('TableName')} not found.")
        return {"TableMetadata": table_metadata(table)}

    def list_table_metadata(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        catalog = self._glue(account, region, p.get("CatalogName"))
        database = self._database(catalog, p.get("DatabaseName"))["Name"]
        tables = sorted((t for t in catalog.get_tables(database) if matches(p.get("Expression"), t["Name"])),
                        key=lambda t: t["Name"])
        page, token = list_page([table_metadata(t) for t in tables], p.get("NextToken"), p.get("MaxResults"), 50,
                                f"tables:{database}")
        return with_token({"TableMetadataList": page}, token)
