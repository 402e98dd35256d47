"""The first vertical slice: a plain SELECT over a Parquet table, Glue types imposed."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline_lib.localcloud.athena.engine import AthenaQueryError, MalformedQuery, parse_check, statement_type

from .lake import Lake, parquet_bytes


@pytest.fixture()
def lake() -> Lake:
    lake = Lake()
    lake.put("s3://lake/t/part-0.parquet", parquet_bytes(pa.table({
        "id": pa.array([1, 2, 3], pa.int32()), "name": ["a", "b", None], "amount": [1.5, 2.0, 1e20]})))
    lake.table("t", [("id", "bigint"), ("name", "string"), ("amount", "double")], "s3://lake/t/")
    return lake


def test_select_star_imposes_glue_types_and_counts_bytes(lake: Lake) -> None:
    out = lake.query("SELECT * FROM t ORDER BY id")
    assert [(c.name, c.type, c.precision) for c in out.columns] == [
        ("id", "bigint", 19), ("name", "varchar", 2147483647), ("amount", "double", 17)]
    assert out.table.schema.field("id").type == pa.int64()  # stored int32, declared bigint
    assert list(out.render_rows()) == [["1", "a", "1.5"], ["2", "b", "2.0"], ["3", None, "1.0E20"]]
    assert out.data_scanned_bytes == len(lake.storage.objects[("lake", "t/part-0.parquet")])
    assert out.statement_type == "DML" and out.result_format == "csv"


@pytest.mark.parametrize("ref", ["t", "db.t", '"awsdatacatalog"."db"."t"', "AwsDataCatalog.db.t"])
def test_table_names_resolve(lake: Lake, ref: str) -> None:
    assert lake.rows(f"SELECT count(*) FROM {ref}") == [["3"]]


def test_missing_table_and_column_fail_as_athena(lake: Lake) -> None:
    with pytest.raises(AthenaQueryError) as e:
        lake.query("SELECT * FROM x")
    assert str(e.value) == "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.x' does not exist"
    assert e.value.error_category == 2
    with pytest.raises(AthenaQueryError) as e:
        lake.query("SELECT x FROM t")
    assert str(e.value) == "COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be resolved"
    with pytest.raises(AthenaQueryError) as e:
        lake.query("SELECT * FROM nodb.t")
    assert str(e.value) == "SCHEMA_NOT_FOUND: line 1:15: Schema 'nodb' does not exist"


def test_parse_check_and_statement_type() -> None:
    with pytest.raises(MalformedQuery) as e:
        parse_check("SELEC 1")
    assert e.value.message.startswith("line 1:1: mismatched input 'SELEC'")
    parse_check("SELECT 1")
    assert statement_type("SELECT 1") == "DML"
    assert statement_type("CREATE EXTERNAL TABLE x (a int) LOCATION 's3://b/'") == "DDL"
    assert statement_type("SHOW TABLES") == "UTILITY"
    assert statement_type("CREATE TABLE x WITH (format='PARQUET') AS SELECT 1 AS a") == "DML"
