"""AWS::Glue::Database, AWS::Glue::Table and AWS::Glue::Crawler in moto's Glue Data Catalog.

Ref gives the name of each. Inputs (DatabaseInput, TableInput, the crawler's settings) change in
place as UpdateDatabase / UpdateTable / UpdateCrawler would; names, the catalog and a table's
database need a new resource.
"""
from __future__ import annotations

import json
from typing import Any

from moto.core.utils import utcnow

from ..cfn.base import LocalResource, ResourceError
from ..cfn.shapes import conform, input_member


def _check_catalog(resource: LocalResource) -> None:
    catalog = resource.properties.get("CatalogId")
    if catalog is not None and str(catalog) != resource.account_id:
        raise ResourceError(
            f"CatalogId {catalog} is not this account's Data Catalog ({resource.account_id}); "
            "use {\"Ref\": \"AWS::AccountId\"}"
        )


class Database(LocalResource):
    TYPE = "AWS::Glue::Database"
    REPLACE_ON = ("CatalogId",)

    def __init__(self, name: str, properties: dict[str, Any], *args: Any, **kwargs: Any):
        given = (properties.get("DatabaseInput") or {}).get("Name") or properties.get("DatabaseName")
        # Glue lower-cases names; a generated one must be a valid database name too.
        super().__init__(given or name.lower().replace("-", "_"), properties, *args, **kwargs)

    def _input(self, properties: dict[str, Any]) -> dict[str, Any]:
        if "DatabaseInput" not in properties:
            raise ResourceError(f"{self.TYPE} needs the property DatabaseInput")
        database_input = conform(
            properties["DatabaseInput"], input_member("glue", "CreateDatabase", "DatabaseInput"), "DatabaseInput"
        )
        database_input["Name"] = self.name
        return database_input

    def needs_replacement(self, new_properties: dict[str, Any]) -> bool:
        new_name = (new_properties.get("DatabaseInput") or {}).get("Name") or new_properties.get("DatabaseName")
        return super().needs_replacement(new_properties) or (new_name is not None and new_name != self.name)

    def create(self) -> None:
        _check_catalog(self)
        self.backend("glue").create_database(self.name, self._input(self.properties))

    def update(self, properties: dict[str, Any]) -> None:
        self.backend("glue").update_database(self.name, self._input(properties))

    def remove(self) -> None:
        backend = self.backend("glue")
        if self.name in backend.databases:
            backend.delete_database(self.name)


class Table(LocalResource):
    TYPE = "AWS::Glue::Table"
    REPLACE_ON = ("CatalogId", "DatabaseName")

    def __init__(self, name: str, properties: dict[str, Any], *args: Any, **kwargs: Any):
        given = (properties.get("TableInput") or {}).get("Name")
        super().__init__(given or name.lower().replace("-", "_"), properties, *args, **kwargs)

    @property
    def database_name(self) -> str:
        return self.properties.get("DatabaseName", "")

    def _input(self, properties: dict[str, Any]) -> dict[str, Any]:
        for required in ("DatabaseName", "TableInput"):
            if required not in properties:
                raise ResourceError(f"{self.TYPE} needs the property {required}")
        table_input = conform(properties["TableInput"], input_member("glue", "CreateTable", "TableInput"), "TableInput")
        table_input["Name"] = self.name
        return table_input

    def needs_replacement(self, new_properties: dict[str, Any]) -> bool:
        new_name = (new_properties.get("TableInput") or {}).get("Name")
        return super().needs_replacement(new_properties) or (new_name is not None and new_name != self.name)

    def create(self) -> None:
        _check_catalog(self)
        table_input = self._input(self.properties)
        open_format = self.properties.get("OpenTableFormatInput")
        if open_format is not None:
            open_format = conform(
                open_format, input_member("glue", "CreateTable", "OpenTableFormatInput"), "OpenTableFormatInput"
            )
        self.backend("glue").create_table(self.database_name, self.name, table_input, open_format)

    def update(self, properties: dict[str, Any]) -> None:
        self.backend("glue").update_table(self.database_name, self.name, self._input(properties))

    def remove(self) -> None:
        database = self.backend("glue").databases.get(self.database_name)
        if database is not None:  # deleting a database deletes its tables
            database.tables.pop(self.name, None)


# Template property -> keyword of moto's GlueBackend.create_crawler (and FakeCrawler attribute).
CRAWLER_SETTINGS = {
    "Role": "role",
    "DatabaseName": "database_name",
    "Description": "description",
    "Targets": "targets",
    "Schedule": "schedule",
    "Classifiers": "classifiers",
    "TablePrefix": "table_prefix",
    "SchemaChangePolicy": "schema_change_policy",
    "RecrawlPolicy": "recrawl_policy",
    "LineageConfiguration": "lineage_configuration",
    "Configuration": "configuration",
    "CrawlerSecurityConfiguration": "crawler_security_configuration",
}


class Crawler(LocalResource):
    TYPE = "AWS::Glue::Crawler"
    NAME_PROPERTY = "Name"

    def _settings(self, properties: dict[str, Any]) -> dict[str, Any]:
        unknown = set(properties) - set(CRAWLER_SETTINGS) - {"Name", "Tags"}
        if unknown:
            raise ResourceError(f"{self.TYPE} property {sorted(unknown)[0]} is not supported by the local cloud")
        if "Role" not in properties or "Targets" not in properties:
            raise ResourceError(f"{self.TYPE} needs the properties Role and Targets")
        settings: dict[str, Any] = {}
        for prop, keyword in CRAWLER_SETTINGS.items():
            value = properties.get(prop)
            if prop == "Schedule":  # the template nests the expression; the API takes the string
                value = (value or {}).get("ScheduleExpression")
            elif value is not None:
                value = conform(value, input_member("glue", "CreateCrawler", prop), prop)
            settings[keyword] = value
        targets = settings["targets"]
        if not any(targets.get(kind) for kind in targets):
            raise ResourceError(f"{self.TYPE} {self.name}: Targets has no target")
        if settings["configuration"]:
            try:
                json.loads(settings["configuration"])
            except ValueError as exc:
                raise ResourceError(f"{self.TYPE} {self.name}: Configuration is not valid JSON ({exc})") from None
        self._check_role(settings["role"])
        return settings

    def _check_role(self, role: str) -> None:
        # Glue assumes the role when the crawler is created: it has to exist (name or ARN).
        iam = self.backend("iam")
        try:
            if role.startswith("arn:"):
                iam.get_role_by_arn(role)
            else:
                iam.get_role(role.rsplit("/", 1)[-1])
        except Exception:
            raise ResourceError(f"{self.TYPE} {self.name}: role {role} does not exist") from None

    def create(self) -> None:
        settings = self._settings(self.properties)
        tags = self.properties.get("Tags") or {}
        self.backend("glue").create_crawler(name=self.name, tags=dict(tags), **settings)

    def update(self, properties: dict[str, Any]) -> None:
        settings = self._settings(properties)
        crawler = self.backend("glue").get_crawler(self.name)
        if crawler.status != "READY":
            raise ResourceError(f"Crawler {self.name} is {crawler.status}; it cannot be updated until it is READY")
        for keyword, value in settings.items():
            setattr(crawler, keyword, value)
        crawler.version += 1
        crawler.last_updated = utcnow()

    def remove(self) -> None:
        backend = self.backend("glue")
        if self.name in backend.crawlers:
            backend.delete_crawler(self.name)


RESOURCE_TYPES = (Database, Table, Crawler)
