"""The Glue table a stream's format conversion reads its schema from (VersionId LATEST or a
given version), turned into a Converter with the stream's deserializer options."""
from __future__ import annotations

from typing import Any

from .config import StreamConfig


class SchemaUnavailable(Exception):
    code = "DataFormatConversion.InvalidSchema"

    @property
    def message(self) -> str:
        return str(self)


def table_columns(account: str, region: str, database: str, table: str, version_id: str = "LATEST") -> list[dict[str, Any]]:
    """The table's data columns (partition keys are not in the files)."""
    from ..moto_backends import backend as moto_backend

    backend = moto_backend("glue", account, region)
    try:
        fake = backend.get_table(database, table)
    except Exception as exc:
        raise SchemaUnavailable(f"The Glue table {database}.{table} could not be read: {exc}") from exc
    if version_id in (None, "", "LATEST"):
        version_id = str(max(int(v) for v in fake.versions))
    table_input = fake.get_version(str(version_id))
    columns = (table_input.get("StorageDescriptor") or {}).get("Columns") or []
    if not columns:
        raise SchemaUnavailable(f"The Glue table {database}.{table} has no columns.")
    return [{"Name": c["Name"], "Type": c["Type"]} for c in columns]


def converter_for_stream(account: str, region: str, config: StreamConfig):
    from .conversion import Converter

    conversion = config.conversion
    columns = table_columns(account, conversion.region or region, conversion.database, conversion.table, conversion.version_id)
    deserializer = conversion.deserializer
    if "HiveJsonSerDe" in deserializer:
        hive = deserializer["HiveJsonSerDe"] or {}
        return Converter(columns, case_insensitive=True, timestamp_formats=hive.get("TimestampFormats"),
                         compression=_compression(conversion.serializer), deserializer="HiveJsonSerDe")
    openx = deserializer.get("OpenXJsonSerDe") or {}
    return Converter(
        columns,
        case_insensitive=openx.get("CaseInsensitive", True),
        column_to_json_key_mappings=openx.get("ColumnToJsonKeyMappings"),
        convert_dots_in_json_keys_to_underscores=openx.get("ConvertDotsInJsonKeysToUnderscores", False),
        compression=_compression(conversion.serializer),
    )


def _compression(serializer: dict[str, Any]) -> str:
    return ((serializer.get("ParquetSerDe") or {}).get("Compression")) or "SNAPPY"
