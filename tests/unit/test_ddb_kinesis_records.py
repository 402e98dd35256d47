"""Building DynamoDB→Kinesis change records from item images (pure logic, no moto)."""
from __future__ import annotations

import base64
import json

import pytest

from pipeline_lib.localcloud.dynamodb_kinesis.models import (
    MICROSECOND,
    MILLISECOND,
    Change,
    approximate_creation_date_time,
    build_record,
    encode_record,
    event_name,
    image_size,
    partition_key,
    value_size,
)

ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/cdc"
T_NS = 1_720_046_486_486_729_123  # 2024-07-03T22:41:26.486729123Z


def change(old=None, new=None, precision=MILLISECOND, keys=("id",), table="customer") -> Change:
    return Change(table, "us-east-2", keys, old, new, T_NS, ARN, precision)


# SizeBytes of records AWS wrote (published samples of the Kinesis Data Streams for DynamoDB
# format): Keys + NewImage + OldImage measured with DynamoDB's item-size rules.
@pytest.mark.parametrize(
    ("keys", "new", "old", "size_bytes"),
    [
        (  # INSERT, two string keys
            {"id": {"S": "2"}, "name": {"S": "Anoop"}},
            {"id": {"S": "2"}, "name": {"S": "Anoop"}},
            None,
            24,
        ),
        (  # MODIFY: both images count
            {"id": {"S": "3"}, "name": {"S": "ABC"}},
            {"email": {"S": "abc123@email.com"}, "id": {"S": "3"}, "name": {"S": "ABC"}},
            {"email": {"S": "abc@email.com"}, "id": {"S": "3"}, "name": {"S": "ABC"}},
            69,
        ),
        (  # multi-byte UTF-8 counts bytes, not characters
            {"Timestamp": {"S": "1650163085"}, "RouteId": {"S": "227000019"}},
            {"RemainSeatCnt": {"S": "29"}, "Timestamp": {"S": "1650163085"}, "PlateNo": {"S": "경기75자7007"},
             "RouteId": {"S": "227000019"}, "PredictTime": {"S": "52"}},
            None,
            120,
        ),
        (  # numbers: one byte per two significant digits, plus one
            {"device": {"S": "foo"}, "timestamp": {"S": "2024-07-12T01:17:42"}},
            {"humidity": {"N": "84.84"}, "temperature": {"N": "42.42"}, "device": {"S": "foo"},
             "timestamp": {"S": "2024-07-12T01:17:42"}},
            None,
            99,
        ),
    ],
)
def test_size_bytes_matches_aws_records(keys, new, old, size_bytes):
    assert image_size(keys) + image_size(new) + image_size(old) == size_bytes
    record = build_record(change(old=old, new=new, keys=tuple(keys)), "e")
    assert record["dynamodb"]["SizeBytes"] == size_bytes


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"N": "0"}, 1),
        ({"N": "-12.500"}, 3),  # sign, decimal point and trailing zeroes do not count
        ({"N": "0.0001"}, 2),
        ({"N": "123456789"}, 6),
        ({"B": base64.b64encode(b"\x00\x01\x02").decode()}, 3),  # raw bytes, not base64 text
        ({"B": b"\x00\x01\x02\x03"}, 4),
        ({"BOOL": False}, 1),
        ({"NULL": True}, 1),
        ({"SS": ["a", "bc"]}, 3),
        ({"NS": ["1", "22", "333"]}, 2 + 2 + 3),
        ({"L": []}, 3),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (2 + 1) + (2 + 1)),
        ({"M": {"k": {"S": "v"}}}, 3 + (1 + 1 + 1)),
    ],
)
def test_value_sizes_follow_dynamodb_rules(value, size):
    assert value_size(value) == size


def test_unknown_attribute_type_is_refused():
    with pytest.raises(ValueError, match="unknown DynamoDB attribute type"):
        value_size({"X": "?"})


def test_event_names():
    assert event_name(None, {"id": {"S": "1"}}) == "INSERT"
    assert event_name({"id": {"S": "1"}}, {"id": {"S": "1"}}) == "MODIFY"  # unchanged rewrite is still a MODIFY
    assert event_name({"id": {"S": "1"}}, None) == "REMOVE"
    with pytest.raises(ValueError):
        event_name(None, None)


def test_precision():
    assert approximate_creation_date_time(T_NS, MILLISECOND) == 1_720_046_486_486
    assert approximate_creation_date_time(T_NS, MICROSECOND) == 1_720_046_486_486_729
    with pytest.raises(ValueError, match="precision"):
        approximate_creation_date_time(T_NS, "SECOND")


def test_insert_record_has_the_kinesis_format_not_the_streams_one():
    new = {"id": {"S": "2"}, "name": {"S": "Anoop"}, "age": {"N": "30"}}
    record = build_record(change(new=new), "62e4ea4d-c275-4949-a96d-6f8e5fd34d79")
    assert list(record) == ["awsRegion", "eventID", "eventName", "userIdentity", "recordFormat", "tableName",
                            "dynamodb", "eventSource"]
    assert record["eventName"] == "INSERT"
    assert record["userIdentity"] is None
    assert record["recordFormat"] == "application/json"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["tableName"] == "customer"
    assert record["awsRegion"] == "us-east-2"
    assert record["dynamodb"] == {
        "ApproximateCreationDateTime": 1_720_046_486_486,
        "Keys": {"id": {"S": "2"}},
        "NewImage": new,
        "SizeBytes": 3 + (3 + 9 + 5),
    }
    text = json.dumps(record)
    for streams_only in ("eventVersion", "SequenceNumber", "StreamViewType"):
        assert streams_only not in text


def test_modify_and_remove_images():
    old = {"id": {"S": "1"}, "n": {"N": "1"}}
    new = {"id": {"S": "1"}, "n": {"N": "2"}}
    modify = build_record(change(old=old, new=new), "e")["dynamodb"]
    assert (modify["Keys"], modify["NewImage"], modify["OldImage"]) == ({"id": {"S": "1"}}, new, old)
    remove = build_record(change(old=old), "e")
    assert remove["eventName"] == "REMOVE"
    assert "NewImage" not in remove["dynamodb"] and remove["dynamodb"]["OldImage"] == old


def test_microsecond_records_say_so():
    record = build_record(change(new={"id": {"S": "1"}}, precision=MICROSECOND), "e")["dynamodb"]
    assert record["ApproximateCreationDateTime"] == 1_720_046_486_486_729
    assert record["ApproximateCreationDateTimePrecision"] == MICROSECOND
    millis = build_record(change(new={"id": {"S": "1"}}), "e")["dynamodb"]
    assert "ApproximateCreationDateTimePrecision" not in millis


def test_keys_come_hash_first_and_must_be_present():
    new = {"sk": {"S": "b"}, "x": {"N": "1"}, "pk": {"S": "a"}}
    keys = build_record(change(new=new, keys=("pk", "sk")), "e")["dynamodb"]["Keys"]
    assert list(keys) == ["pk", "sk"]
    with pytest.raises(ValueError, match="key attribute"):
        build_record(change(new={"x": {"N": "1"}}, keys=("pk",)), "e")


def test_partition_key_is_stable_per_item_and_differs_between_items():
    a = partition_key("t", {"pk": {"S": "a"}, "sk": {"S": "1"}})
    assert a == partition_key("t", {"sk": {"S": "1"}, "pk": {"S": "a"}})  # attribute order does not matter
    assert a != partition_key("t", {"pk": {"S": "a"}, "sk": {"S": "2"}})
    assert a != partition_key("other", {"pk": {"S": "a"}, "sk": {"S": "1"}})
    assert len(a) == 32 and a == a.upper()
    assert partition_key("t", {"pk": {"B": b"\x01"}})  # binary keys as moto holds them


def test_encoding_is_compact_utf8_json_with_base64_binaries():
    new = {"id": {"S": "下野"}, "blob": {"B": b"\x00\xff"}, "bs": {"BS": [b"\x01"]}}
    data = encode_record(build_record(change(new=new), "e"))
    assert b'"S":"\xe4\xb8\x8b\xe9\x87\x8e"' in data  # not \u escaped
    assert b", " not in data and b": " not in data
    decoded = json.loads(data)
    assert decoded["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}
    assert decoded["dynamodb"]["NewImage"]["bs"] == {"BS": ["AQ=="]}


def test_encoding_is_the_bytes_of_the_standard_library_s_compact_json():
    # What AWS writes is compact JSON with raw UTF-8; the standard library's encoder, an
    # independent implementation, gives the expected bytes for awkward text.
    awkward = "quote\" back\\ slash/ \x00\x01\x1f\x7f \t\n\r\b\f \u2028\u2029 é 下野 😀 \ud7ff"
    new = {"id": {"S": awkward}, "n": {"N": "-1.50E+3"}, "l": {"L": [{"S": awkward}, {"NULL": True}, {"BOOL": False}]},
           "m": {"M": {awkward: {"SS": [awkward, "x"]}}}, "blob": {"B": b"\x00\xff"}}
    record = build_record(change(new=new), "e")
    expected = json.dumps(json.loads(encode_record(record)), separators=(",", ":"), ensure_ascii=False).encode()
    assert encode_record(record) == expected
    assert json.loads(expected)["dynamodb"]["NewImage"]["id"]["S"] == awkward


@pytest.mark.parametrize(
    "value, size",
    [
        ({"S": "下野"}, 6),  # UTF-8 bytes, not characters
        ({"SS": ["é", "a"]}, 3),
        ({"M": {"ü": {"S": "ß"}}}, 3 + (2 + 2 + 1)),
    ],
)
def test_text_sizes_count_utf8_bytes(value, size):
    assert value_size(value) == size


def test_snapshot_equals_motos_to_json_and_is_a_copy():
    """capture.snapshot reads moto's Item internals; it must keep giving what Item.to_json gives."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    from pipeline_lib.localcloud.dynamodb_kinesis.capture import snapshot

    attrs = {
        "pk": {"S": "a"}, "n": {"N": "1.50"}, "b": {"B": base64.b64encode(b"\x00\xff").decode()},
        "t": {"BOOL": True}, "z": {"NULL": True}, "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2"]},
        "bs": {"BS": ["AQ=="]}, "l": {"L": [{"S": "e"}, {"N": "2"}, {"B": "AQ=="}, {"L": [{"SS": ["q"]}]}]},
        "m": {"M": {"k": {"M": {"deep": {"L": [{"M": {"x": {"BOOL": False}}}]}, "b": {"B": "AQ=="}}},
                    "s": {"SS": ["r"]}}},
    }
    item = Item(DynamoType(attrs["pk"]), None, attrs)
    expected = item.to_json()["Attributes"]
    image = snapshot(item)
    assert image == expected
    assert snapshot(None) is None
    image["m"]["M"]["s"]["SS"].append("changed")  # a copy: the stored item does not change
    image["l"]["L"][0]["S"] = "changed"
    assert item.to_json()["Attributes"] == expected


def test_event_ids_are_unique_random_version_4_uuids():
    import uuid

    from pipeline_lib.localcloud.dynamodb_kinesis.forwarder import event_id

    ids = [event_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids[:200]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122
