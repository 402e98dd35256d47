"""The TableInput and PartitionInput a crawler writes, and what counts as a change of one (pure)."""
from __future__ import annotations

import copy
from typing import Any, Iterable

from .config import CrawlerSpec
from .discover import CrawledPartition, CrawledTable, Stats
from .model import Values, copy_json

# Table parameters written by the crawler (and compared when deciding whether anything changed).
PARQUET_FORMATS = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}
JSON_FORMATS = {
    "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
    "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe", "Parameters": {}},
}
RUN_KEYS = ("CRAWL_RUN_ID",)


def formats_for(classification: str, json_paths: tuple[str, ...]) -> dict[str, Any]:
    formats = copy.deepcopy(PARQUET_FORMATS if classification == "parquet" else JSON_FORMATS)
    if classification == "json":
        formats["SerdeInfo"]["Parameters"] = {"paths": ",".join(json_paths)}
    return formats


def crawler_parameters(
    spec: CrawlerSpec, crawl_id: str, classification: str, compression: str, stats: Stats, partitioned: bool
) -> dict[str, str]:
    params = {
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
        "UPDATED_BY_CRAWLER": spec.name,
        "CRAWL_RUN_ID": crawl_id,
        "averageRecordSize": str(stats.size // stats.records if stats.records else 0),
        "classification": classification,
        "compressionType": compression,
        "objectCount": str(stats.objects),
        "recordCount": str(stats.records),
        "sizeKey": str(stats.size),
        "typeOfData": "file",
    }
    if partitioned:
        params["partition_filtering.enabled"] = "true"
    return params


def column_list(columns: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"Name": n, "Type": t} for n, t in columns]


def storage_descriptor(location: str, columns: list[tuple[str, str]], formats: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    return {
        "Columns": column_list(columns),
        "Location": location,
        **copy.deepcopy(formats),
        "Compressed": False,
        "NumberOfBuckets": -1,
        "BucketColumns": [],
        "SortColumns": [],
        "Parameters": dict(params),
        "StoredAsSubDirectories": False,
    }


def new_table_input(spec: CrawlerSpec, name: str, table: CrawledTable, crawl_id: str) -> dict[str, Any]:
    params = crawler_parameters(spec, crawl_id, table.classification, table.compression, table.stats, bool(table.partition_keys))
    formats = formats_for(table.classification, table.json_paths)
    return {
        "Name": name,
        "Owner": "owner",
        "Retention": 0,
        "TableType": "EXTERNAL_TABLE",
        "PartitionKeys": [{"Name": k, "Type": "string"} for k in table.partition_keys],
        "Parameters": params,
        "StorageDescriptor": storage_descriptor(table.location, table.columns, formats, params),
    }


def partition_input(
    spec: CrawlerSpec,
    table_input: dict[str, Any],
    values: Values,
    part: CrawledPartition,
    crawl_id: str,
) -> dict[str, Any]:
    """A partition's input: the table's storage descriptor with its own location; its own
    columns and counts unless the partitions inherit from the table."""
    sd = copy_json(table_input["StorageDescriptor"])
    sd["Location"] = part.location
    if not spec.configuration.partitions_inherit_from_table:
        params = dict(sd.get("Parameters") or {})
        classification = params.get("classification") or (table_input.get("Parameters") or {}).get("classification") or "parquet"
        compression = params.get("compressionType") or "none"
        sd["Columns"] = column_list(part.columns)
        sd["Parameters"] = crawler_parameters(spec, crawl_id, classification, compression, part.stats, False)
    return {"Values": list(values), "StorageDescriptor": sd}


def without(d: dict[str, Any] | None, keys: Iterable[str]) -> dict[str, Any]:
    return {k: v for k, v in (d or {}).items() if k not in keys}


def schema_view(sd: dict[str, Any] | None) -> tuple:
    """What counts as a schema/format change of a storage descriptor (not counts, not location)."""
    sd = sd or {}
    columns = tuple((c.get("Name"), c.get("Type")) for c in sd.get("Columns") or [])
    serde = sd.get("SerdeInfo") or {}
    return (columns, sd.get("InputFormat"), sd.get("OutputFormat"), serde.get("SerializationLibrary"), repr(sorted((serde.get("Parameters") or {}).items())))


def sd_view(sd: dict[str, Any] | None) -> tuple:
    """Schema, location and crawler parameters minus the run id: differences worth an update."""
    sd = sd or {}
    return (schema_view(sd), sd.get("Location"), repr(sorted(without(sd.get("Parameters"), RUN_KEYS).items())))


def merged_columns(existing: list[dict[str, Any]], crawled: list[tuple[str, str]], merge_new_only: bool) -> list[dict[str, Any]]:
    if not merge_new_only:
        return column_list(crawled)
    names = {c["Name"] for c in existing}
    return copy.deepcopy(existing) + [{"Name": n, "Type": t} for n, t in crawled if n not in names]
