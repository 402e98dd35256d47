"""The local Glue crawler's pure logic: planning, classification, types, configuration."""
from __future__ import annotations

import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib.localcloud.glue import classify, config, planner, schema
from pipeline_lib.localcloud.glue.classify import FileSchema, UnknownFormat, UnreadableFile
from pipeline_lib.localcloud.glue.config import CrawlerConfigError, CrawlerSpec
from pipeline_lib.localcloud.glue.planner import CatalogState, CrawlFailed, S3Object, TableState
from pipeline_lib.schema import TypeStringError, parse_type

ORDER = (("order_id", "string"), ("total", "decimal(12,2)"), ("qty", "bigint"))
ORDER_FILE = FileSchema("parquet", "none", ORDER, num_rows=10)


# -- helpers -------------------------------------------------------------------------------------
class Store:
    """A fake bucket: objects and what the classifier says about each; counts reads."""

    def __init__(self, bucket: str = "lake"):
        self.bucket = bucket
        self.objects: dict[str, tuple[int, object]] = {}
        self.reads: list[str] = []

    def put(self, key: str, result: object = ORDER_FILE, size: int = 1000) -> None:
        self.objects[key] = (size, result)

    def listing(self, prefix: str) -> list[S3Object]:
        return [S3Object(self.bucket, k, s) for k, (s, _) in self.objects.items() if k.startswith(prefix)]

    def read(self, obj: S3Object) -> FileSchema:
        self.reads.append(obj.key)
        result = self.objects[obj.key][1]
        if isinstance(result, Exception):
            raise result
        assert isinstance(result, FileSchema)
        return result


def spec(**kwargs) -> CrawlerSpec:
    base = {"Name": "c1", "DatabaseName": "db", "Targets": {"S3Targets": [{"Path": "s3://lake/data/"}]}}
    base.update(kwargs)
    return CrawlerSpec.from_api(base)


def empty_catalog(*databases: str) -> CatalogState:
    return CatalogState(frozenset(databases or ("db",)), {})


def run(store: Store, crawler: CrawlerSpec, catalog: CatalogState | None = None, previous=None) -> planner.CrawlPlan:
    catalog = catalog or empty_catalog()
    listings = {loc: store.listing(loc[1]) for loc in planner.listing_locations(crawler, catalog)}
    return planner.plan_crawl(crawler, listings, store.read, catalog, crawl_id="run-1", now_ms=1_700_000_000_000, previous_folders=previous)


def apply_to(catalog: CatalogState, plan: planner.CrawlPlan) -> CatalogState:
    """What the catalog holds after the plan (a miniature of seams.apply_plan)."""
    tables = dict(catalog.tables)
    for change in plan.tables:
        key = (change.database, change.name)
        if change.action == "delete":
            tables.pop(key)
        else:
            old = tables.get(key)
            tables[key] = TableState({**change.table_input, "DatabaseName": change.database}, dict(old.partitions) if old else {})
    for changes in plan.partitions:
        parts = tables[(changes.database, changes.table)].partitions
        for p in changes.create:
            assert tuple(p["Values"]) not in parts, "a partition was planned twice"
            parts[tuple(p["Values"])] = p
        for values, p in changes.update:
            parts[tuple(values)] = p
        for values in changes.delete:
            del parts[tuple(values)]
    return CatalogState(catalog.databases, tables)


def partitions_of(plan: planner.CrawlPlan, table: str) -> list[dict]:
    return [p for c in plan.partitions if c.table == table for p in c.create]


def lake_days(store: Store, days: list[str], month: str = "10") -> None:
    for day in days:
        store.put(f"data/year=2026/month={month}/day={day}/part-0.parquet")
        store.put(f"data/year=2026/month={month}/day={day}/part-1.parquet", size=3000)


# -- S3 targets ----------------------------------------------------------------------------------
def test_s3_target_makes_one_partitioned_table_with_aws_shape():
    store = Store()
    lake_days(store, ["01", "02"])
    for junk in ("data/_SUCCESS", "data/year=2026/.hidden", "data/_temporary/0/x.parquet", "data/year=2026_$folder$"):
        store.put(junk, UnreadableFile("junk must never be read"))
    store.put("data/year=2026/month=10/day=01/empty.parquet", UnreadableFile("empty"), size=0)
    plan = run(store, spec())
    assert [(c.action, c.name) for c in plan.tables] == [("create", "data")]
    table = plan.tables[0].table_input
    assert table["PartitionKeys"] == [{"Name": k, "Type": "string"} for k in ("year", "month", "day")]
    assert table["TableType"] == "EXTERNAL_TABLE"
    sd = table["StorageDescriptor"]
    assert sd["Location"] == "s3://lake/data/"
    assert sd["Columns"] == [{"Name": n, "Type": t} for n, t in ORDER]
    assert sd["InputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    assert sd["OutputFormat"] == "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    assert sd["SerdeInfo"]["SerializationLibrary"] == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    params = table["Parameters"]
    assert params["classification"] == "parquet" and params["typeOfData"] == "file"
    assert params["UPDATED_BY_CRAWLER"] == "c1" and params["compressionType"] == "none"
    assert (params["objectCount"], params["recordCount"], params["sizeKey"]) == ("4", "40", "8000")
    assert params["averageRecordSize"] == "200"
    assert params["CrawlerSchemaSerializerVersion"] == params["CrawlerSchemaDeserializerVersion"] == "1.0"
    parts = partitions_of(plan, "data")
    assert [p["Values"] for p in parts] == [["2026", "10", "01"], ["2026", "10", "02"]]
    assert parts[0]["StorageDescriptor"]["Location"] == "s3://lake/data/year=2026/month=10/day=01/"
    assert parts[0]["StorageDescriptor"]["Parameters"]["recordCount"] == "20"
    assert all(not k.startswith(("data/_", "data/year=2026/.")) for k in store.reads)
    assert plan.tables_created == 1 and plan.tables_updated == 0


def test_folders_without_equals_become_partition_n_keys():
    store = Store()
    store.put("data/2026/10/a.parquet")
    store.put("data/2026/11/a.parquet")
    plan = run(store, spec())
    assert [k["Name"] for k in plan.tables[0].table_input["PartitionKeys"]] == ["partition_0", "partition_1"]
    assert [p["Values"] for p in partitions_of(plan, "data")] == [["2026", "10"], ["2026", "11"]]


def test_dissimilar_schemas_make_separate_tables_named_after_folders():
    # The developer guide's example: {"A","B"} and {"C","D"} under table1/ give year_2017, year_2018.
    store = Store()
    store.put("table1/year=2017/data1.json", FileSchema("json", "none", (("a", "int"), ("b", "int")), 1, ("A", "B")))
    store.put("table1/year=2018/data2.json", FileSchema("json", "none", (("c", "int"), ("d", "int")), 1, ("C", "D")))
    crawler = spec(Targets={"S3Targets": [{"Path": "s3://lake/table1/"}]})
    plan = run(store, crawler)
    assert sorted(c.name for c in plan.tables) == ["year_2017", "year_2018"]
    table = next(c for c in plan.tables if c.name == "year_2017").table_input
    assert table["StorageDescriptor"]["SerdeInfo"] == {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe", "Parameters": {"paths": "A,B"}}
    combined = run(store, spec(Targets=crawler_targets("s3://lake/table1/"), Configuration=json.dumps({"Version": 1.0, "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"}})))
    assert [c.name for c in combined.tables] == ["table1"]
    only = combined.tables[0].table_input
    assert [c["Name"] for c in only["StorageDescriptor"]["Columns"]] == ["a", "b", "c", "d"]
    assert only["PartitionKeys"] == [{"Name": "year", "Type": "string"}]


def crawler_targets(*paths: str) -> dict:
    return {"S3Targets": [{"Path": p} for p in paths]}


def test_different_formats_under_the_bucket_split_into_tables_and_names_are_sanitised():
    store = Store()
    lake_days(store, ["01"])
    error = FileSchema("json", "none", (("errorcode", "string"), ("rawdata", "string")), 3, ("errorCode", "rawData"))
    store.put("Firehose-Errors/processing-failed/2026/10/01/stream-1-x", error)
    plan = run(store, spec(Targets=crawler_targets("s3://lake"), TablePrefix="Raw-"))
    names = sorted(c.name for c in plan.tables)
    assert names == ["raw_data", "raw_firehose_errors"]
    errors = next(c for c in plan.tables if c.name == "raw_firehose_errors").table_input
    assert errors["Parameters"]["classification"] == "json"
    assert [k["Name"] for k in errors["PartitionKeys"]] == ["partition_0", "partition_1", "partition_2", "partition_3"]


def test_table_level_configuration_puts_tables_at_that_level():
    store = Store()
    store.put("lake/orders/year=2026/a.parquet")
    store.put("lake/customers/year=2026/a.parquet")  # same schema: by default one table "lake"
    default = run(store, spec(Targets=crawler_targets("s3://lake/lake/")))
    assert [c.name for c in default.tables] == ["lake"]
    leveled = run(store, spec(Targets=crawler_targets("s3://lake/lake/"), Configuration=json.dumps({"Version": 1.0, "Grouping": {"TableLevelConfiguration": 3}})))
    assert sorted(c.name for c in leveled.tables) == ["customers", "orders"]


def test_exclusions_and_sample_size():
    store = Store()
    lake_days(store, ["01", "02"])
    store.put("data/year=2026/month=10/day=01/part-2.parquet")
    store.put("data/tmp/scratch.csv", UnreadableFile("excluded, never read"))
    crawler = spec(Targets={"S3Targets": [{"Path": "s3://lake/data", "Exclusions": ["tmp/**", "**/part-1.parquet"], "SampleSize": 1}]})
    plan = run(store, crawler)
    assert sorted(store.reads) == ["data/year=2026/month=10/day=01/part-0.parquet", "data/year=2026/month=10/day=02/part-0.parquet"]
    params = plan.tables[0].table_input["Parameters"]
    # day=01/part-2 was listed but not sampled: counted, its records estimated from the sample.
    assert (params["objectCount"], params["recordCount"]) == ("3", "30")


def test_unreadable_and_unknown_objects_are_logged_and_left_out():
    store = Store()
    lake_days(store, ["01"])
    store.put("data/year=2026/month=10/day=02/bad.parquet", UnreadableFile("the Parquet footer cannot be read"))
    store.put("data/year=2026/month=10/day=01/notes.txt", UnknownFormat("no classifier"))
    plan = run(store, spec())
    assert [p["Values"] for p in partitions_of(plan, "data")] == [["2026", "10", "01"]]
    assert ("WARN", "Skipping s3://lake/data/year=2026/month=10/day=02/bad.parquet: the Parquet footer cannot be read") in plan.log
    assert any(level == "INFO" and "UNKNOWN" in msg and "notes.txt" in msg for level, msg in plan.log)
    assert plan.tables[0].table_input["Parameters"]["objectCount"] == "2"


def test_second_crawl_adds_only_new_partitions_and_updates_counts():
    store = Store()
    lake_days(store, ["01", "02"])
    first = run(store, spec())
    catalog = apply_to(empty_catalog(), first)
    lake_days(store, ["03", "04"])
    second = run(store, spec(), catalog)
    assert [c.action for c in second.tables] == ["update"] and not second.tables[0].schema_changed
    assert second.tables[0].table_input["Parameters"]["objectCount"] == "8"
    assert [p["Values"][2] for p in partitions_of(second, "data")] == ["03", "04"]
    assert all(not c.update and not c.delete for c in second.partitions)
    assert (second.tables_created, second.tables_updated) == (0, 1)
    catalog = apply_to(catalog, second)
    third = run(store, spec(), catalog)
    assert third.tables == [] and not any(third.partitions)  # nothing new, nothing written


def test_update_behavior_log_keeps_the_schema_and_merge_new_columns_only_adds():
    store = Store()
    lake_days(store, ["01"])
    catalog = apply_to(empty_catalog(), run(store, spec()))
    wider = FileSchema("parquet", "none", (("order_id", "string"), ("total", "double"), ("note", "string")), 5)
    store.put("data/year=2026/month=10/day=02/x.parquet", wider)
    logged = run(store, spec(SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}), catalog)
    assert logged.tables == []
    assert any("UpdateBehavior LOG" in msg for _, msg in logged.log)
    assert [p["Values"][2] for p in partitions_of(logged, "data")] == ["02"]  # new partitions still added
    merged = run(store, spec(Configuration=json.dumps({"Version": 1.0, "CrawlerOutput": {"Tables": {"AddOrUpdateBehavior": "MergeNewColumns"}}})), catalog)
    columns = merged.tables[0].table_input["StorageDescriptor"]["Columns"]
    assert columns == [{"Name": n, "Type": t} for n, t in ORDER] + [{"Name": "note", "Type": "string"}]
    assert merged.tables[0].schema_changed


def test_delete_behaviors_for_vanished_partitions_and_tables():
    store = Store()
    lake_days(store, ["01", "02"])
    catalog = apply_to(empty_catalog(), run(store, spec()))
    for key in [k for k in store.objects if "day=02" in k]:
        del store.objects[key]
    deleting = run(store, spec(SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "DELETE_FROM_DATABASE"}), catalog)
    assert [c.delete for c in deleting.partitions] == [[["2026", "10", "02"]]]
    keeping = run(store, spec(SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}), catalog)
    assert not any(keeping.partitions) and any("is gone" in msg for _, msg in keeping.log)
    store.objects.clear()
    deprecating = run(store, spec(), catalog)  # DeleteBehavior defaults to DEPRECATE_IN_DATABASE
    assert [(c.action, c.name) for c in deprecating.tables] == [("deprecate", "data")]
    assert deprecating.tables[0].table_input["Parameters"]["DEPRECATED_BY_CRAWLER"] == "1700000000000"
    assert deprecating.tables_deleted == 1
    dropping = run(store, spec(SchemaChangePolicy={"DeleteBehavior": "DELETE_FROM_DATABASE"}), catalog)
    assert [(c.action, c.name) for c in dropping.tables] == [("delete", "data")]


def test_same_name_at_another_location_gets_a_hash_suffix():
    store = Store()
    store.put("a/data/x.parquet")
    store.put("b/data/x.parquet")
    plan = run(store, spec(Targets=crawler_targets("s3://lake/a/data", "s3://lake/b/data")))
    names = [c.name for c in plan.tables]
    assert names[0] == "data" and names[1].startswith("data_") and len(names[1]) == len("data_") + 32


def test_table_threshold_fails_the_crawl_before_writing():
    store = Store()
    store.put("t/a/x.parquet")
    store.put("t/b/x.json", FileSchema("json", "none", (("z", "int"),), 1, ("z",)))
    with pytest.raises(CrawlFailed, match="table threshold"):
        run(store, spec(Targets=crawler_targets("s3://lake/t/"), Configuration=json.dumps({"Version": 1.0, "CrawlerOutput": {"Tables": {"TableThreshold": 1}}})))


def test_missing_database_fails_the_crawl():
    with pytest.raises(CrawlFailed, match="Database db not found"):
        run(Store(), spec(), empty_catalog("other"))


# -- incremental crawls --------------------------------------------------------------------------
def test_crawl_new_folders_only_reads_only_new_folders():
    store = Store()
    lake_days(store, ["01", "02"])
    crawler = spec(RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}, SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"})
    first = run(store, crawler, previous=None)  # no earlier crawl: a full one
    assert first.tables_created == 1 and len(first.seen_folders) == 2
    catalog = apply_to(empty_catalog(), first)
    lake_days(store, ["03"])
    store.put("data/year=2026/month=10/day=01/late.parquet")  # new file in an old folder: not read
    store.reads.clear()
    second = run(store, crawler, catalog, previous=first.seen_folders)
    assert sorted(store.reads) == ["data/year=2026/month=10/day=03/part-0.parquet", "data/year=2026/month=10/day=03/part-1.parquet"]
    assert second.tables == []
    assert [p["Values"] for p in partitions_of(second, "data")] == [["2026", "10", "03"]]
    assert partitions_of(second, "data")[0]["StorageDescriptor"]["Location"] == "s3://lake/data/year=2026/month=10/day=03/"
    assert len(second.seen_folders) == 3


# -- catalog targets -----------------------------------------------------------------------------
def lake_table(location: str = "s3://lake/data/") -> TableState:
    return TableState(
        {
            "Name": "events",
            "DatabaseName": "db",
            "TableType": "EXTERNAL_TABLE",
            "PartitionKeys": [{"Name": k, "Type": "string"} for k in ("year", "month", "day")],
            "Parameters": {"classification": "parquet"},
            "StorageDescriptor": {
                "Columns": [{"Name": "order_id", "Type": "string", "Comment": "kept"}, {"Name": "total", "Type": "decimal(12,2)"}],
                "Location": location,
                **planner.PARQUET_FORMATS,
            },
        }
    )


def catalog_spec(**kwargs) -> CrawlerSpec:
    return spec(
        Targets={"CatalogTargets": [{"DatabaseName": "db", "Tables": ["events"]}]},
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
        Configuration=json.dumps({"Version": 1.0, "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}}}),
        **kwargs,
    )


def test_catalog_target_adds_partitions_inheriting_the_table():
    store = Store()
    lake_days(store, ["01", "02"])
    store.put("data/month=10/x.parquet")  # wrong depth
    store.put("data/year=2026/month=10/hour=01/x.parquet")  # wrong key
    catalog = CatalogState(frozenset({"db"}), {("db", "events"): lake_table()})
    plan = run(store, catalog_spec(), catalog)
    assert plan.tables == []  # UpdateBehavior LOG: the table's columns never change
    parts = partitions_of(plan, "events")
    assert [p["Values"] for p in parts] == [["2026", "10", "01"], ["2026", "10", "02"]]
    sd = parts[0]["StorageDescriptor"]
    assert sd["Location"] == "s3://lake/data/year=2026/month=10/day=01/"
    assert sd["Columns"] == lake_table().table["StorageDescriptor"]["Columns"]  # inherited, comments too
    warnings = [msg for level, msg in plan.log if level == "WARN"]
    assert any("hour" in w and "'day'" in w for w in warnings) and any("partition key" in w for w in warnings)
    assert plan.tables_updated == 1

    catalog = apply_to(catalog, plan)
    lake_days(store, ["03", "04"])
    second = run(store, catalog_spec(), catalog)
    assert [p["Values"][2] for p in partitions_of(second, "events")] == ["03", "04"]
    assert all(not c.update and not c.delete for c in second.partitions)


def test_catalog_target_without_inherit_uses_file_columns_and_missing_table_is_an_error():
    store = Store()
    lake_days(store, ["01"])
    catalog = CatalogState(frozenset({"db"}), {("db", "events"): lake_table()})
    plan = run(store, spec(Targets={"CatalogTargets": [{"DatabaseName": "db", "Tables": ["events", "nope"]}]}, SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}), catalog)
    sd = partitions_of(plan, "events")[0]["StorageDescriptor"]
    assert sd["Columns"] == [{"Name": n, "Type": t} for n, t in ORDER]
    assert sd["Parameters"]["recordCount"] == "20"
    assert plan.errors == ["Table nope in database db not found (catalog target)."]


def test_catalog_target_update_in_database_updates_columns():
    store = Store()
    lake_days(store, ["01"])
    catalog = CatalogState(frozenset({"db"}), {("db", "events"): lake_table()})
    plan = run(store, spec(Targets={"CatalogTargets": [{"DatabaseName": "db", "Tables": ["events"]}]}, SchemaChangePolicy={"UpdateBehavior": "UPDATE_IN_DATABASE", "DeleteBehavior": "LOG"}), catalog)
    [change] = plan.tables
    assert change.action == "update" and change.schema_changed
    assert [c["Name"] for c in change.table_input["StorageDescriptor"]["Columns"]] == ["order_id", "total", "qty"]


# -- classification ------------------------------------------------------------------------------
def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def reader(data: bytes):
    return lambda offset, length: data[offset : offset + length]


def test_parquet_footer_gives_glue_types_and_rows():
    table = pa.table(
        {
            "ID": pa.array([1, 2], pa.int64()),
            "n": pa.array([1, 2], pa.int32()),
            "s": ["a", "b"],
            "ok": [True, False],
            "x": pa.array([1.5, 2.5], pa.float64()),
            "f": pa.array([1.5, 2.5], pa.float32()),
            "amount": pa.array([1, 2], pa.decimal128(12, 2)),
            "at": pa.array([0, 1], pa.timestamp("ms", tz="UTC")),
            "on": pa.array([0, 1], pa.date32()),
            "tags": pa.array([["a"], []]),
            "items": pa.array([[{"sku": "a", "q": 1}], []], pa.list_(pa.struct([("sku", pa.string()), ("q", pa.int32())]))),
            "attrs": pa.array([[("k", 1)], []], pa.map_(pa.string(), pa.int64())),
        }
    )
    data = parquet_bytes(table)
    result = classify.classify(len(data), reader(data))
    assert result.classification == "parquet" and result.num_rows == 2
    assert dict(result.columns) == {
        "id": "bigint", "n": "int", "s": "string", "ok": "boolean", "x": "double", "f": "float",
        "amount": "decimal(12,2)", "at": "timestamp", "on": "date", "tags": "array<string>",
        "items": "array<struct<sku:string,q:int>>", "attrs": "map<string,bigint>",
    }


def test_a_large_parquet_file_is_classified_from_its_footer():
    data = parquet_bytes(pa.table({"v": pa.array(range(400_000), pa.int64())}))
    ranges: list[tuple[int, int]] = []

    def read(offset: int, length: int) -> bytes:
        ranges.append((offset, length))
        return data[offset : offset + length]

    assert classify.classify(len(data), read).num_rows == 400_000
    assert sum(n for _, n in ranges) < len(data) // 4


def test_corrupt_parquet_and_other_content():
    data = parquet_bytes(pa.table({"v": [1]}))
    with pytest.raises(UnreadableFile):
        classify.classify(len(data) - 10, reader(data[:-10]))  # truncated: no footer magic
    broken = data[:4] + b"\0" * (len(data) - 8) + data[-4:]
    with pytest.raises(UnreadableFile):
        classify.classify(len(broken), reader(broken))
    with pytest.raises(UnknownFormat):
        classify.classify(9, reader(b"a,b\n1,2\n\n"))


def test_json_lines_and_gzip():
    lines = b'{"Name": "a", "n": 1, "big": 10000000000, "obj": {"k": true}}\n{"Name": "b", "n": 2.5, "tags": ["x"]}\n'
    result = classify.classify(len(lines), reader(lines))
    assert result.classification == "json" and result.num_rows == 2
    assert dict(result.columns) == {"name": "string", "n": "double", "big": "bigint", "obj": "struct<k:boolean>", "tags": "array<string>"}
    assert result.json_paths == ("Name", "big", "n", "obj", "tags")
    packed = gzip.compress(lines)
    assert classify.classify(len(packed), reader(packed)).compression == "gzip"


def test_json_over_the_schema_sample_counts_every_record_reading_each_byte_once():
    lines = b"".join(json.dumps({"i": i, "pad": "x" * 40}).encode() + b"\n" for i in range(40_000))
    assert classify.JSON_SCHEMA_BYTES < len(lines) <= classify.JSON_COUNT_LIMIT
    ranges: list[tuple[int, int]] = []

    def read(offset: int, length: int) -> bytes:
        ranges.append((offset, length))
        return lines[offset : offset + length]

    result = classify.classify(len(lines), read)
    assert result.num_rows == 40_000 and dict(result.columns) == {"i": "int", "pad": "string"}
    assert sum(n for _, n in ranges) <= len(lines) + 4  # the 4-byte magic probe, then the object once


# -- types ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "a,b,merged",
    [
        ("int", "bigint", "bigint"),
        ("int", "double", "double"),
        ("decimal(10,2)", "decimal(12,4)", "decimal(12,4)"),
        ("struct<a:int>", "struct<a:bigint,b:string>", "struct<a:bigint,b:string>"),
        ("array<int>", "array<bigint>", "array<bigint>"),
        ("string", "int", None),
        ("map<string,int>", "map<string,string>", None),
    ],
)
def test_type_merge(a, b, merged):
    assert schema.merge_types(a, b) == merged


def test_type_merge_matches_struct_fields_case_insensitively_and_reads_what_crawlers_write():
    assert schema.merge_types("struct<a:int>", "struct<A:bigint,b:string>") == "struct<a:bigint,b:string>"
    # What a crawler writes for JSON keys and empty objects, beyond Hive's syntax, still merges.
    assert schema.merge_types("struct<first-name:int,meta:struct<>>", "struct<first-name:bigint,meta:struct<x:int>>") == (
        "struct<first-name:bigint,meta:struct<x:int>>"
    )
    assert schema.merge_types("struct<a:int,A:int>", "struct<a:bigint>") is None  # two fields of one name
    assert schema.merge_types("struct<a:int,A:int>", "struct<a:bigint>", lenient=True) == "string"
    assert str(schema.json_type({"k": 1, "K": 10_000_000_000, "n": None})) == "struct<k:bigint,n:string>"


def test_type_parse_round_trip_and_errors():
    """The crawler parses and prints types with the project's one parser."""
    text = "array<struct<sku:string,quantity:int,unit_price:decimal(10,2)>>"
    assert str(parse_type(text)) == text
    with pytest.raises(TypeStringError):
        parse_type("array<int")


def test_glob_exclusions():
    g = planner.glob_to_regex
    assert g("*.csv").fullmatch("a.csv") and not g("*.csv").fullmatch("x/a.csv")
    assert g("**.csv").fullmatch("x/y/a.csv")
    assert g("tmp/**").fullmatch("tmp/a/b") and not g("tmp/**").fullmatch("tmpx/a")
    assert g("{a,b}/?.json").fullmatch("b/1.json") and not g("{a,b}/?.json").fullmatch("c/1.json")
    assert g("[!x]*").fullmatch("abc") and not g("[!x]*").fullmatch("xbc")


# -- configuration -------------------------------------------------------------------------------
def test_configuration_parsing():
    parsed = config.parse_configuration(json.dumps({
        "Version": 1.0,
        "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}, "Tables": {"AddOrUpdateBehavior": "MergeNewColumns", "TableThreshold": 5}},
        "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas", "TableLevelConfiguration": 2},
    }))
    assert parsed == config.Configuration(True, True, 5, True, 2)
    with pytest.raises(CrawlerConfigError, match="CrawlerOutput.Partitions contains unsupported keys: UpdateBehavior."):
        config.parse_configuration('{"Version":1.0,"CrawlerOutput":{"Partitions":{"UpdateBehavior":"LOG"}}}')
    with pytest.raises(CrawlerConfigError, match="not valid JSON"):
        config.parse_configuration("{")


def test_validation_follows_create_crawler():
    config.validate(spec())
    with pytest.raises(CrawlerConfigError, match='can have only LOG DeleteBehavior value and LOG UpdateBehavior value'):
        config.validate(spec(RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}))
    with pytest.raises(CrawlerConfigError, match="can only apply to Amazon S3 target"):
        config.validate(catalog_spec(RecrawlPolicy={"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}))
    with pytest.raises(CrawlerConfigError, match="s3://bucket/prefix"):
        config.validate(spec(Targets=crawler_targets("lake/data")))


def test_catalog_target_with_an_empty_location_keeps_the_table_and_drops_vanished_partitions():
    store = Store()
    lake_days(store, ["01"])
    catalog = CatalogState(frozenset({"db"}), {("db", "events"): lake_table()})
    catalog = apply_to(catalog, run(store, catalog_spec(), catalog))
    assert list(catalog.tables[("db", "events")].partitions) == [("2026", "10", "01")]
    store.objects.clear()
    dropping = spec(
        Targets={"CatalogTargets": [{"DatabaseName": "db", "Tables": ["events"]}]},
        SchemaChangePolicy={"UpdateBehavior": "LOG", "DeleteBehavior": "DELETE_FROM_DATABASE"},
    )
    plan = run(store, dropping, catalog)
    assert plan.tables == []  # the user's table is never deleted for lack of data
    assert [c.delete for c in plan.partitions] == [[["2026", "10", "01"]]]


def test_loose_files_beside_incompatible_folders_are_tables_of_their_own_and_stay_stable():
    store = Store()
    store.put("mixed/orders/year=2026/a.parquet")
    store.put("mixed/summary.json", FileSchema("json", "none", (("total", "bigint"),), 1, ("total",)))
    crawler = spec(Targets=crawler_targets("s3://lake/mixed/"))
    first = run(store, crawler)
    assert sorted((c.name, c.table_input["StorageDescriptor"]["Location"]) for c in first.tables) == [
        ("orders", "s3://lake/mixed/orders/"),
        ("summary_json", "s3://lake/mixed/summary.json"),
    ]
    second = run(store, crawler, apply_to(empty_catalog(), first))
    assert [c.action for c in second.tables] == []  # matched by location: no duplicates
