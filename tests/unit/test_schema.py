"""data/schema.json loading and the Glue/Hive type parser."""

from __future__ import annotations

import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib.schema import (
    DEFAULT_SCHEMA_PATH,
    ArrayType,
    CharType,
    Column,
    DecimalType,
    MapType,
    PrimitiveType,
    SchemaError,
    StructField,
    StructType,
    TypeStringError,
    canonical_type,
    from_arrow,
    load_schema,
    parse_type,
    to_arrow,
)

RAW = json.loads(DEFAULT_SCHEMA_PATH.read_text(encoding="utf-8"))
SCHEMA_TYPES = sorted({c["type"] for c in RAW["columns"] + RAW["partition_keys"]})

# What each type in schema.json must become in pyarrow (written out, not computed).
EXPECTED_ARROW = {
    "string": pa.string(),
    "boolean": pa.bool_(),
    "bigint": pa.int64(),
    "timestamp": pa.timestamp("ms"),
    "decimal(12,2)": pa.decimal128(12, 2),
    "array<string>": pa.list_(pa.string()),
    "struct<street:string,city:string,postcode:string,country:string>": pa.struct(
        [("street", pa.string()), ("city", pa.string()), ("postcode", pa.string()), ("country", pa.string())]
    ),
    "array<struct<sku:string,quantity:int,unit_price:decimal(10,2)>>": pa.list_(
        pa.struct([("sku", pa.string()), ("quantity", pa.int32()), ("unit_price", pa.decimal128(10, 2))])
    ),
}


# ---------------------------------------------------------------------------- loading


def test_loads_the_repository_schema():
    schema = load_schema()
    assert schema.table == RAW["table"] == "cdc_events"
    assert schema.column_names() == [c["name"] for c in RAW["columns"]]
    assert schema.partition_key_names() == ["year", "month", "day"]
    assert all(isinstance(c, Column) for c in schema.columns)
    assert schema.column("total").type == "decimal(12,2)"
    with pytest.raises(KeyError, match="no column 'nope'"):
        schema.column("nope")


def test_glue_columns_are_what_the_glue_api_takes():
    schema = load_schema()
    glue = schema.glue_columns()
    assert glue == [{"Name": c["name"], "Type": c["type"], "Comment": c["comment"]} for c in RAW["columns"]]
    assert all(set(col) == {"Name", "Type", "Comment"} for col in glue)
    assert schema.glue_partition_keys() == [
        {"Name": k["name"], "Type": "string", "Comment": k["comment"]} for k in RAW["partition_keys"]
    ]


def test_column_is_frozen():
    col = load_schema().columns[0]
    with pytest.raises(AttributeError):
        col.name = "other"  # type: ignore[misc]


def test_explicit_path(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({
        "table": "t1",
        "columns": [{"name": "a", "type": "int"}, {"name": "b", "type": "map<string,array<bigint>>", "comment": "x"}],
        "partition_keys": [{"name": "dt", "type": "string"}],
    }))
    schema = load_schema(path)
    assert schema.table == "t1"
    assert schema.glue_columns() == [
        {"Name": "a", "Type": "int", "Comment": ""},
        {"Name": "b", "Type": "map<string,array<bigint>>", "Comment": "x"},
    ]
    assert schema.partition_key_names() == ["dt"]
    assert schema.path == path


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"columns": [{"name": "a", "type": "int"}]}, "'table' must be"),
        ({"table": "t", "columns": []}, "'columns' is empty"),
        ({"table": "t", "columns": [{"name": "A", "type": "int"}]}, "lower-case snake_case"),
        ({"table": "t", "columns": [{"name": "a", "type": "integr"}]}, "unknown type 'integr'"),
        ({"table": "t", "columns": [{"name": "a", "type": "INT"}]}, "write the type as 'int'"),
        ({"table": "t", "columns": [{"name": "a", "type": "int"}, {"name": "a", "type": "string"}]}, "repeated: \\['a'\\]"),
        ({"table": "t", "columns": [{"name": "a", "type": "int"}], "partition_keys": [{"name": "a", "type": "string"}]}, "repeated"),
        ({"table": "t", "columns": [{"name": "a", "type": "int"}], "partition_keys": [{"name": "p", "type": "array<int>"}]}, "must have a primitive type"),
        ({"table": "t", "columns": [{"name": "a"}]}, "string 'name' and 'type'"),
        ([], "top level must be an object"),
    ],
)
def test_invalid_schema_files_say_what_is_wrong(tmp_path, document, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(SchemaError, match=message):
        load_schema(path)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(SchemaError, match="not found; pass the path"):
        load_schema(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SchemaError, match="not valid JSON"):
        load_schema(broken)


# ---------------------------------------------------------------------------- type parser


@pytest.mark.parametrize("type_string", SCHEMA_TYPES)
def test_every_schema_type_round_trips(type_string):
    assert str(parse_type(type_string)) == type_string


def test_parse_builds_the_expected_tree():
    assert parse_type("array<struct<sku:string,quantity:int,unit_price:decimal(10,2)>>") == ArrayType(
        StructType((
            StructField("sku", PrimitiveType("string")),
            StructField("quantity", PrimitiveType("int")),
            StructField("unit_price", DecimalType(10, 2)),
        ))
    )
    assert parse_type("map<string,array<double>>") == MapType(PrimitiveType("string"), ArrayType(PrimitiveType("double")))
    assert parse_type("varchar(20)") == CharType("varchar", 20)


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("STRING", "string"),
        ("Integer", "int"),
        (" decimal ( 12 , 2 ) ", "decimal(12,2)"),
        ("decimal", "decimal(10,0)"),
        ("decimal(7)", "decimal(7,0)"),
        ("array < struct < a : int , B : map<string, boolean> > >", "array<struct<a:int,B:map<string,boolean>>>"),
        ("struct<string:string,map:int>", "struct<string:string,map:int>"),  # type names as field names
        ("map<decimal(5,1),array<array<timestamp>>>", "map<decimal(5,1),array<array<timestamp>>>"),
        ("CHAR(3)", "char(3)"),
        ("tinyint", "tinyint"), ("smallint", "smallint"), ("float", "float"), ("date", "date"), ("binary", "binary"),
    ],
)
def test_canonical_spelling(written, canonical):
    assert canonical_type(written) == canonical
    assert str(parse_type(canonical)) == canonical  # canonical is a fixed point


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a type string is required"),
        ("strng", "unknown type 'strng' at position 0"),
        ("array<", "expected a type name at position 6"),
        ("array<int", "expected '>' at position 9"),
        ("array<int>>", "expected end of type at position 10"),
        ("struct<>", "expected a struct field name at position 7"),
        ("struct<a int>", "expected ':' at position 9"),
        ("struct<a:int,a:string>", "duplicate struct field 'a'"),
        ("map<array<int>,int>", "map keys must be a primitive type"),
        ("map<string>", "expected ','"),
        ("decimal(39,2)", "precision must be 1..38"),
        ("decimal(5,6)", "scale must be 0..precision"),
        ("decimal(a,2)", "expected a decimal precision"),
        ("varchar(0)", "length must be at least 1"),
        ("int;", "unexpected character ';' at position 3"),
    ],
)
def test_parse_errors_name_the_problem(text, message):
    with pytest.raises(TypeStringError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_type(text)


def test_catalog_mode_reads_what_a_crawler_writes_for_json():
    text = "struct<first-name:string,1st:int,meta:struct<>,tags:array<string>>"
    assert str(parse_type(text, catalog=True)) == text
    assert parse_type("struct<>", catalog=True) == StructType(())
    with pytest.raises(TypeStringError, match="unexpected character '-'"):
        parse_type(text)  # not Hive's syntax
    with pytest.raises(TypeStringError, match="expected a type name"):
        parse_type("first-name", catalog=True)  # names only where a field name goes
    with pytest.raises(TypeStringError, match="duplicate struct field"):
        parse_type("struct<a:int,A:int>", catalog=True)


def test_struct_field_lookup_is_case_insensitive():
    t = parse_type("struct<Street:string>")
    assert isinstance(t, StructType)
    assert t.field("street").type == PrimitiveType("string")
    with pytest.raises(KeyError):
        t.field("city")


# ---------------------------------------------------------------------------- pyarrow mapping


def test_expectations_cover_every_schema_type():
    assert set(EXPECTED_ARROW) == set(SCHEMA_TYPES)


@pytest.mark.parametrize("type_string", SCHEMA_TYPES)
def test_to_arrow_for_every_schema_type(type_string):
    assert to_arrow(type_string) == EXPECTED_ARROW[type_string]
    assert to_arrow(parse_type(type_string)) == EXPECTED_ARROW[type_string]


@pytest.mark.parametrize(
    ("type_string", "expected"),
    [
        ("tinyint", pa.int8()), ("smallint", pa.int16()), ("int", pa.int32()), ("float", pa.float32()),
        ("double", pa.float64()), ("date", pa.date32()), ("binary", pa.binary()), ("varchar(5)", pa.string()),
        ("map<string,bigint>", pa.map_(pa.string(), pa.int64())),
    ],
)
def test_to_arrow_other_types(type_string, expected):
    assert to_arrow(type_string) == expected


def test_timestamp_unit_is_selectable():
    assert to_arrow("timestamp", timestamp_unit="ns") == pa.timestamp("ns")
    assert to_arrow("array<timestamp>", timestamp_unit="us") == pa.list_(pa.timestamp("us"))


@pytest.mark.parametrize(
    "type_string",
    SCHEMA_TYPES + ["int", "tinyint", "smallint", "double", "float", "date", "binary", "map<string,array<decimal(38,10)>>"],
)
def test_from_arrow_inverts_to_arrow(type_string):
    assert str(from_arrow(to_arrow(type_string))) == type_string


def test_from_arrow_widens_and_rejects():
    assert str(from_arrow(pa.large_string())) == "string"
    assert str(from_arrow(pa.uint32())) == "bigint"
    assert str(from_arrow(pa.timestamp("ns", tz="UTC"))) == "timestamp"
    assert str(from_arrow(pa.dictionary(pa.int32(), pa.string()))) == "string"
    with pytest.raises(TypeError, match="no Glue/Hive type"):
        from_arrow(pa.null())
    with pytest.raises(TypeError, match="precision > 38"):
        from_arrow(pa.decimal256(40, 2))


def test_from_arrow_lenient_is_what_a_crawler_records():
    """A crawler catalogues a file rather than fail on it: no Hive type becomes string, nested too."""
    assert str(from_arrow(pa.uint64(), lenient=True)) == "bigint"
    assert str(from_arrow(pa.uint32(), lenient=True)) == "bigint"
    assert str(from_arrow(pa.dictionary(pa.int8(), pa.string()), lenient=True)) == "string"
    for unheld in (pa.null(), pa.time64("us"), pa.duration("s"), pa.decimal256(40, 2)):
        assert from_arrow(unheld, lenient=True) == PrimitiveType("string")
    nested = pa.struct([("at", pa.time32("s")), ("n", pa.list_(pa.uint64()))])
    assert str(from_arrow(nested, lenient=True)) == "struct<at:string,n:array<bigint>>"
    with pytest.raises(TypeError, match="no Glue/Hive type"):
        from_arrow(pa.uint64())


def test_arrow_schema_holds_enriched_values_and_survives_parquet(tmp_path):
    """A row shaped like the enricher's output fits the schema; the Parquet footer maps back to the Glue types."""
    schema = load_schema()
    arrow_schema = schema.arrow_schema()
    assert arrow_schema.names == schema.column_names()  # partition keys are not in the files
    row = {
        "entity_type": "order", "customer_id": "c-000001", "order_id": "o-0000001", "status": "PAID",
        "total": Decimal("20.50"), "currency": "EUR",
        "items": [{"sku": "SKU-1", "quantity": 2, "unit_price": Decimal("10.25")}],
        "gift_wrap": False, "coupon_code": None, "tags": ["web"],
        "address": None, "created_at": 1_790_000_000_123, "updated_at": 1_790_000_000_123,
    }
    table = pa.Table.from_pylist([row], schema=arrow_schema)
    for int96 in (False, True):
        path = tmp_path / f"part-{int96}.parquet"
        pq.write_table(table, path, use_deprecated_int96_timestamps=int96)
        back = pq.read_schema(path)
        assert [str(from_arrow(f.type)) for f in back] == [c.type for c in schema.columns]
        assert pq.read_table(path).column("total").to_pylist() == [Decimal("20.50")]
    # INT96 (what Hive's writer, hence Firehose, produces) reads back as nanoseconds.
    assert pq.read_schema(tmp_path / "part-True.parquet").field("created_at").type == pa.timestamp("ns")
