"""The workbench's own lake table (data/schema.json) as Firehose writes it: Parquet with INT96
timestamps, nested structs and arrays, decimals, year/month/day string partitions; typical
notebook queries over it, expected answers computed from the same Python rows."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline_lib import schema as lake_schema

from .lake import Lake

ROWS = [
    {"entity_type": "order", "customer_id": "c1", "order_id": "o1", "status": "PAID", "total": Decimal("12.50"),
     "currency": "EUR", "items": [{"sku": "A", "quantity": 2, "unit_price": Decimal("5.00")},
                                  {"sku": "B", "quantity": 1, "unit_price": Decimal("2.50")}],
     "tags": ["x"], "created_at": dt.datetime(2024, 1, 5, 10, 0), "cdc_operation": "INSERT",
     "address": None, "is_active": None, "loyalty_points": None},
    {"entity_type": "customer", "customer_id": "c1", "order_id": None, "name": "Ann", "tier": "gold",
     "is_active": True, "loyalty_points": 120, "address": {"street": "1 Main", "city": "Oslo", "postcode": "0150",
                                                           "country": "NO"},
     "created_at": dt.datetime(2024, 1, 5, 11, 30), "cdc_operation": "MODIFY", "items": None, "total": None},
    {"entity_type": "order", "customer_id": "c2", "order_id": "o2", "status": "SHIPPED", "total": Decimal("7.25"),
     "currency": "EUR", "items": [{"sku": "A", "quantity": 1, "unit_price": Decimal("7.25")}],
     "created_at": dt.datetime(2024, 1, 6, 9, 15), "cdc_operation": "INSERT", "address": None},
]


def _lake() -> tuple[Lake, dict[str, int]]:
    s = lake_schema.load_schema()
    lake = Lake("lakedb")
    sizes = {}
    for day in ("05", "06"):
        rows = [r for r in ROWS if r["created_at"].day == int(day)]
        table = pa.Table.from_pylist([{c: r.get(c) for c in s.column_names()} for r in rows], schema=s.arrow_schema())
        buf = io.BytesIO()
        pq.write_table(table, buf, use_deprecated_int96_timestamps=True)  # as Firehose (Hive) writes
        key = f"s3://lake/cdc_events/year=2024/month=01/day={day}/part-{day}.parquet"
        lake.put(key, buf.getvalue())
        sizes[day] = len(buf.getvalue())
    lake.table(s.table, [(c.name, c.type) for c in s.columns], "s3://lake/cdc_events/",
               partition_keys=[(c.name, c.type) for c in s.partition_keys])
    for day in ("05", "06"):
        lake.partition(s.table, ["2024", "01", day], f"s3://lake/cdc_events/year=2024/month=01/day={day}/")
    return lake, sizes


def test_one_day_query_scans_one_partition() -> None:
    lake, sizes = _lake()
    out = lake.query("SELECT entity_type, count(*) FROM cdc_events WHERE year = '2024' AND month = '01' AND day = '05' "
                     "GROUP BY entity_type ORDER BY entity_type")
    assert list(out.render_rows()) == [["customer", "1"], ["order", "1"]]
    assert out.data_scanned_bytes == sizes["05"]
    assert lake.query("SELECT count(*) FROM cdc_events").data_scanned_bytes == sum(sizes.values())


def test_nested_columns_decimals_and_int96_timestamps() -> None:
    lake, _ = _lake()
    want_revenue = sum(i["quantity"] * i["unit_price"] for r in ROWS for i in (r.get("items") or []))
    assert lake.rows("SELECT sum(quantity * unit_price) FROM cdc_events "
                     "CROSS JOIN UNNEST(items) AS t(sku, quantity, unit_price)") == [[f"{want_revenue:.2f}"]]
    # Trino unnests an array of rows into one column per field: one alias for three fields is an error.
    import pytest

    from pipeline_lib.localcloud.athena.engine import AthenaQueryError
    with pytest.raises(AthenaQueryError) as err:
        lake.query("SELECT i FROM cdc_events CROSS JOIN UNNEST(items) AS t(i)")
    assert err.value.error_name == "MISMATCHED_COLUMN_ALIASES"
    assert err.value.message.endswith("Column alias list has 1 entries but 't' has 3 columns available")
    assert lake.rows("SELECT sku, sum(quantity) FROM cdc_events CROSS JOIN UNNEST(items) AS t(sku, quantity, unit_price) "
                     "GROUP BY sku ORDER BY sku") == [["A", "3"], ["B", "1"]]
    assert lake.rows("SELECT address.city, created_at, date_format(created_at, '%Y-%m-%d') FROM cdc_events "
                     "WHERE entity_type = 'customer'") == [["Oslo", "2024-01-05 11:30:00.000", "2024-01-05"]]
    out = lake.query("SELECT total, items FROM cdc_events WHERE order_id = 'o1'")
    assert [(c.type, c.precision, c.scale) for c in out.columns] == [("decimal", 12, 2), ("array", 0, 0)]
    assert list(out.render_rows()) == [["12.50", "[{sku=A, quantity=2, unit_price=5.00}, {sku=B, quantity=1, "
                                                 "unit_price=2.50}]"]]
