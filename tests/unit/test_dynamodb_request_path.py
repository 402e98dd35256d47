"""The DynamoDB request path's compiled parse and one-check Item equal moto's own (the reference:
moto's JSONParser and LimitedSizeDict), on every write operation and every attribute type."""
from __future__ import annotations

import base64
import json

import pytest
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.utils import get_service_model

from pipeline_lib.localcloud.dynamodb.items import item_init
from pipeline_lib.localcloud.dynamodb.request_parsing import CompiledParser

B64 = base64.b64encode(b"\x00\xffbytes").decode()
VALUE = {"M": {"s": {"S": "text"}, "n": {"N": "12.50"}, "b": {"B": B64}, "bs": {"BS": [B64, B64]},
               "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2"]}, "null": {"NULL": True}, "bool": {"BOOL": False},
               "l": {"L": [{"S": "x"}, {"M": {"deep": {"B": B64}}}, {"L": []}]}}}
ITEM = {"PK": {"S": "CUSTOMER#1"}, "SK": {"S": "PROFILE"}, "blob": {"B": B64}, "nested": VALUE,
        "odd": {"S": "v", "Unknown": "dropped"}, "nothing": {"S": None, "N": "3"}}
BODIES = {
    "PutItem": {"TableName": "t", "Item": ITEM, "ConditionExpression": "attribute_not_exists(PK)",
                "ExpressionAttributeValues": {":b": {"B": B64}}, "ReturnValues": "ALL_OLD", "NotAMember": 1},
    "BatchWriteItem": {"RequestItems": {"t": [{"PutRequest": {"Item": ITEM}},
                                              {"DeleteRequest": {"Key": {"PK": {"S": "a"}, "SK": {"B": B64}}}}]},
                       "ReturnConsumedCapacity": "TOTAL"},
    "UpdateItem": {"TableName": "t", "Key": {"PK": {"S": "a"}, "SK": {"S": "b"}}, "UpdateExpression": "SET #a = :v",
                   "ExpressionAttributeNames": {"#a": "a"}, "ExpressionAttributeValues": {":v": VALUE},
                   "AttributeUpdates": {"x": {"Value": {"BS": [B64]}, "Action": "PUT"}},
                   "Expected": {"y": {"ComparisonOperator": "IN", "AttributeValueList": [{"B": B64}, {"N": "1"}]}}},
    "DeleteItem": {"TableName": "t", "Key": {"PK": {"S": "a"}, "SK": {"S": "b"}}, "Expected": None},
    "TransactWriteItems": {"TransactItems": [
        {"Put": {"TableName": "t", "Item": ITEM}},
        {"Update": {"TableName": "t", "Key": {"PK": {"S": "k"}}, "UpdateExpression": "SET a = :v",
                    "ExpressionAttributeValues": {":v": {"B": B64}}}},
        {"Delete": {"TableName": "t", "Key": {"PK": {"S": "k2"}}}},
        {"ConditionCheck": {"TableName": "t", "Key": {"PK": {"S": "k3"}}, "ConditionExpression": "attribute_exists(PK)"}}],
        "ClientRequestToken": "token"},
    "Query": {"TableName": "t", "Limit": 10, "ExclusiveStartKey": {"PK": {"B": B64}},
              "KeyConditions": {"PK": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}}},
    "CreateTable": {"TableName": "t", "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
                    "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}]},
    "RestoreTableToPointInTime": {"SourceTableName": "t", "TargetTableName": "u", "RestoreDateTime": 1767225600.5},
}


@pytest.mark.parametrize("operation", sorted(BODIES))
def test_compiled_parse_equals_motos(operation):
    operation_model = get_service_model("dynamodb").operation_model(operation)
    reference = PROTOCOL_PARSERS["json"](operation_model, map_type=dict)
    body = json.dumps(BODIES[operation]).encode()
    expected = reference.parse({"method": "POST", "values": {}, "headers": {}, "body": body, "url_path": "/",
                                "url_params": {}})
    compiled = CompiledParser(operation_model, reference._timestamp_parser, {})
    assert compiled.parse(body) == expected
    assert compiled.parse(b"") == reference.parse({"body": b""})
    assert compiled.parse(b"not json") == reference.parse({"body": b"not json"})


def test_item_size_limit_is_motos():
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    fast = type("FastItem", (Item,), {"__init__": item_init(Item.__init__)})
    key = DynamoType({"S": "k"})
    seen = set()
    for size in (1000, 404_990, 404_999, 405_000, 405_001, 500_000):
        attrs = {"PK": {"S": "k"}, "a": {"S": "x" * (size // 2)}, "b": {"B": "y" * (size - size // 2 - 4)}}
        outcomes = []
        for cls in (Item, fast):
            try:
                outcomes.append(cls(key, None, attrs).to_json())
            except ItemSizeTooLarge:
                outcomes.append("too large")
        assert outcomes[0] == outcomes[1], size
        seen.add(outcomes[0] == "too large")
    assert seen == {True, False}  # both sides of the limit were tried


SIZED = [{"S": "ascii"}, {"S": ""}, {"S": "héllo wörld ✓"}, {"N": "12.50"}, {"N": "-1E+3"}, {"B": b"\x00\xff"},
         {"B": "c3RyaW5n"}, {"BOOL": True}, {"BOOL": False}, {"NULL": True}, {"SS": ["a", "é", ""]}, {"NS": ["1", "2.5"]},
         {"BS": [b"ab", b"\xff"]}, {"L": [{"S": "x"}, {"N": "1"}, {"M": {"k": {"S": "é"}}}]},
         {"M": {"name": {"S": "v"}, "nested": {"L": [{"BOOL": True}, {"NULL": True}]}, "é": {"N": "3"}}},
         {"L": []}, {"M": {}}, {"SS": []}, {"SS": ["a", 1]}, {"NS": [1, "2"]},
         {"L": [{"L": [{"M": {"é": {"BS": [b"x"]}, "n": {"NULL": True}}}]}, {"SS": ["é"]}]}]


@pytest.mark.parametrize("value", SIZED, ids=[str(v)[:30] for v in SIZED])
def test_attribute_size_is_motos(value):
    from moto.dynamodb.models.dynamo_type import DynamoType

    from pipeline_lib.localcloud.dynamodb.items import attribute_size

    def outcome(size):
        try:
            return size()
        except Exception as exc:  # moto's own failure on odd input must stay the same
            return type(exc)

    typed = DynamoType(value)
    assert outcome(lambda: attribute_size(typed)) == outcome(typed.size)


def test_duplicate_check_text_is_motos():
    """BatchWriteItem's duplicate check compares dynamo_json_dump texts: ours must be equal
    exactly when moto's are, for parsed requests (blobs decoded to bytes)."""
    from moto.dynamodb.models.utilities import dynamo_json_dump

    from pipeline_lib.localcloud.dynamodb.items import json_dump

    key = {"PK": {"S": "a"}, "SK": {"S": "b"}}
    requests = [key, dict(key), {"SK": {"S": "b"}, "PK": {"S": "a"}}, {"PK": {"S": "a"}, "SK": {"S": "c"}},
                {"PK": {"S": "é"}, "SK": {"S": "b"}}, {"PK": {"B": b"\x00"}, "SK": {"S": "b"}},
                {"PK": {"B": "AA=="}, "SK": {"S": "b"}}, {"PK": {"N": "1"}, "SK": {"S": "b"}},
                {"PK": {"N": "1.0"}, "SK": {"S": "b"}}, {**key, "n": {"BOOL": True}}, {**key, "n": {"NULL": True}},
                {**key, "l": {"L": [{"S": "x"}, {"M": {"k": {"SS": ["1", "2"]}}}]}}]
    for a in requests:
        for b in requests:
            assert (json_dump(a) == json_dump(b)) == (dynamo_json_dump(a) == dynamo_json_dump(b)), (a, b)


def test_batch_write_with_the_seams_refuses_duplicates_and_writes_the_rest(seamed_dynamodb):
    """The seams applied (moto's mock in process): duplicate requests are refused as DynamoDB
    does ("Provided list of item keys contains duplicates"), distinct ones written."""
    from botocore.exceptions import ClientError

    ddb = seamed_dynamodb
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}])
    item = {"PK": {"S": "a"}, "blob": {"B": b"\x00\xff"}, "n": {"N": "1"}}
    with pytest.raises(ClientError) as refused:
        ddb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": item}}, {"PutRequest": {"Item": item}}]})
    assert refused.value.response["Error"]["Message"] == "Provided list of item keys contains duplicates"
    other = {**item, "PK": {"S": "b"}}
    ddb.batch_write_item(RequestItems={"t": [{"PutRequest": {"Item": item}}, {"PutRequest": {"Item": other}}]})
    assert ddb.scan(TableName="t")["Count"] == 2
