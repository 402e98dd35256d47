"""CTAS, INSERT, UNLOAD, views, DDL and SHOW, as Athena makes them (catalog entries, S3 layout),
and a failed statement leaving catalog and storage untouched."""

from __future__ import annotations

import base64
import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib.localcloud.athena.engine import AthenaQueryError

from .lake import Lake, parquet_bytes


@pytest.fixture()
def lake() -> Lake:
    lake = Lake()
    lake.put("s3://lake/src/a.parquet", parquet_bytes(pa.table({
        "id": pa.array([1, 2, 3, 4], pa.int64()), "day": ["d1", "d1", "d2", None],
        "amount": pa.array([1.5, 2.5, 3.0, 4.0])})))
    lake.table("src", [("id", "bigint"), ("day", "string"), ("amount", "double")], "s3://lake/src/")
    return lake


def test_ctas_partitioned_parquet_writes_folders_table_and_partitions(lake: Lake) -> None:
    out = lake.query("CREATE TABLE c WITH (format = 'PARQUET', external_location = 's3://lake/c/', "
                     "write_compression = 'GZIP', partitioned_by = ARRAY['day']) AS SELECT id, amount, day FROM src")
    assert out.update_count == 4 and out.statement_type == "DML" and out.result_format == "none"
    keys = lake.storage.keys("s3://lake/c/")
    assert sorted(k.split("/")[1] for k in keys) == ["day=__HIVE_DEFAULT_PARTITION__", "day=d1", "day=d2"]
    assert sorted(out.written_files) == sorted(f"s3://lake/{k}" for k in keys)
    d1 = next(k for k in keys if "day=d1" in k)
    meta = pq.ParquetFile(io.BytesIO(lake.storage.objects[("lake", d1)])).metadata
    assert meta.row_group(0).column(0).compression == "GZIP"
    table = lake.catalog.get_table("db", "c")
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["id", "amount"]
    assert table["PartitionKeys"] == [{"Name": "day", "Type": "string"}]
    assert table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert sorted(p["Values"][0] for p in lake.catalog.get_partitions("db", "c")) == [
        "__HIVE_DEFAULT_PARTITION__", "d1", "d2"]
    assert lake.rows("SELECT sum(id) FROM c WHERE day = 'd1'") == [["3"]]


def test_ctas_json_without_location_goes_under_output_tables(lake: Lake) -> None:
    out = lake.query("CREATE TABLE cj WITH (format = 'JSON') AS SELECT id, day FROM src WHERE id < 3")
    (uri,) = out.written_files
    assert uri.startswith("s3://results/athena/tables/") and uri.endswith(".gz")
    bucket, key = uri[5:].split("/", 1)
    rows = [json.loads(line) for line in gzip.decompress(lake.storage.objects[(bucket, key)]).decode().splitlines()]
    assert rows == [{"id": 1, "day": "d1"}, {"id": 2, "day": "d1"}]
    assert lake.rows("SELECT count(*) FROM cj") == [["2"]]


def test_ctas_with_no_data_and_target_must_be_empty(lake: Lake) -> None:
    out = lake.query("CREATE TABLE e WITH (external_location = 's3://lake/e/') AS SELECT * FROM src WITH NO DATA")
    assert out.update_count == 0 and lake.storage.keys("s3://lake/e/") == []
    assert [c["Type"] for c in lake.catalog.get_table("db", "e")["StorageDescriptor"]["Columns"]] == [
        "bigint", "string", "double"]
    lake.put("s3://lake/busy/x", b"1")
    with pytest.raises(AthenaQueryError) as err:
        lake.query("CREATE TABLE b WITH (external_location = 's3://lake/busy/') AS SELECT 1 AS a")
    assert err.value.error_name == "HIVE_PATH_ALREADY_EXISTS"
    assert lake.catalog.get_table("db", "b") is None


def test_insert_into_partitioned_table_adds_partitions(lake: Lake) -> None:
    lake.query("CREATE TABLE c WITH (external_location = 's3://lake/c/', partitioned_by = ARRAY['day']) "
               "AS SELECT id, day FROM src WHERE id = 1")
    out = lake.query("INSERT INTO c SELECT id, day FROM src WHERE id IN (2, 3)")
    assert out.update_count == 2
    assert sorted(p["Values"][0] for p in lake.catalog.get_partitions("db", "c")) == ["d1", "d2"]
    assert lake.rows("SELECT id, day FROM c ORDER BY id") == [["1", "d1"], ["2", "d1"], ["3", "d2"]]
    lake.query("INSERT INTO c (day, id) VALUES ('d9', 9)")
    assert lake.rows("SELECT id FROM c WHERE day = 'd9'") == [["9"]]


def test_unload_parquet_and_json(lake: Lake) -> None:
    out = lake.query("UNLOAD (SELECT id, amount FROM src WHERE id > ?) TO 's3://lake/u/' WITH (format = 'PARQUET')",
                     params=["2"])
    assert out.update_count == 2
    (uri,) = out.written_files
    table = pq.read_table(io.BytesIO(lake.storage.objects[("lake", uri[len("s3://lake/"):])]))
    assert table.to_pydict() == {"id": [3, 4], "amount": [3.0, 4.0]}
    with pytest.raises(AthenaQueryError) as err:
        lake.query("UNLOAD (SELECT 1) TO 's3://lake/u/' WITH (format = 'JSON')")
    assert err.value.error_name == "HIVE_PATH_ALREADY_EXISTS"
    out = lake.query("UNLOAD (SELECT id, day FROM src WHERE id = 1) TO 's3://lake/uj/' WITH (format = 'JSON', compression = 'NONE')")
    assert lake.storage.objects[("lake", out.written_files[0][len("s3://lake/"):])] == b'{"id":1,"day":"d1"}\n'


def test_view_stored_as_presto_view_and_read_back(lake: Lake) -> None:
    lake.query("CREATE VIEW v AS SELECT day, sum(amount) AS total FROM src GROUP BY day")
    table = lake.catalog.get_table("db", "v")
    assert table["TableType"] == "VIRTUAL_VIEW"
    text = table["ViewOriginalText"]
    assert text.startswith("/* Presto View: ") and text.endswith(" */")
    view = json.loads(base64.b64decode(text[len("/* Presto View: "):-3]))
    assert view["originalSql"] == "SELECT day, sum(amount) AS total FROM src GROUP BY day"
    assert view["columns"] == [{"name": "day", "type": "varchar"}, {"name": "total", "type": "double"}]
    assert view["catalog"] == "awsdatacatalog" and view["schema"] == "db"
    assert lake.rows("SELECT * FROM v WHERE day = 'd1'") == [["d1", "4.0"]]
    lake.query("CREATE OR REPLACE VIEW v AS SELECT 1 AS one")
    assert lake.rows("SELECT * FROM db.v") == [["1"]]
    with pytest.raises(AthenaQueryError):
        lake.query("CREATE VIEW v AS SELECT 2 AS two")
    lake.query("DROP VIEW v")
    assert lake.catalog.get_table("db", "v") is None


def test_ddl_show_describe(lake: Lake) -> None:
    lake.query("CREATE DATABASE IF NOT EXISTS other")
    lake.query("CREATE EXTERNAL TABLE other.ev (id bigint, payload struct<a:int,b:array<string>>) "
               "PARTITIONED BY (dt string) STORED AS PARQUET LOCATION 's3://lake/ev/' "
               "TBLPROPERTIES ('classification' = 'parquet')")
    t = lake.catalog.get_table("other", "ev")
    assert t["StorageDescriptor"]["Columns"] == [{"Name": "id", "Type": "bigint"},
                                                 {"Name": "payload", "Type": "struct<a:int,b:array<string>>"}]
    assert t["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    assert t["StorageDescriptor"]["Location"] == "s3://lake/ev/"
    assert lake.rows("SHOW DATABASES") == [["db"], ["other"]]
    assert lake.rows("SHOW TABLES IN other") == [["ev"]]
    assert lake.rows("SHOW COLUMNS IN other.ev") == [["id" + " " * 18], ["payload" + " " * 13], ["dt" + " " * 18]]
    describe = lake.query("DESCRIBE other.ev").render_text()
    assert describe.startswith("id                  \tbigint              \t\n")
    assert "# Partition Information" in describe
    create = lake.query("SHOW CREATE TABLE other.ev").render_text()
    assert create.startswith("CREATE EXTERNAL TABLE `other`.`ev`(\n  `id` bigint, \n")
    with pytest.raises(AthenaQueryError) as err:
        lake.query("DROP DATABASE other")
    assert err.value.error_name == "SCHEMA_NOT_EMPTY"
    lake.query("DROP TABLE other.ev")
    lake.query("DROP DATABASE other")
    assert lake.rows("SHOW DATABASES") == [["db"]]
    lake.query("DROP TABLE IF EXISTS nope")
    with pytest.raises(AthenaQueryError) as err:
        lake.query("DROP TABLE nope")
    assert err.value.error_name == "TABLE_NOT_FOUND"


def test_failed_statement_leaves_catalog_and_storage_unchanged(lake: Lake) -> None:
    before_objects = dict(lake.storage.objects)
    with pytest.raises(AthenaQueryError) as err:
        lake.query("CREATE TABLE f WITH (external_location = 's3://lake/f/', partitioned_by = ARRAY['day']) "
                   "AS SELECT id, day, 10 / (id - 3) AS boom FROM src")
    assert err.value.error_name in ("DIVISION_BY_ZERO", "HIVE_COLUMN_ORDER_MISMATCH")
    assert lake.catalog.get_table("db", "f") is None
    assert lake.storage.objects == before_objects


def test_explain_returns_a_plan(lake: Lake) -> None:
    out = lake.query("EXPLAIN SELECT count(*) FROM src")
    assert out.statement_type == "UTILITY" and [c.name for c in out.columns] == ["Query Plan"]
    assert list(out.render_rows())[0][0]


def test_insert_refuses_what_trino_does_not_coerce(lake: Lake) -> None:
    lake.query("CREATE TABLE n WITH (external_location = 's3://lake/n/') AS SELECT id, day FROM src WHERE id = 1")
    with pytest.raises(AthenaQueryError) as err:
        lake.query("INSERT INTO n VALUES ('5', 'd')")  # varchar into bigint
    assert err.value.error_name == "TYPE_MISMATCH"
    lake.query("INSERT INTO n VALUES (CAST(5 AS integer), 'd')")  # integer widens to bigint
    assert lake.rows("SELECT id FROM n ORDER BY id") == [["1"], ["5"]]


def test_ctas_and_views_need_column_names(lake: Lake) -> None:
    for sql in ("CREATE TABLE x WITH (external_location = 's3://lake/x/') AS SELECT id + 1 FROM src",
                "CREATE VIEW x AS SELECT count(*) FROM src"):
        with pytest.raises(AthenaQueryError) as err:
            lake.query(sql)
        assert err.value.error_name == "MISSING_COLUMN_NAME"
        assert err.value.message.endswith("Column name not specified at position 1")


def test_alter_table_properties_columns_location(lake: Lake) -> None:
    lake.query("ALTER TABLE src SET TBLPROPERTIES ('owner_team' = 'data', 'classification' = 'parquet')")
    assert lake.catalog.get_table("db", "src")["Parameters"]["owner_team"] == "data"
    assert lake.rows("SHOW TBLPROPERTIES src ('owner_team')") == [["data"]]
    lake.query("ALTER TABLE src ADD COLUMNS (note string, score decimal(5,2))")
    assert lake.rows("SELECT id, note, score FROM src WHERE id = 1") == [["1", None, None]]
    lake.put("s3://lake/moved/a.parquet", parquet_bytes(pa.table({"id": pa.array([42], pa.int64())})))
    lake.query("ALTER TABLE src SET LOCATION 's3://lake/moved/'")
    assert lake.rows("SELECT id FROM src") == [["42"]]


def test_describe_text_is_what_awswrangler_parses(lake: Lake) -> None:
    # wr.athena.describe_table reads the .txt result with the ColumnInfo names and sep="\t".
    import csv

    import pandas as pd
    from awswrangler.athena._utils import _parse_describe_table

    lake.query("CREATE EXTERNAL TABLE p (id bigint COMMENT 'the id', v double) PARTITIONED BY (dt string) "
               "STORED AS PARQUET LOCATION 's3://lake/p/'")
    out = lake.query("DESCRIBE `p`", database="`db`")
    frame = pd.read_csv(io.StringIO(out.render_text()), sep="\t", names=[c.name for c in out.columns],
                        quoting=csv.QUOTE_ALL, keep_default_na=False, skip_blank_lines=True, na_values=[])
    parsed = _parse_describe_table(frame)
    assert parsed.to_dict("list") == {"Column Name": ["id", "v", "dt"], "Type": ["bigint", "double", "string"],
                                      "Partition": [False, False, True], "Comment": ["the id", "", ""]}


def test_information_schema(lake: Lake) -> None:
    lake.query("CREATE VIEW v AS SELECT id FROM src")
    assert lake.rows("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'db' "
                     "ORDER BY table_name") == [["src", "BASE TABLE"], ["v", "VIEW"]]
    assert lake.rows("SELECT column_name, data_type, ordinal_position FROM information_schema.columns "
                     "WHERE table_schema = 'db' AND table_name = 'src' ORDER BY ordinal_position") == [
        ["id", "bigint", "1"], ["day", "varchar", "2"], ["amount", "double", "3"]]
    assert ["information_schema"] in lake.rows("SELECT schema_name FROM information_schema.schemata")
    assert lake.rows("SELECT view_definition FROM information_schema.views") == [["SELECT id FROM src"]]


@pytest.mark.parametrize("sql", [
    "CREATE TABLE b WITH (external_location = 's3://lake/b/', bucketed_by = ARRAY['id'], bucket_count = 4) "
    "AS SELECT id FROM src",
    "CREATE TABLE o WITH (external_location = 's3://lake/o/', format = 'ORC') AS SELECT id FROM src",
    "CREATE TABLE i WITH (table_type = 'ICEBERG', location = 's3://lake/i/') AS SELECT id FROM src",
])
def test_ctas_features_without_a_faithful_local_form_are_refused(lake: Lake, sql: str) -> None:
    with pytest.raises(AthenaQueryError) as err:
        lake.query(sql)
    assert err.value.error_name == "NOT_SUPPORTED"
    assert lake.catalog.get_tables("db") == [lake.catalog.get_table("db", "src")]


def test_json_output_keeps_decimals_exact(lake: Lake) -> None:
    out = lake.query("UNLOAD (SELECT DECIMAL '12345678901234567.89' AS d, ARRAY[DECIMAL '1.10'] AS a) "
                     "TO 's3://lake/dec/' WITH (format = 'JSON', compression = 'NONE')")
    body = lake.storage.objects[("lake", out.written_files[0][len("s3://lake/"):])]
    assert body == b'{"d":12345678901234567.89,"a":[1.10]}\n'
