"""Bring your own data, the pure part: reading files, inferring the lake schema, key templates,
the WriteRequests. Expected types follow Glue/Athena's types (bigint's range, decimal(p,s) with
p <= 38 digits of which s after the point); expected items are DynamoDB JSON written by hand."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib.data import (
    DataError,
    athena_safe_name,
    infer_column_type,
    key_template_columns,
    prepare_data,
    prepare_rows,
    read_rows,
    write_data_set,
)
from pipeline_lib.lambdas import enricher
from pipeline_lib.schema import load_schema

NOW = datetime(2026, 3, 4, 12, 0, 0, tzinfo=timezone.utc)


# -- names ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, safe", [
    ("State", "state"),
    ("CountyName", "county_name"),
    ("HTTPCode", "http_code"),
    ("Área km²", "area_km2"),
    ("Población 2020", "poblacion_2020"),
    ("2020 population", "c_2020_population"),
    ("  --  ", "column"),
    ("東京", "column"),
    ("already_snake", "already_snake"),
    ("a.b-c d", "a_b_c_d"),
])
def test_athena_safe_name(name: str, safe: str) -> None:
    assert athena_safe_name(name) == safe


@pytest.mark.parametrize("name", ["State", "CountyName", "Área km²", "2020 population", "x__y", "ÄÖÜ"])
def test_a_safe_name_survives_the_enricher_and_the_schema_rules(name: str) -> None:
    safe = athena_safe_name(name)
    assert enricher.snake_case(safe) == safe  # the attribute name is the column name
    assert safe[0].isalpha() or safe[0] == "_"
    assert all(c.islower() or c.isdigit() or c == "_" for c in safe)


def test_reserved_and_repeated_names_are_renamed() -> None:
    prepared = prepare_rows(
        ["id", "Year", "created_at", "cdc_operation", "A b", "a_b"],
        [{"id": "1", "Year": "2020", "created_at": "x", "cdc_operation": "y", "A b": "1", "a_b": "2"}],
        "ID#{id}", "ROW#{id}", table="t", now=NOW,
    )
    names = [c.name for c in prepared.columns]
    assert names == ["id", "year_value", "created_at_value", "cdc_operation_value", "a_b", "a_b_2"]
    assert "created_at" in prepared.schema.column_names()  # the pipeline's own column stays


# -- types ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("values, glue_type", [
    (["1", "-2", "+3", None], "bigint"),
    (["9223372036854775807", "-9223372036854775808"], "bigint"),
    (["9223372036854775808"], "decimal(19,0)"),  # past bigint: still a whole number, exact
    (["01234", "5"], "string"),  # a leading zero is a code (ZIP, FIPS), not a number
    (["0", "10"], "bigint"),
    (["1.5", "22.25", "3"], "decimal(4,2)"),
    (["-0.001"], "decimal(3,3)"),
    (["1e3", "2.5"], "double"),
    (["1" * 39 + ".5"], "double"),  # over 38 digits: no decimal holds it
    (["true", "False", "TRUE"], "boolean"),
    (["2024-02-29", "2021-12-31"], "date"),
    (["2023-02-29"], "string"),  # not a date
    (["2024-01-02T03:04:05Z", "2024-01-02 03:04:05.123+02:00", "2024-01-02T03:04"], "timestamp"),
    (["2024-01-02", "2024-01-02T03:04:05Z"], "timestamp"),
    (["Zoë", "東京"], "string"),
    (["1", "x"], "string"),
    ([None, None], "string"),
    ([], "string"),
    (["nan"], "string"),
])
def test_infer_column_type(values: list, glue_type: str) -> None:
    assert infer_column_type(values) == glue_type


def test_hints_from_parquet_win() -> None:
    assert infer_column_type(["1.5", "2"], "double") == "double"


# -- key templates --------------------------------------------------------------------------------
def test_key_template_columns() -> None:
    assert key_template_columns("STATE#{State}#{County}#{State}", ["State", "County"]) == ["State", "County"]


@pytest.mark.parametrize("template, message", [
    ("STATE", "names no column"),
    ("STATE#{}", "names no column"),
    ("ROW", "names no column"),
    ("STATE#{Nope}", "'Nope' that the file does not have; its columns are: State, County"),
    ("STATE#{State", "is not a key template"),
])
def test_bad_key_templates(template: str, message: str) -> None:
    with pytest.raises(DataError, match=message.replace("(", r"\(")):
        key_template_columns(template, ["State", "County"], "pk")


# -- the whole preparation ------------------------------------------------------------------------
CSV = (
    "State,County,Population,Área km²,Founded,Motto\n"
    "Baden-Württemberg,Zoë,12034,1.5,2020-01-02,Grüß Gott\n"
    "東京都,千代田区,,11.66,2021-03-04,\n"
)


def test_prepare_csv(tmp_path: Path) -> None:
    path = tmp_path / "My Counties.csv"
    path.write_text(CSV, encoding="utf-8")
    prepared = prepare_data(path, "STATE#{State}", "COUNTY#{County}", created_at="Founded")
    assert prepared.schema.table == "my_counties"
    assert [(c.name, c.type) for c in prepared.schema.columns] == [
        ("state", "string"), ("county", "string"), ("population", "bigint"), ("area_km2", "decimal(4,2)"),
        ("founded", "date"), ("motto", "string"), ("created_at", "timestamp"), ("cdc_operation", "string"),
        ("cdc_event_time", "timestamp"), ("cdc_event_id", "string"),
    ]
    assert prepared.schema.partition_key_names() == ["year", "month", "day"]
    assert prepared.key_columns == ["state", "county"]
    assert prepared.missing_cells == 2
    assert prepared.requests == [
        {"PutRequest": {"Item": {
            "PK": {"S": "STATE#Baden-Württemberg"}, "SK": {"S": "COUNTY#Zoë"},
            "state": {"S": "Baden-Württemberg"}, "county": {"S": "Zoë"}, "population": {"N": "12034"},
            "area_km2": {"N": "1.5"}, "founded": {"S": "2020-01-02"}, "motto": {"S": "Grüß Gott"},
            "createdAt": {"S": "2020-01-02T00:00:00.000Z"}}}},
        {"PutRequest": {"Item": {
            "PK": {"S": "STATE#東京都"}, "SK": {"S": "COUNTY#千代田区"},
            "state": {"S": "東京都"}, "county": {"S": "千代田区"}, "area_km2": {"N": "11.66"},
            "founded": {"S": "2021-03-04"}, "createdAt": {"S": "2021-03-04T00:00:00.000Z"}}}},
    ]


def test_enricher_rows_carry_the_schema_columns(tmp_path: Path) -> None:
    """What the enricher makes of a prepared item has exactly the schema's keys (no partition keys)."""
    path = tmp_path / "c.csv"
    path.write_text(CSV, encoding="utf-8")
    prepared = prepare_data(path, "STATE#{State}", "COUNTY#{County}", created_at="Founded")
    item = prepared.requests[0]["PutRequest"]["Item"]
    change = enricher.DynamoDBChange("e-1", "INSERT", 1_700_000_000_000, item)
    row = json.loads(enricher.lake_row(change))
    assert set(row) == set(prepared.schema.column_names())
    assert enricher.partition_keys(enricher.created_at_of(item)) == {"year": "2020", "month": "01", "day": "02"}


def test_created_at_column_named_created_at_is_the_timestamp_column() -> None:
    prepared = prepare_rows(["id", "Created At"], [{"id": "1", "Created At": "2024-05-06 07:08:09"}],
                            "ID#{id}", "ROW#{id}", table="t", created_at="Created At", now=NOW)
    assert prepared.schema.column_names().count("created_at") == 1
    assert prepared.schema.column("created_at").type == "timestamp"
    assert prepared.requests[0]["PutRequest"]["Item"] == {
        "PK": {"S": "ID#1"}, "SK": {"S": "ROW#1"}, "id": {"N": "1"}, "createdAt": {"S": "2024-05-06T07:08:09.000Z"}}


def test_created_at_range_spreads_rows_evenly_and_default_is_now() -> None:
    rows = [{"id": str(i)} for i in range(5)]
    spread = prepare_rows(["id"], rows, "ID#{id}", "ROW#{id}", table="t", created_at_range=("2024-01-01", "2024-01-05"))
    stamps = [r["PutRequest"]["Item"]["createdAt"]["S"] for r in spread.requests]
    assert stamps == [f"2024-01-0{d}T00:00:00.000Z" for d in range(1, 6)]
    default = prepare_rows(["id"], rows[:1], "ID#{id}", "ROW#{id}", table="t", now=NOW)
    assert default.requests[0]["PutRequest"]["Item"]["createdAt"] == {"S": "2026-03-04T12:00:00.000Z"}


def test_offsets_are_converted_to_utc() -> None:
    prepared = prepare_rows(["id", "t"], [{"id": "1", "t": "2024-01-01T01:30:00+02:00"}], "ID#{id}", "ROW#{id}",
                            table="t", created_at="t")
    assert prepared.requests[0]["PutRequest"]["Item"]["t"] == {"S": "2023-12-31T23:30:00.000Z"}
    assert prepared.requests[0]["PutRequest"]["Item"]["createdAt"] == {"S": "2023-12-31T23:30:00.000Z"}


@pytest.mark.parametrize("kwargs, message", [
    ({"created_at": "Nope"}, "--created-at 'Nope' is not a column"),
    ({"created_at": "when"}, "data row 2: column 'when' (--created-at) is empty"),
    ({"created_at": "id"}, "is not a date"),
    ({"created_at_range": ("2024-02-01", "2024-01-01")}, "END 2024-01-01 is before START"),
    ({"created_at_range": ("soon", "2024-01-01")}, "START: 'soon' is not a date"),
    ({"created_at": "when", "created_at_range": ("2024-01-01", "2024-01-02")}, "not both"),
])
def test_bad_created_at(kwargs: dict, message: str) -> None:
    rows = [{"id": "1", "when": "2024-01-01"}, {"id": "2", "when": None}]
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        prepare_rows(["id", "when"], rows, "ID#{id}", "ROW#{id}", table="t", **kwargs)


def test_duplicate_keys_name_both_rows() -> None:
    rows = [{"a": "1", "b": "x"}, {"a": "2", "b": "y"}, {"a": "1", "b": "z"}]
    with pytest.raises(DataError, match=r"duplicate key: data rows 1 and 3 both have PK='A#1', SK='ROW#1'"):
        prepare_rows(["a", "b"], rows, "A#{a}", "ROW#{a}", table="t", now=NOW)


def test_empty_key_cell_is_refused() -> None:
    with pytest.raises(DataError, match="data row 1: key column 'a' is empty"):
        prepare_rows(["a"], [{"a": None}], "A#{a}", "ROW#{a}", table="t", now=NOW)


# -- reading files --------------------------------------------------------------------------------
@pytest.mark.parametrize("name, body, message", [
    ("e.csv", b"", "is empty"),
    ("e.csv", b"\n \n", "is empty"),
    ("h.csv", b"a,b\n", "has a header but no data rows"),
    ("bad.csv", b"a,b\n1,2,3\n", "line 2: 3 cells but the header has 2 columns"),
    ("latin.csv", "a\nZo\u00eb\n".encode("latin-1"), "is not UTF-8"),
    ("dup.csv", b"a,a\n1,2\n", "repeats column name"),
    ("x.xlsx", b"PK\x03\x04", "cannot tell the format"),
    ("bad.jsonl", b'{"a": 1}\nnot json\n', "line 2: not a JSON object per line"),
    ("arr.jsonl", b"[1, 2]\n", "expected a JSON object"),
    ("bad.parquet", b"not parquet at all", "is not a readable Parquet file"),
])
def test_unreadable_files(tmp_path: Path, name: str, body: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(body)
    with pytest.raises(DataError, match=message):
        read_rows(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_rows(tmp_path / "nope.csv")


def test_jsonl_keeps_number_digits_and_nulls(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"id": 1, "price": 0.10, "ok": true, "tags": ["a"]}\n{"id": 2, "price": null, "x": "é"}\n',
                    encoding="utf-8")
    columns, rows, _ = read_rows(path)
    assert columns == ["id", "price", "ok", "tags", "x"]
    assert rows == [{"id": "1", "price": "0.10", "ok": "true", "tags": '["a"]', "x": None},
                    {"id": "2", "price": None, "ok": None, "tags": None, "x": "é"}]
    assert infer_column_type([r["price"] for r in rows]) == "decimal(2,2)"


def test_parquet_types(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({
        "id": pa.array([1, 2], pa.int32()),
        "ratio": pa.array([0.5, None], pa.float64()),
        "amount": pa.array([Decimal("1.20"), Decimal("3.45")], pa.decimal128(5, 2)),
        "day": pa.array([date(2024, 1, 2), date(2024, 1, 3)]),
        "at": pa.array([datetime(2024, 1, 2, 3, 4, 5), None], pa.timestamp("ms")),
        "name": ["Zoë", "東京"],
    }), path)
    prepared = prepare_data(path, "ID#{id}", "ROW#{id}", created_at="day")
    types = {c.name: c.type for c in prepared.columns}
    assert types == {"id": "bigint", "ratio": "double", "amount": "decimal(3,2)", "day_value": "date",
                     "at": "timestamp", "name": "string"}
    assert prepared.requests[0]["PutRequest"]["Item"]["at"] == {"S": "2024-01-02T03:04:05.000Z"}


def test_write_data_set_is_complete_and_loads(tmp_path: Path) -> None:
    src = tmp_path / "c.csv"
    src.write_text(CSV, encoding="utf-8")
    prepared = prepare_data(src, "STATE#{State}", "COUNTY#{County}", created_at="Founded")
    folder = write_data_set(prepared, tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == ["changes.jsonl", "items.jsonl", "schema.json"]
    assert load_schema(folder / "schema.json").glue_columns() == prepared.schema.glue_columns()
    lines = (folder / "items.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == prepared.requests
    assert (folder / "changes.jsonl").read_bytes() == b""
    assert write_data_set(prepared, tmp_path / "out") == folder  # same content, same folder
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no staging left
