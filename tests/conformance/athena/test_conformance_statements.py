"""Conformance: CTAS with partitions, INSERT, UNLOAD, views, DDL and SHOW, as the Athena user
guide describes them (ctas.html, insert-into.html, unload.html, views.html, create-table.html,
msck-repair-table.html, alter-table-add-partition.html); expected answers from the conformance
data (athena_conformance_data.ORDERS) computed with pandas."""

from __future__ import annotations

import base64
import io
import json
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from athena_conformance_data import ORDERS, orders_frame
from pipeline_lib.localcloud.athena.engine import AthenaQueryError


def test_s01_ctas_partitioned_by_day(fresh_lake) -> None:
    # ctas.html: partitioned_by columns come last; one key=value folder per partition; the table
    # and its partitions are in the catalog.
    out = fresh_lake.query("CREATE TABLE daily WITH (format = 'PARQUET', external_location = 's3://lake/daily/', "
                           "partitioned_by = ARRAY['dt']) AS SELECT customer, sum(amount) AS total, dt "
                           "FROM orders GROUP BY customer, dt")
    df = orders_frame().groupby(["customer", "dt"]).amount.sum().reset_index()
    assert out.update_count == len(df)
    days = sorted(df.dt.unique())
    assert sorted({u.split("/")[4] for u in out.written_files}) == [f"dt={d}" for d in days]
    assert sorted(p["Values"] for p in fresh_lake.catalog.get_partitions("shop", "daily")) == [[d] for d in days]
    want = [[r.customer, f"{r.amount:.2f}"] for r in df[df.dt == days[0]].sort_values("customer").itertuples()]
    assert fresh_lake.rows(f"SELECT customer, total FROM daily WHERE dt = '{days[0]}' ORDER BY customer") == want


def test_s02_ctas_types_recorded_in_glue(fresh_lake) -> None:
    fresh_lake.query("CREATE TABLE typed WITH (external_location = 's3://lake/typed/') AS SELECT order_id, amount, "
                     "qty, price, ts, tags, attrs, item, CAST(ts AS date) AS day FROM orders")
    cols = fresh_lake.catalog.get_table("shop", "typed")["StorageDescriptor"]["Columns"]
    assert [(c["Name"], c["Type"]) for c in cols] == [
        ("order_id", "bigint"), ("amount", "decimal(10,2)"), ("qty", "int"), ("price", "double"),
        ("ts", "timestamp"), ("tags", "array<string>"), ("attrs", "map<string,string>"),
        ("item", "struct<sku:string,weight:double>"), ("day", "date")]
    assert fresh_lake.rows("SELECT sum(amount), count(*) FROM typed") == [
        [f"{sum(r[2] for r in ORDERS):.2f}", str(len(ORDERS))]]


def test_s03_ctas_json_format_and_no_data(fresh_lake) -> None:
    fresh_lake.query("CREATE TABLE j WITH (format = 'JSON', external_location = 's3://lake/j/') AS "
                     "SELECT order_id, customer FROM orders WHERE order_id <= 2")
    assert fresh_lake.rows("SELECT customer FROM j ORDER BY order_id") == [["alice"], ["bob"]]
    fresh_lake.query("CREATE TABLE empty WITH (external_location = 's3://lake/empty/') AS SELECT * FROM orders WITH NO DATA")
    assert fresh_lake.rows("SELECT count(*) FROM empty") == [["0"]]


def test_s04_ctas_target_not_empty_fails(fresh_lake) -> None:
    with pytest.raises(AthenaQueryError) as err:
        fresh_lake.query("CREATE TABLE x WITH (external_location = 's3://lake/orders/') AS SELECT 1 AS a")
    assert err.value.error_name == "HIVE_PATH_ALREADY_EXISTS"


def test_s05_insert_into_partitioned_table(fresh_lake) -> None:
    fresh_lake.query("INSERT INTO orders (order_id, customer, amount, dt) VALUES (7, 'erin', DECIMAL '1.00', '2024-01-04')")
    assert ["2024-01-04"] in [p["Values"] for p in fresh_lake.catalog.get_partitions("shop", "orders")]
    assert fresh_lake.rows("SELECT customer, amount, qty FROM orders WHERE dt = '2024-01-04'") == [["erin", "1.00", None]]
    assert fresh_lake.rows("SELECT count(*) FROM orders") == [[str(len(ORDERS) + 1)]]


def test_s06_unload_parquet_with_parameters(fresh_lake) -> None:
    # unload.html: UNLOAD writes the query result to an empty S3 location in the given format.
    out = fresh_lake.query("UNLOAD (SELECT order_id, amount FROM orders WHERE customer = ?) TO 's3://lake/out/' "
                           "WITH (format = 'PARQUET', compression = 'SNAPPY')", params=["'bob'"])
    want = orders_frame().query("customer == 'bob'")
    assert out.update_count == len(want)
    data = pq.read_table(io.BytesIO(fresh_lake.storage.objects[("lake", out.written_files[0][len("s3://lake/"):])]))
    assert sorted(data.column("order_id").to_pylist()) == sorted(want.order_id)
    assert sorted(data.column("amount").to_pylist()) == sorted(Decimal(x) for x in want.amount)


def test_s07_view_roundtrip_and_presto_encoding(fresh_lake) -> None:
    # views.html: Athena stores a view in Glue as VIRTUAL_VIEW with ViewOriginalText
    # "/* Presto View: <base64 JSON> */".
    fresh_lake.query("CREATE VIEW big_orders AS SELECT order_id, amount FROM orders WHERE amount > 10")
    t = fresh_lake.catalog.get_table("shop", "big_orders")
    assert t["TableType"] == "VIRTUAL_VIEW" and t["Parameters"]["presto_view"] == "true"
    view = json.loads(base64.b64decode(t["ViewOriginalText"][len("/* Presto View: "):-len(" */")]))
    assert view["columns"] == [{"name": "order_id", "type": "bigint"}, {"name": "amount", "type": "decimal(10,2)"}]
    want = sorted([str(r[0])] for r in ORDERS if r[2] > 10)
    assert fresh_lake.rows("SELECT order_id FROM big_orders ORDER BY order_id") == want
    assert fresh_lake.rows("SHOW CREATE VIEW big_orders")[0][0].endswith(
        "AS\nSELECT order_id, amount FROM orders WHERE amount > 10")


def test_s08_create_external_table_msck_and_show(fresh_lake) -> None:
    fresh_lake.query("CREATE EXTERNAL TABLE copy (order_id bigint, customer string) PARTITIONED BY (dt string) "
                     "STORED AS PARQUET LOCATION 's3://lake/orders/'")
    assert fresh_lake.rows("SELECT count(*) FROM copy") == [["0"]]  # no partitions catalogued yet
    fresh_lake.query("MSCK REPAIR TABLE copy")
    assert fresh_lake.rows("SELECT count(*) FROM copy") == [[str(len(ORDERS))]]
    assert fresh_lake.rows("SHOW PARTITIONS copy") == [[f"dt={d}"] for d in sorted({r[-1] for r in ORDERS})]
    assert ["copy"] in fresh_lake.rows("SHOW TABLES")
    assert fresh_lake.rows("SHOW TABLES LIKE 'cust*'") == [["customers"]]


def test_s09_alter_table_add_drop_partition(fresh_lake) -> None:
    fresh_lake.query("ALTER TABLE orders DROP PARTITION (dt = '2024-01-01')")
    assert fresh_lake.rows("SELECT count(*) FROM orders") == [[str(sum(r[-1] != "2024-01-01" for r in ORDERS))]]
    fresh_lake.query("ALTER TABLE orders ADD IF NOT EXISTS PARTITION (dt = '2024-01-01')")
    assert fresh_lake.rows("SELECT count(*) FROM orders") == [[str(len(ORDERS))]]


def test_s10_database_ddl(fresh_lake) -> None:
    fresh_lake.query("CREATE DATABASE sandbox")
    fresh_lake.query("CREATE TABLE sandbox.t WITH (external_location = 's3://lake/sb/') AS SELECT 1 AS a")
    assert fresh_lake.rows("SELECT a FROM sandbox.t") == [["1"]]
    assert fresh_lake.rows("SHOW TABLES IN sandbox") == [["t"]]
    fresh_lake.query("DROP DATABASE sandbox CASCADE")
    with pytest.raises(AthenaQueryError) as err:
        fresh_lake.query("SELECT a FROM sandbox.t")
    assert err.value.error_name == "SCHEMA_NOT_FOUND"


def test_s11_describe_lists_columns_and_partition_keys(fresh_lake) -> None:
    lines = fresh_lake.query("DESCRIBE orders").render_text().splitlines()
    assert [line.split("\t")[0].strip() for line in lines[:10]] == [
        "order_id", "customer", "amount", "qty", "price", "ts", "tags", "attrs", "item", "dt"]
    assert lines[2].split("\t")[1].strip() == "decimal(10,2)"
