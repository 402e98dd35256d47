"""JSON lines, CSV and Parquet tables read with Glue's types imposed (OpenX/Hive JSON SerDe,
LazySimpleSerDe, OpenCSVSerde, ParquetHiveSerDe)."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa

from .lake import CSV, JSON, Lake, json_bytes, parquet_bytes


def test_json_lines_with_nested_types_and_case_insensitive_keys() -> None:
    lake = Lake()
    lake.put("s3://lake/j/a.json", json_bytes([
        {"Id": 1, "amount": "12.50", "ts": "2024-01-02 03:04:05.006", "tags": ["a", "b"],
         "attrs": {"k": 1}, "item": {"sku": "x", "qty": 2}},
        {"id": 2, "amount": 3, "ts": None, "tags": [], "attrs": {}, "item": None},
    ]))
    lake.table("j", [("id", "bigint"), ("amount", "decimal(10,2)"), ("ts", "timestamp"), ("tags", "array<string>"),
                     ("attrs", "map<string,int>"), ("item", "struct<sku:string,qty:int>")], "s3://lake/j/", fmt=JSON)
    out = lake.query("SELECT * FROM j ORDER BY id")
    assert [(c.type, c.precision, c.scale) for c in out.columns] == [
        ("bigint", 19, 0), ("decimal", 10, 2), ("timestamp", 3, 0), ("array", 0, 0), ("map", 0, 0), ("row", 0, 0)]
    assert list(out.render_rows()) == [
        ["1", "12.50", "2024-01-02 03:04:05.006", "[a, b]", "{k=1}", "{sku=x, qty=2}"],
        ["2", "3.00", None, "[]", "{}", None],
    ]
    assert lake.rows("SELECT item.sku, tags[2], attrs['k'] FROM j WHERE id = 1") == [["x", "b", "1"]]


def test_csv_lazy_simple_serde_nulls_and_header() -> None:
    lake = Lake()
    lake.put("s3://lake/c/a.csv", b"id,name,day\n1,ann,2024-01-01\n2,\\N,\n3,bob,2024-01-03\n")
    lake.table("c", [("id", "int"), ("name", "string"), ("day", "date")], "s3://lake/c/", fmt=CSV,
               parameters={"skip.header.line.count": "1"})
    assert lake.rows("SELECT id, name, day FROM c ORDER BY id") == [
        ["1", "ann", "2024-01-01"], ["2", None, None], ["3", "bob", "2024-01-03"]]


def test_open_csv_serde_quotes() -> None:
    lake = Lake()
    lake.put("s3://lake/o/a.csv", b'"1","a, b"\n"2","say ""hi"""\n')
    fmt = {**CSV, "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
                                "Parameters": {"separatorChar": ",", "quoteChar": '"'}}}
    lake.table("o", [("id", "string"), ("txt", "string")], "s3://lake/o/", fmt=fmt)
    assert lake.rows("SELECT txt FROM o ORDER BY id") == [["a, b"], ['say "hi"']]


def test_parquet_physical_types_widened_to_glue_types() -> None:
    lake = Lake()
    lake.put("s3://lake/p/a.parquet", parquet_bytes(pa.table({
        "small": pa.array([1], pa.int16()), "f": pa.array([1.5], pa.float32()),
        "d": pa.array([decimal.Decimal("1.5")], pa.decimal128(5, 1)),
        "ts": pa.array([dt.datetime(2024, 1, 1, 0, 0, 0, 123000)], pa.timestamp("ns")),
        "Mixed": ["x"]})))
    lake.table("p", [("small", "bigint"), ("f", "double"), ("d", "decimal(10,3)"), ("ts", "timestamp"),
                     ("mixed", "string"), ("absent", "int")], "s3://lake/p/")
    out = lake.query("SELECT * FROM p")
    assert [c.type for c in out.columns] == ["bigint", "double", "decimal", "timestamp", "varchar", "integer"]
    assert list(out.render_rows()) == [["1", "1.5", "1.500", "2024-01-01 00:00:00.123", "x", None]]


def test_parquet_column_of_an_incompatible_type_is_hive_bad_data() -> None:
    import pytest

    from pipeline_lib.localcloud.athena.engine import AthenaQueryError
    lake = Lake()
    lake.put("s3://lake/b/a.parquet", parquet_bytes(pa.table({"n": ["12"], "m": pa.array([1], pa.int64())})))
    lake.table("b", [("n", "int"), ("m", "bigint")], "s3://lake/b/")
    with pytest.raises(AthenaQueryError) as err:
        lake.query("SELECT n FROM b")
    assert err.value.error_name == "HIVE_BAD_DATA"
    assert err.value.message == ("Field n's type string in parquet file s3://lake/b/a.parquet is incompatible with "
                                 "type int defined in table schema")
    lake.table("narrow", [("m", "int")], "s3://lake/b/")  # int64 read as int: narrowing
    with pytest.raises(AthenaQueryError):
        lake.query("SELECT m FROM narrow")


def test_json_numbers_read_exactly() -> None:
    lake = Lake()
    lake.put("s3://lake/n/a.json", b'{"d": 12345678901234567.89, "x": 3.0, "s": 1.50, "i": 4.0}\n')
    lake.table("n", [("d", "decimal(20,2)"), ("x", "double"), ("s", "string"), ("i", "bigint")], "s3://lake/n/",
               fmt=JSON)
    assert lake.rows("SELECT * FROM n") == [["12345678901234567.89", "3.0", "1.50", "4"]]
