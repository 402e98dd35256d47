"""KPL de-aggregation, the RecordDeAggregation / Decompression / AppendDelimiterToRecord processors."""
from __future__ import annotations

import gzip
import hashlib

import pytest

from pipeline_lib.localcloud.firehose.deaggregation import (
    KPL_MAGIC,
    DeaggregationError,
    RecordDeAggregator,
    SubRecord,
    aggregate,
    append_delimiter,
    decode_kpl,
    deaggregate,
    decompress,
    split_delimited_records,
    split_json_records,
)

# AggregatedRecord { partition_key_table: ["pk"], records: [{partition_key_index: 0, data: "hi"}] },
# encoded by hand from the KPL .proto (field 1 = 0x0a, field 3 = 0x1a; Record: 0x08 index, 0x1a data).
HAND_ENCODED = bytes.fromhex("0a02706b" "1a06" "0800" "1a026869")


def kpl(message: bytes) -> bytes:
    return KPL_MAGIC + message + hashlib.md5(message).digest()


def test_a_hand_encoded_kpl_record():
    assert deaggregate(kpl(HAND_ENCODED)) == [b"hi"]
    assert aggregate([("pk", b"hi")]) == kpl(HAND_ENCODED)


def test_explicit_hash_keys_tags_and_unknown_fields():
    record = (
        "08" "01"  # partition_key_index 1
        "10" "00"  # explicit_hash_key_index 0
        "1a" "03" "616263"  # data "abc"
        "22" "06" "0a01" "6b" "1201" "76"  # tags [{key: "k", value: "v"}]
        "29" "0000000000000000"  # unknown 64-bit field 5
        "35" "00000000"  # unknown 32-bit field 6
    )
    message = bytes.fromhex(
        "0a01" "61" "0a01" "62"  # partition keys "a", "b"
        "1201" "39"  # explicit hash key "9"
        f"1a{len(record) // 2:02x}" + record
    )
    assert decode_kpl(kpl(message)) == [SubRecord(b"abc", "b", "9")]


def test_round_trip_with_several_partition_keys():
    records = [("k1", b'{"a":1}'), ("k2", b""), ("k1", bytes(range(256)) * 10)]
    aggregated = aggregate(records)
    assert aggregated.startswith(KPL_MAGIC)
    assert decode_kpl(aggregated) == [SubRecord(data, key) for key, data in records]
    assert deaggregate(aggregate([b"x", b"y"])) == [b"x", b"y"]


def test_an_aggregated_record_with_an_empty_message_is_plain():
    # Magic + MD5 only: like the KCL, an aggregated record needs a non-empty protobuf.
    empty = aggregate([])
    assert empty == KPL_MAGIC + hashlib.md5(b"").digest()
    assert deaggregate(empty) == [empty]


@pytest.mark.parametrize(
    "data",
    [
        b'{"plain": "record"}',
        b"",
        KPL_MAGIC,
        KPL_MAGIC + b"\x00" * 16,
        kpl(HAND_ENCODED)[:-1] + b"\x00",  # MD5 mismatch
        KPL_MAGIC + b"\x0a\x05ab" + hashlib.md5(b"\x0a\x05ab").digest(),  # MD5 fine, protobuf truncated
        KPL_MAGIC + b"\x1a\x02\x08\x00" + hashlib.md5(b"\x1a\x02\x08\x00").digest(),  # record without data
    ],
)
def test_anything_else_is_a_plain_record_returned_as_is(data):
    result = deaggregate(data)
    assert result == [data] and result[0] is data
    assert decode_kpl(data) is None


# -- RecordDeAggregation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, expected",
    [
        (b'{"a":1}{"a":2}', [b'{"a":1}', b'{"a":2}']),  # the guide's correct inputs
        (b'{"a":1}\n{"a":2}', [b'{"a":1}', b'{"a":2}']),
        (b'{"a":1}\n{"a":2}\n', [b'{"a":1}', b'{"a":2}']),
        (b' {"a": {"b": [1, "}{"]}} ', [b'{"a": {"b": [1, "}{"]}}']),
        (b'{"caf\xc3\xa9":1}', [b'{"caf\xc3\xa9":1}']),
    ],
)
def test_json_sub_records(data, expected):
    assert split_json_records(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b'[{"a":1}, {"a":2}]',  # the guide's incorrect input: an array
        b'{"a":1} trailing',
        b'{"a":1}{"a":',
        b"plain text",
        b"   ",
        b"\xff",
    ],
)
def test_what_is_not_json_objects_passes_through_whole(data):
    assert split_json_records(data) == [data]


def test_the_500_sub_record_cap():
    assert len(split_json_records(b'{"i":1}' * 500)) == 500
    too_many = b'{"i":1}' * 501
    assert split_json_records(too_many) == [too_many]
    assert len(split_delimited_records(b"x#" * 500, b"#")) == 500
    assert split_delimited_records(b"x#" * 501, b"#") == [b"x#" * 501]


def test_guide_delimited_sub_records():
    processor = RecordDeAggregator.from_parameters({"SubRecordType": "DELIMITED", "Delimiter": "IyMjIw=="})  # ####
    assert processor.delimiter == b"####"
    assert processor.split(b"a####b####c####") == [b"a", b"b", b"c"]
    assert processor.split(b"####") == [b"####"]


def test_json_processor():
    processor = RecordDeAggregator.from_parameters({"SubRecordType": "JSON"})
    assert processor.split(b'{"a":1}{"b":2}') == [b'{"a":1}', b'{"b":2}']


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({}, "needs a SubRecordType"),
        ({"SubRecordType": "json"}, "SubRecordType 'json' is not valid"),
        ({"SubRecordType": "DELIMITED"}, "needs a Delimiter"),
        ({"SubRecordType": "DELIMITED", "Delimiter": "####"}, "is not base64"),
    ],
)
def test_invalid_processor_parameters(parameters, message):
    with pytest.raises(DeaggregationError, match=message):
        RecordDeAggregator.from_parameters(parameters)


def test_decompression_and_append_delimiter():
    assert decompress(gzip.compress(b'{"logEvents": []}')) == b'{"logEvents": []}'
    with pytest.raises(DeaggregationError, match="not GZIP-compressed"):
        decompress(b"plain")
    with pytest.raises(DeaggregationError, match="use GZIP"):
        decompress(b"x", "ZIP")
    assert append_delimiter(b'{"a":1}') == b'{"a":1}\n'
