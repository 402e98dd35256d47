"""A SELECT's compilation is remembered by its text, parameters and context, and used again only
while the catalog answers as it did: the answers never change because of it."""

from __future__ import annotations

import pyarrow as pa
import pytest

from pipeline_lib.localcloud.athena.engine import AthenaQueryError, compile_query

from .lake import Lake, parquet_bytes


@pytest.fixture()
def hits(monkeypatch) -> list[bool]:
    """Whether each lookup of the shared cache answered."""
    seen: list[bool] = []
    get = compile_query.COMPILED.get

    def spy(key, catalog):
        found = get(key, catalog)
        seen.append(found is not None)
        return found

    monkeypatch.setattr(compile_query.COMPILED, "get", spy)
    return seen


def _lake(name: str) -> Lake:
    lake = Lake(name)  # a database of its own: other tests' entries cannot answer for it
    lake.table("ev", [("id", "bigint"), ("v", "double")], f"s3://{name}/ev/", partition_keys=[("dt", "string")])
    return lake


def _day(lake: Lake, day: str, ids: list[int]) -> None:
    lake.put(f"s3://{lake.database}/ev/dt={day}/part-0.parquet",
             parquet_bytes(pa.table({"id": pa.array(ids, pa.int64()), "v": [i / 2 for i in ids]})))
    lake.partition("ev", [day], f"s3://{lake.database}/ev/dt={day}/")


def test_a_repeated_select_reuses_its_compilation_and_reads_the_data_again(hits) -> None:
    lake = _lake("cache_reuse")
    _day(lake, "2024-01-01", [1, 2])
    sql = "SELECT count(*), sum(v) FROM ev WHERE dt >= '2024-01-01'"
    assert lake.rows(sql) == [["2", "1.5"]]
    assert lake.rows(sql) == [["2", "1.5"]]
    _day(lake, "2024-01-02", [3])  # a new partition and object: read, though the compilation is reused
    third = lake.query(sql)
    assert list(third.render_rows()) == [["3", "3.0"]]
    assert hits == [False, True, True]
    lake.storage.reads.clear()
    assert lake.rows("SELECT count(*) FROM ev WHERE dt = '2024-01-02'") == [["1"]]
    assert lake.rows("SELECT count(*) FROM ev WHERE dt = '2024-01-02'") == [["1"]]
    # Pruning still applies on a reused compilation.
    assert lake.storage.reads == ["s3://cache_reuse/ev/dt=2024-01-02/part-0.parquet"] * 2


def test_parameters_and_database_context_are_part_of_the_key(hits) -> None:
    lake = _lake("cache_params")
    _day(lake, "2024-01-01", [1, 2, 3])
    sql = "SELECT count(*) FROM ev WHERE id > ?"
    assert lake.rows(sql, params=["1"]) == [["2"]]
    assert lake.rows(sql, params=["2"]) == [["1"]]
    assert lake.rows(sql, params=["1"]) == [["2"]]
    assert hits == [False, False, True]
    with pytest.raises(AthenaQueryError) as err:
        lake.query("SELECT count(*) FROM ev", database="default")
    assert err.value.error_name == "SCHEMA_NOT_FOUND"


def test_a_changed_table_or_view_compiles_afresh(hits) -> None:
    lake = _lake("cache_changes")
    _day(lake, "2024-01-01", [1, 2])
    lake.query("CREATE VIEW big AS SELECT id FROM ev WHERE id > 1")
    assert lake.rows("SELECT count(*) FROM big") == [["1"]]
    lake.query("CREATE OR REPLACE VIEW big AS SELECT id FROM ev WHERE id > 0")
    assert lake.rows("SELECT count(*) FROM big") == [["2"]]
    # A column's type changed in the catalog: the new type is what the query sees (Athena does not
    # read a Parquet double as real), and so is the old one once restored.
    table = lake.catalog.get_table("cache_changes", "ev")
    columns = table["StorageDescriptor"]["Columns"]
    assert lake.rows("SELECT typeof(v) FROM ev LIMIT 1") == [["double"]]
    for declared in ("float", "double"):
        columns[1]["Type"] = declared
        lake.catalog.update_table("cache_changes", {k: v for k, v in table.items() if k != "DatabaseName"})
        if declared == "float":
            with pytest.raises(AthenaQueryError) as bad:
                lake.query("SELECT typeof(v) FROM ev LIMIT 1")
            assert bad.value.error_name == "HIVE_BAD_DATA"
    assert lake.rows("SELECT typeof(v) FROM ev LIMIT 1") == [["double"]]
    lake.query("DROP VIEW big")
    with pytest.raises(AthenaQueryError) as err:
        lake.query("SELECT count(*) FROM big")
    assert err.value.error_name == "TABLE_NOT_FOUND"
    # No lookup answered: each query came after a change to what it reads (an entry that no longer
    # matches is dropped, so restoring the old definition compiles afresh too).
    assert hits == [False] * 6
