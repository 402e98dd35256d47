"""The conformance suite's data and lake: small Parquet (partitioned), JSON and CSV tables in the engine's
in-memory catalog/storage. The Python rows below are the single source both for writing the
objects and for computing expected answers independently (pandas), never via the engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
from pipeline_lib.localcloud.athena.engine.memory import CSV, JSON, MemoryLake, json_bytes, parquet_bytes

ORDERS = [
    # order_id, customer, amount, qty, price, ts, tags, attrs, item, dt
    (1, "alice", Decimal("10.50"), 2, 5.25, dt.datetime(2024, 1, 1, 8, 30), ["new", "promo"], {"channel": "web"},
     {"sku": "A1", "weight": 1.5}, "2024-01-01"),
    (2, "bob", Decimal("20.00"), 1, 20.0, dt.datetime(2024, 1, 1, 23, 59, 59), ["new"], {"channel": "app", "coupon": "X"},
     {"sku": "B2", "weight": 0.5}, "2024-01-01"),
    (3, "alice", Decimal("5.25"), 3, 1.75, dt.datetime(2024, 1, 2, 0, 0, 1), [], {}, {"sku": "A1", "weight": 1.5},
     "2024-01-02"),
    (4, "carol", Decimal("100.00"), 10, 10.0, dt.datetime(2024, 1, 2, 12), ["bulk"], {"channel": "web"}, None,
     "2024-01-02"),
    (5, "bob", Decimal("7.75"), 1, 7.75, dt.datetime(2024, 1, 3, 6, 15, 30, 250000), None, None,
     {"sku": "C3", "weight": 2.0}, "2024-01-03"),
    (6, "dave", Decimal("0.99"), None, None, dt.datetime(2024, 1, 3, 18, 45), ["promo"], {"channel": "app"},
     {"sku": "D4", "weight": None}, "2024-01-03"),
]
ORDER_COLUMNS = ["order_id", "customer", "amount", "qty", "price", "ts", "tags", "attrs", "item", "dt"]
CUSTOMERS = [
    {"customer": "alice", "country": "US", "signup": "2023-05-01", "vip": True},
    {"customer": "bob", "country": "DE", "signup": "2023-07-15", "vip": False},
    {"customer": "carol", "country": "US", "signup": "2024-01-02", "vip": False},
    {"customer": "erin", "country": "FR", "signup": "2022-12-31", "vip": True},
]
EVENTS = [
    (1, "https://shop.example.com:8443/cart/view?item=A1&qty=2#top", '{"user":{"id":7,"tags":["a","b"]},"ok":true}'),
    (2, "http://example.org/", '{"user":{"id":8},"ok":false}'),
    (3, "https://example.com/search?q=duck", '{"user":null}'),
]

_ORDER_SCHEMA = pa.schema([
    ("order_id", pa.int32()),  # stored int32, declared bigint: Glue's type is imposed
    ("customer", pa.string()), ("amount", pa.decimal128(10, 2)), ("qty", pa.int32()), ("price", pa.float64()),
    ("ts", pa.timestamp("ms")), ("tags", pa.list_(pa.string())), ("attrs", pa.map_(pa.string(), pa.string())),
    ("item", pa.struct([("sku", pa.string()), ("weight", pa.float64())])),
])


def orders_frame() -> pd.DataFrame:
    return pd.DataFrame(ORDERS, columns=ORDER_COLUMNS)


def build_lake() -> MemoryLake:
    lake = MemoryLake("shop")
    for day in sorted({r[-1] for r in ORDERS}):
        rows = [r for r in ORDERS if r[-1] == day]
        cols = list(zip(*[r[:-1] for r in rows]))
        arrays = [pa.array(list(c), type=f.type) if not pa.types.is_map(f.type)
                  else pa.array([None if m is None else list(m.items()) for m in c], type=f.type)
                  for c, f in zip(cols, _ORDER_SCHEMA)]
        lake.put(f"s3://lake/orders/dt={day}/part-00000.parquet",
                 parquet_bytes(pa.Table.from_arrays(arrays, schema=_ORDER_SCHEMA)))
    lake.table("orders", [("order_id", "bigint"), ("customer", "string"), ("amount", "decimal(10,2)"),
                          ("qty", "int"), ("price", "double"), ("ts", "timestamp"), ("tags", "array<string>"),
                          ("attrs", "map<string,string>"), ("item", "struct<sku:string,weight:double>")],
               "s3://lake/orders/", partition_keys=[("dt", "string")])
    for day in sorted({r[-1] for r in ORDERS}):
        lake.partition("orders", [day], f"s3://lake/orders/dt={day}/")
    lake.put("s3://lake/customers/c.json", json_bytes(CUSTOMERS))
    lake.table("customers", [("customer", "string"), ("country", "string"), ("signup", "date"), ("vip", "boolean")],
               "s3://lake/customers/", fmt=JSON)
    lake.put("s3://lake/events/e.txt", "".join(f"{i}|{u}|{p}\n" for i, u, p in EVENTS).encode())
    fmt = {**CSV, "SerdeInfo": {**CSV["SerdeInfo"], "Parameters": {"field.delim": "|"}}}
    lake.table("events", [("id", "int"), ("url", "string"), ("payload", "string")], "s3://lake/events/", fmt=fmt)
    return lake


