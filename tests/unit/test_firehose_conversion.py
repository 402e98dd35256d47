"""Record format conversion: OpenX / Hive JSON SerDe semantics -> rows -> Parquet."""
from __future__ import annotations

import io
import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib.localcloud.firehose.conversion import (
    HIVE,
    ConversionError,
    Converter,
    SchemaConversionError,
)
from pipeline_lib.schema import load_schema


def ns(text: str) -> int:
    """Nanoseconds since the epoch of a UTC 'YYYY-MM-DD HH:MM:SS[.ffffff]' (independent of the code)."""
    dt = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return (int(dt.timestamp()) * 1_000_000 + dt.microsecond) * 1000


def days(text: str) -> int:
    return (date.fromisoformat(text) - date(1970, 1, 1)).days


def converter(columns: dict[str, str], **options) -> Converter:
    return Converter([{"Name": n, "Type": t} for n, t in columns.items()], **options)


def one(conv: Converter, record: dict | str | bytes) -> dict:
    data = record if isinstance(record, bytes) else (record if isinstance(record, str) else json.dumps(record)).encode()
    rows = conv.convert(data)
    assert len(rows) == 1
    return rows[0]


def failure(conv: Converter, record: bytes) -> ConversionError:
    with pytest.raises(ConversionError) as info:
        conv.convert(record)
    return info.value


# -- the project's table, end to end ------------------------------------------------------------------

ENRICHED_ORDER = {
    "entity_type": "order", "customer_id": "c-000001", "order_id": "o-0000001", "status": "PAID",
    "total": 1234567890.25, "currency": "EUR", "gift_wrap": False, "coupon_code": None,
    "items": [{"sku": "sku-1", "quantity": 2, "unit_price": 10.5}, {"sku": "sku-2", "quantity": 1, "unit_price": 3.25}],
    "tags": ["a", "b"], "created_at": "2026-03-04T12:34:56.789Z", "updated_at": "2026-03-05T00:00:00.000Z",
    "cdc_operation": "INSERT", "cdc_event_time": "2026-03-04T12:34:57.001Z", "cdc_event_id": "e-1",
    "unknown_key": "dropped",
}


def test_the_lake_table_round_trips_through_parquet():
    schema = load_schema()
    conv = Converter(schema.glue_columns())
    rows = conv.convert(json.dumps(ENRICHED_ORDER).encode())
    table = pq.read_table(io.BytesIO(conv.to_parquet(rows)))
    assert table.column_names == schema.column_names()
    row = table.to_pylist()[0]
    assert row["total"] == Decimal("1234567890.25")
    assert row["items"] == [{"sku": "sku-1", "quantity": 2, "unit_price": Decimal("10.50")},
                            {"sku": "sku-2", "quantity": 1, "unit_price": Decimal("3.25")}]
    assert row["created_at"] == datetime(2026, 3, 4, 12, 34, 56, 789000)
    assert row["name"] is None and row["address"] is None and row["coupon_code"] is None
    assert row["gift_wrap"] is False and row["tags"] == ["a", "b"]


def test_parquet_layout_int96_timestamps_and_compression():
    conv = converter({"ts": "timestamp", "amount": "decimal(12,2)", "n": "tinyint"})
    rows = conv.convert(b'{"ts": "2026-03-04 12:34:56.5", "amount": 1.5, "n": 3}')
    for compression, codec in (("SNAPPY", "SNAPPY"), ("GZIP", "GZIP"), ("UNCOMPRESSED", "UNCOMPRESSED")):
        body = converter({"ts": "timestamp", "amount": "decimal(12,2)", "n": "tinyint"}, compression=compression).to_parquet(rows)
        meta = pq.read_metadata(io.BytesIO(body))
        assert meta.row_group(0).column(0).compression == codec
        assert meta.schema.column(0).physical_type == "INT96"
        assert meta.schema.column(1).logical_type.type == "DECIMAL"
    table = pq.read_table(io.BytesIO(conv.to_parquet(rows)))
    assert table.schema.field("ts").type == pa.timestamp("ns")
    assert table.schema.field("n").type == pa.int8()
    assert table.to_pylist() == [{"ts": datetime(2026, 3, 4, 12, 34, 56, 500000), "amount": Decimal("1.50"), "n": 3}]


def test_an_empty_batch_is_a_valid_file():
    conv = converter({"a": "string"})
    assert pq.read_table(io.BytesIO(conv.to_parquet([]))).num_rows == 0


# -- records ----------------------------------------------------------------------------------------


def test_concatenated_objects_are_several_rows():
    conv = converter({"a": "int"})
    assert conv.convert(b'{"a":1}{"a":2}') == [{"a": 1}, {"a": 2}]  # the guide's correct input
    assert conv.convert(b' {"a":1}\n{"a":2}\n\n') == [{"a": 1}, {"a": 2}]


def test_guide_incorrect_input_an_array_of_documents_fails():
    # OpenX reads a top-level array by position, so the first object lands in column a (int).
    error = failure(converter({"a": "int"}), b'[{"a":1}, {"a":2}]')
    assert error.code == "DataFormatConversion.MalformedData"


def test_one_bad_object_fails_the_whole_record():
    assert failure(converter({"a": "int"}), b'{"a":1}{"a":"x"}').code == "DataFormatConversion.MalformedData"


@pytest.mark.parametrize(
    "record, code, message",
    [
        (b"", "DataFormatConversion.MalformedData", "The record was empty or contained only whitespace."),
        (b" \n\t", "DataFormatConversion.MalformedData", "The record was empty or contained only whitespace."),
        (b"5", "DataFormatConversion.MalformedData",
         "The input JSON contained a primitive at the top level. The top level must be an object or array."),
        (b'{"a":1} 7', "DataFormatConversion.MalformedData", "The input JSON contained a primitive at the top level."),
        (b"not json", "DataFormatConversion.ParseError", "Encountered malformed JSON. Expecting value at line 1 column 1"),
        (b'{"a":1} and then some', "DataFormatConversion.ParseError", "Encountered malformed JSON."),
        (b'{"a": NaN}', "DataFormatConversion.ParseError", "Encountered malformed JSON. Non-standard token 'NaN'"),
        (b'{"a": 1', "DataFormatConversion.ParseError", "Encountered malformed JSON."),
        (b"\xff{}", "DataFormatConversion.ParseError", "Encountered malformed JSON. Invalid UTF-8 at byte 0."),
    ],
)
def test_records_that_cannot_be_read(record, code, message):
    error = failure(converter({"a": "int"}), record)
    assert error.code == code and error.message.startswith(message)


# -- key matching -----------------------------------------------------------------------------------


def test_case_insensitive_matching_at_every_depth():
    conv = converter({"customer_id": "string", "address": "struct<city:string,zip:int>", "attrs": "map<string,int>"})
    row = one(conv, {"Customer_ID": "c", "ADDRESS": {"City": "X", "ZIP": "7", "extra": 1}, "attrs": {"MixedKey": 1}})
    assert row == {"customer_id": "c", "address": {"city": "X", "zip": 7}, "attrs": [("mixedkey", 1)]}


def test_first_of_two_keys_that_match_alike_wins():
    assert one(converter({"a": "string"}), '{"A": "first", "a": "second"}') == {"a": "first"}


def test_case_sensitive_matching():
    conv = converter({"id": "string", "s": "struct<name:string>", "m": "map<string,int>"}, case_insensitive=False)
    row = one(conv, {"ID": "ignored", "s": {"NAME": "x"}, "m": {"MixedKey": 1}})
    assert row == {"id": None, "s": {"name": None}, "m": [("MixedKey", 1)]}


def test_column_to_json_key_mappings_and_dots():
    conv = converter({"ts": "string", "user_id": "string"},
                     column_to_json_key_mappings={"ts": "event.Time"}, convert_dots_in_json_keys_to_underscores=True)
    assert one(conv, {"Event.time": "t", "user.id": "u"}) == {"ts": "t", "user_id": "u"}


def test_unknown_keys_dropped_missing_and_null_are_null():
    assert one(converter({"a": "int", "b": "string"}), {"a": None, "zzz": 1}) == {"a": None, "b": None}


def test_a_top_level_array_fills_columns_by_position():
    assert one(converter({"a": "int", "b": "string", "c": "string"}), b'[1, "x"]') == {"a": 1, "b": "x", "c": None}


# -- scalar types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ('"text"', "text"),
        ("12", "12"),
        ("1.5", "1.5"),
        ("100.0", "100.0"),
        ("1e-5", "1.0E-5"),
        ("123456789.0", "1.23456789E8"),
        ("true", "true"),
        ('{"Outer": {"Inner": 1}}', '{"outer":{"inner":1}}'),
        ('[1, "a"]', '[1,"a"]'),
    ],
)
def test_string_columns_take_the_text_of_any_value(value, expected):
    assert one(converter({"s": "string"}), f'{{"s": {value}}}') == {"s": expected}


def test_varchar_and_char_truncate():
    assert one(converter({"v": "varchar(3)", "c": "char(2)"}), {"v": "abcdef", "c": "xyz"}) == {"v": "abc", "c": "xy"}


@pytest.mark.parametrize(
    "type_, value, expected",
    [
        ("bigint", "12", 12),
        ("bigint", '"-12"', -12),
        ("bigint", '"+7"', 7),
        ("bigint", "9223372036854775807", 9223372036854775807),
        ("int", "-2147483648", -2147483648),
        ("smallint", "32767", 32767),
        ("tinyint", "-128", -128),
    ],
)
def test_integral_values(type_, value, expected):
    assert one(converter({"n": type_}), f'{{"n": {value}}}') == {"n": expected}


@pytest.mark.parametrize(
    "type_, value, message",
    [
        ("int", '"oops"', 'Data does not match the schema. For input string: "oops"'),
        ("int", '" 12"', 'Data does not match the schema. For input string: " 12"'),
        ("int", '"1_000"', 'Data does not match the schema. For input string: "1_000"'),
        ("tinyint", "128", "Data does not match the schema. Value 128 is out of range for column n of type tinyint."),
        ("bigint", "9223372036854775808", "out of range for column n of type bigint"),
        ("int", "1.5", "Value 1.5 is not an integer, which column n of type int requires."),
        ("int", "true", "java.lang.Boolean true is not a valid int for column n."),
        ("int", "[1]", "is not a valid int for column n."),
    ],
)
def test_integral_mismatches(type_, value, message):
    error = failure(converter({"n": type_}), f'{{"n": {value}}}'.encode())
    assert error.code == "DataFormatConversion.MalformedData" and message in error.message


@pytest.mark.parametrize(
    "type_, value, expected",
    [
        ("double", "1.5", 1.5),
        ("double", '"2.5e3"', 2500.0),
        ("double", '" 1.25d "', 1.25),
        ("double", "7", 7.0),
        ("float", '"-Infinity"', float("-inf")),
        ("float", "3.4e38", 3.4e38),
    ],
)
def test_floating_values(type_, value, expected):
    assert one(converter({"x": type_}), f'{{"x": {value}}}') == {"x": expected}


def test_nan_text_is_accepted_like_java():
    value = one(converter({"x": "double"}), {"x": "NaN"})["x"]
    assert value != value


@pytest.mark.parametrize(
    "type_, value, message",
    [
        ("double", '"abc"', 'For input string: "abc"'),
        ("double", '"inf"', 'For input string: "inf"'),
        ("float", "3.5e38", "Value 3.5E+38 is out of range for column x of type float."),
        ("double", "1e400", "out of range for column x of type double"),
        ("double", "false", "is not a valid double"),
    ],
)
def test_floating_mismatches(type_, value, message):
    assert message in failure(converter({"x": type_}), f'{{"x": {value}}}'.encode()).message


@pytest.mark.parametrize(
    "value, expected",
    [("true", True), ("false", False), ('"TRUE"', True), ('"False"', False)],
)
def test_booleans(value, expected):
    assert one(converter({"b": "boolean"}), f'{{"b": {value}}}') == {"b": expected}


@pytest.mark.parametrize("value", ['"yes"', "1", '""'])
def test_boolean_mismatches(value):
    assert "is not a valid boolean for column b" in failure(converter({"b": "boolean"}), f'{{"b": {value}}}'.encode()).message


@pytest.mark.parametrize(
    "type_, value, expected",
    [
        ("decimal(4,2)", "12.345", Decimal("12.35")),  # rounds half up to the scale
        ("decimal(4,2)", "12.344", Decimal("12.34")),
        ("decimal(4,2)", "-12.345", Decimal("-12.35")),
        ("decimal(4,2)", '"1.5"', Decimal("1.50")),
        ("decimal(4,2)", "7", Decimal("7.00")),
        ("decimal(4,2)", "0.001", Decimal("0.00")),
        ("decimal(4,2)", '"1e-1000000000"', Decimal("0.00")),
        ("decimal(4,2)", '"0e1000000000"', Decimal("0.00")),
        ("decimal(38,10)", "1234567890123456789012345678.0123456789",
         Decimal("1234567890123456789012345678.0123456789")),
        ("decimal", "12", Decimal("12")),
    ],
)
def test_decimals_are_exact(type_, value, expected):
    result = one(converter({"d": type_}), f'{{"d": {value}}}')["d"]
    assert result == expected and str(result) == str(expected)


@pytest.mark.parametrize(
    "value, message",
    [
        ("12345.67", "Value 12345.67 is out of range for column d of type decimal(4,2)."),
        ("99.995", "Value 99.995 is out of range for column d of type decimal(4,2)."),
        ('"1e1000000000"', "Value 1e1000000000 is out of range"),
        ('"12,5"', 'For input string: "12,5"'),
        ('"NaN"', 'For input string: "NaN"'),
    ],
)
def test_decimal_mismatches(value, message):
    assert message in failure(converter({"d": "decimal(4,2)"}), f'{{"d": {value}}}'.encode()).message


@pytest.mark.parametrize(
    "value, expected",
    [
        # The guide's OpenX formats and examples.
        ('"2017-02-07T15:13:01.39256Z"', ns("2017-02-07 15:13:01.392560")),
        ('"2017-02-07 15:13:01.14"', ns("2017-02-07 15:13:01.140000")),
        ("1518033528", ns("2018-02-07 19:58:48")),
        ("1518033528123", ns("2018-02-07 19:58:48.123000")),
        ("1518033528.123", ns("2018-02-07 19:58:48.123000")),
        # Epoch rule: below 1e12 seconds, from 1e12 milliseconds; strings too.
        ("-999999999", ns("1938-04-24 22:13:21")),
        ("1000000000000", ns("2001-09-09 01:46:40")),
        ('"1518033528"', ns("2018-02-07 19:58:48")),
        ('"1518033528123"', ns("2018-02-07 19:58:48.123000")),
        ("0", 0),
        ("-1000", ns("1969-12-31 23:43:20")),
        # Lenient space-separated form, down to one-digit fields, nine fraction digits.
        ('"2026-9-7 1:2:3"', ns("2026-09-07 01:02:03")),
        ('"2026-09-07 12:00:02.123456789"', ns("2026-09-07 12:00:02") + 123456789),
        # ISO with Z, an offset, or none.
        ('"2018-02-07T20:38:48Z"', ns("2018-02-07 20:38:48")),
        ('"2018-02-07T20:38:48"', ns("2018-02-07 20:38:48")),
        ('"2018-02-07T22:38:48+02:00"', ns("2018-02-07 20:38:48")),
        ('"2018-02-07T15:08:48-0530"', ns("2018-02-07 20:38:48")),
    ],
)
def test_timestamps(value, expected):
    assert one(converter({"ts": "timestamp"}), f'{{"ts": {value}}}') == {"ts": expected}


@pytest.mark.parametrize(
    "value, message",
    [
        ('"2026-9-7T12:00:02Z"', 'For input string: "2026-9-7T12:00:02Z"'),  # the T form is strict ISO
        ('"2026-02-30 00:00:00"', 'For input string: "2026-02-30 00:00:00"'),
        ('"2026-01-01 24:00:00"', 'For input string: "2026-01-01 24:00:00"'),
        ('"yesterday"', 'For input string: "yesterday"'),
        ("18446744073709551616", "out of range for column ts of type timestamp"),
        # Seconds, since below 1e12: year 33658, beyond the int64 nanoseconds the writer holds.
        ("999999999999", "Value 999999999999 is out of range for column ts of type timestamp."),
        ('"1e1000000000"', "out of range for column ts of type timestamp"),
        ("true", "is not a valid timestamp for column ts"),
    ],
)
def test_timestamp_mismatches(value, message):
    assert message in failure(converter({"ts": "timestamp"}), f'{{"ts": {value}}}'.encode()).message


def test_timestamp_formats_come_first():
    conv = converter({"ts": "timestamp"}, timestamp_formats=["dd/MM/yyyy HH:mm", "millis", "yyyy-MM-dd'T'HH:mm:ss.SSSZ"])
    assert one(conv, {"ts": "07/02/2018 20:38"})["ts"] == ns("2018-02-07 20:38:00")
    assert one(conv, {"ts": "1518033528123"})["ts"] == ns("2018-02-07 19:58:48.123000")
    assert one(conv, {"ts": "2018-02-07T22:38:48.500+0200"})["ts"] == ns("2018-02-07 20:38:48.500000")
    assert one(conv, {"ts": "2018-02-07 20:38:48"})["ts"] == ns("2018-02-07 20:38:48")  # built-ins still apply


def test_unusable_timestamp_formats_are_refused():
    with pytest.raises(SchemaConversionError, match="TimestampFormats entry 'yyyy-ww'"):
        converter({"ts": "timestamp"}, timestamp_formats=["yyyy-ww"])


@pytest.mark.parametrize("value, expected", [("2026-09-07", "2026-09-07"), ("2026-9-7", "2026-09-07")])
def test_dates(value, expected):
    assert one(converter({"d": "date"}), {"d": value}) == {"d": days(expected)}


@pytest.mark.parametrize("value", ['"2026-13-01"', '"2026-09-07T00:00:00Z"', "20260907"])
def test_date_mismatches(value):
    assert failure(converter({"d": "date"}), f'{{"d": {value}}}'.encode()).code == "DataFormatConversion.MalformedData"


# -- complex types ------------------------------------------------------------------------------------


def test_arrays():
    conv = converter({"tags": "array<string>", "items": "array<struct<sku:string,qty:int>>"})
    assert one(conv, {"tags": [1, None, "c"], "items": []}) == {"tags": ["1", None, "c"], "items": []}
    # OpenX wraps a lone value into an array.
    assert one(conv, {"tags": "solo", "items": {"sku": "x", "qty": 1}}) == {
        "tags": ["solo"], "items": [{"sku": "x", "qty": 1}]}


def test_structs():
    conv = converter({"person": "struct<name:string,age:int>"})
    assert one(conv, {"person": {}}) == {"person": {"name": None, "age": None}}
    assert one(conv, {"person": ["Zoe", 9, "ignored"]}) == {"person": {"name": "Zoe", "age": 9}}
    assert one(conv, {"person": ["Zoe"]}) == {"person": {"name": "Zoe", "age": None}}
    error = failure(conv, b'{"person": 42}')
    assert error.message == "Data does not match the schema. Data is not JSONObject  but java.lang.Long with value 42"


def test_a_mismatch_deep_inside_fails_the_record():
    conv = converter({"items": "array<struct<sku:string,qty:int>>"})
    error = failure(conv, b'{"items": [{"sku": "s", "qty": "oops"}]}')
    assert error.message == 'Data does not match the schema. For input string: "oops"'


def test_maps():
    conv = converter({"attrs": "map<string,array<string>>", "counts": "map<int,double>"})
    assert one(conv, {"attrs": {"K": ["v"], "n": None}, "counts": {"1": 2}}) == {
        "attrs": [("k", ["v"]), ("n", None)], "counts": [(1, 2.0)]}
    assert "A map column cannot hold a JSON array" in failure(conv, b'{"attrs": [["k", ["v"]]]}').message
    assert "Data is not JSONObject  but java.lang.String with value x" in failure(conv, b'{"attrs": "x"}').message


# -- Hive JSON SerDe ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "record, message",
    [
        ({"n": "10"}, "Current token (VALUE_STRING) not numeric, can not use numeric value accessors"),
        ({"tags": "solo"}, "java.io.IOException: Start of Array expected"),
        ({"person": ["Bob", 41]}, "java.io.IOException: Start of Object expected"),
        ({"person": 42}, "java.io.IOException: Start of Object expected"),
        ({"s": {"nested": 1}}, "One or more fields have incorrect format. Exception when validating field (root)"),
        ({"ts": 1518033528}, "is not a valid timestamp"),
        ({"ts": "2018-02-07T20:38:48Z"}, 'For input string: "2018-02-07T20:38:48Z"'),
    ],
)
def test_hive_refuses_what_openx_coerces(record, message):
    conv = converter({"n": "int", "tags": "array<string>", "person": "struct<name:string,age:int>", "s": "string",
                      "ts": "timestamp"}, deserializer=HIVE)
    error = failure(conv, json.dumps(record).encode())
    assert error.code == "DataFormatConversion.MalformedData" and message in error.message


def test_hive_accepts_its_own_formats_and_keeps_map_key_case():
    conv = converter({"n": "int", "attrs": "map<string,int>", "counts": "map<int,int>", "person": "struct<name:string>",
                      "ts": "timestamp", "ms": "timestamp"}, deserializer=HIVE, timestamp_formats=["millis"])
    row = one(conv, {"N": 10, "ATTRS": {"MixedKey": 1}, "counts": {"5": 6}, "PERSON": {"NAME": "Bob"},
                     "ts": "2018-02-07 20:38:48.5", "ms": 1518033528123})
    assert row == {"n": 10, "attrs": [("MixedKey", 1)], "counts": [(5, 6)], "person": {"name": "Bob"},
                   "ts": ns("2018-02-07 20:38:48.500000"), "ms": ns("2018-02-07 19:58:48.123000")}


# -- schema problems ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "columns, options, message",
    [
        ([], {}, "The specified table has no columns"),
        ([{"Name": "a", "Type": "strin"}], {}, "unknown type 'strin'"),
        ([{"Name": "a", "Type": "string"}, {"Name": "A", "Type": "int"}], {}, "appears twice"),
        ([{"Name": "a"}], {}, "needs a Name and a Type"),
        ([{"Name": "b", "Type": "binary"}], {}, "binary"),
        ([{"Name": "a", "Type": "string"}], {"compression": "LZO"}, "Compression 'LZO' is not valid"),
        ([{"Name": "a", "Type": "string"}], {"deserializer": "CsvSerDe"}, "deserializer must be"),
    ],
)
def test_schemas_that_cannot_drive_a_conversion(columns, options, message):
    with pytest.raises(SchemaConversionError, match=message) as info:
        Converter(columns, **options)
    # Also a ConversionError: records fail to format-conversion-failed rather than stopping delivery.
    assert isinstance(info.value, ConversionError) and info.value.code == "DataFormatConversion.InvalidSchema"
