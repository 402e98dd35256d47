"""Items kept packed (localcloud/dynamodb/items.py, compact.py) answer every DynamoDB operation as
stock moto does, byte for byte: one scenario of writes, updates, conditions, transactions, reads,
queries on the table and its indexes, scans and PartiQL runs twice in process, once on stock moto
(the seams restored) and once with the seams, and every answer (status and body) must be equal.
Stored items must stay packed after a bulk write, after reads and after updates."""
from __future__ import annotations

import copy
import datetime
import json
import pickle

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.moto_api._internal import mock_random

from pipeline_lib.data import generate_items
from pipeline_lib.localcloud.dynamodb.seams import build_seams

REGION = "us-east-1"
BLOB = b"\x00\xffbinary"
ODD = {"PK": {"S": "CUSTOMER#odd"}, "SK": {"S": "ODD#1"}, "entityType": {"S": "odd"}, "status": {"S": "PAID"},
       "text": {"S": "héllo wörld ✓ 🚀"}, "empty": {"S": ""}, "n": {"N": "-1.50E+3"}, "t": {"BOOL": False},
       "nul": {"NULL": True}, "ss": {"SS": ["a", "é", "b"]}, "ns": {"NS": ["1", "2.5", "-3"]},
       "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": []}, {"M": {}}, {"M": {"k": {"SS": ["z"]}, "é": {"NULL": True}}}]},
       "m": {"M": {"deep": {"M": {"deeper": {"L": [{"BOOL": True}, {"N": "0"}]}}}, "s": {"S": "v"}}},
       "createdAt": {"S": "2026-09-01T00:00:00.000Z"}}
BINARY = {"PK": {"S": "CUSTOMER#bin"}, "SK": {"S": "BIN#1"}, "entityType": {"S": "bin"}, "status": {"S": "PAID"},
          "b": {"B": BLOB}, "bs": {"BS": [b"a", b"b"]}, "nested": {"M": {"b": {"B": b"\x01"}}},
          "createdAt": {"S": "2026-09-02T00:00:00.000Z"}}


def _items(n: int) -> list[dict]:
    return [request["PutRequest"]["Item"] for request in generate_items(n, 7)]


def _table(ddb) -> None:
    ddb.create_table(
        TableName="orders", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "status", "createdAt")],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-status", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                                                     {"AttributeName": "createdAt", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
            {"IndexName": "status-keys", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {"IndexName": "status-include", "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                                                          {"AttributeName": "createdAt", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total", "tags"]}}],
        LocalSecondaryIndexes=[
            {"IndexName": "by-created", "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"},
                                                      {"AttributeName": "createdAt", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    ddb.create_table(TableName="plain", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])


def _scenario(ddb, items: list[dict]) -> None:
    """Every call whose answer is compared; failures are answers too."""
    def call(operation: str, **kwargs):
        mock_random.seed(2026)
        try:
            getattr(ddb, operation)(**kwargs)
        except ClientError:
            pass

    key = {"PK": items[1]["PK"], "SK": items[1]["SK"]}
    customer = items[0]["PK"]
    for start in range(0, len(items), 25):
        call("batch_write_item", RequestItems={"orders": [{"PutRequest": {"Item": i}} for i in items[start:start + 25]]})
    for extra in (ODD, BINARY):
        call("put_item", TableName="orders", Item=extra, ReturnValues="ALL_OLD")
    call("put_item", TableName="orders", Item=items[1], ReturnValues="ALL_OLD")
    call("put_item", TableName="orders", Item=items[1], ConditionExpression="attribute_not_exists(PK)",
         ReturnValuesOnConditionCheckFailure="ALL_OLD")
    call("put_item", TableName="orders", Item={**items[2], "status": {"S": "SHIPPED"}},
         ConditionExpression="#s = :paid OR #s = :pending", ExpressionAttributeNames={"#s": "status"},
         ExpressionAttributeValues={":paid": {"S": "PAID"}, ":pending": {"S": "PENDING"}}, ReturnValues="ALL_OLD")
    call("batch_write_item", RequestItems={"orders": [{"PutRequest": {"Item": items[3]}}, {"PutRequest": {"Item": items[3]}}]})
    call("batch_write_item", RequestItems={"orders": [{"DeleteRequest": {"Key": {"PK": items[4]["PK"], "SK": items[4]["SK"]}}}],
                                           "plain": [{"PutRequest": {"Item": {"id": {"S": "p1"}, "v": {"N": "1"}}}}]})
    for values in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW", "ALL_OLD", "NONE"):
        call("update_item", TableName="orders", Key=key, ReturnValues=values,
             UpdateExpression="SET #s = :s, address.city = :c, extra = if_not_exists(extra, :zero) "
                              "ADD loyaltyPoints :one, tags :tag REMOVE phone",
             ExpressionAttributeNames={"#s": "status"},
             ExpressionAttributeValues={":s": {"S": "REFUNDED"}, ":c": {"S": "Köln"}, ":zero": {"N": "0"},
                                        ":one": {"N": "1"}, ":tag": {"SS": ["vip"]}})
    odd_key = {"PK": ODD["PK"], "SK": ODD["SK"]}
    call("update_item", TableName="orders", Key=odd_key, ReturnValues="ALL_NEW",
         UpdateExpression="SET l = list_append(l, :more), m.deep.deeper[0] = :f, n = n + :n DELETE ss :a REMOVE l[0]",
         ExpressionAttributeValues={":more": {"L": [{"S": "tail"}, {"M": {"x": {"N": "9"}}}]}, ":f": {"BOOL": False},
                                    ":n": {"N": "0.5"}, ":a": {"SS": ["a"]}})
    call("update_item", TableName="orders", Key=odd_key, ReturnValues="ALL_NEW", UpdateExpression="SET bin = :b",
         ExpressionAttributeValues={":b": {"B": BLOB}})
    call("update_item", TableName="orders", Key=odd_key, ReturnValues="ALL_NEW", UpdateExpression="REMOVE bin")
    call("update_item", TableName="orders", Key={"PK": BINARY["PK"], "SK": BINARY["SK"]}, ReturnValues="ALL_NEW",
         UpdateExpression="SET b = :s REMOVE bs, nested", ExpressionAttributeValues={":s": {"S": "no longer binary"}})
    call("update_item", TableName="orders", Key=key, ReturnValues="ALL_NEW",
         AttributeUpdates={"loyaltyPoints": {"Action": "ADD", "Value": {"N": "5"}},
                           "tier": {"Action": "PUT", "Value": {"S": "gold"}}, "email": {"Action": "DELETE"}})
    call("update_item", TableName="orders", Key={"PK": {"S": "CUSTOMER#new"}, "SK": {"S": "PROFILE"}},
         UpdateExpression="SET a = :a", ExpressionAttributeValues={":a": {"S": "created"}}, ReturnValues="ALL_NEW")
    call("update_item", TableName="orders", Key=key, UpdateExpression="SET big = :big",
         ExpressionAttributeValues={":big": {"S": "x" * 404_000}}, ReturnValues="ALL_NEW")
    call("update_item", TableName="orders", Key=key, UpdateExpression="SET a = :a", ConditionExpression="attribute_not_exists(PK)",
         ExpressionAttributeValues={":a": {"S": "no"}}, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    call("put_item", TableName="orders", Item={**items[5], "big": {"S": "x" * 405_000}})
    call("put_item", TableName="orders", Item={**items[5], "big": {"S": "x" * 404_000}}, ReturnValues="ALL_OLD")
    call("delete_item", TableName="orders", Key={"PK": items[6]["PK"], "SK": items[6]["SK"]}, ReturnValues="ALL_OLD")
    call("delete_item", TableName="orders", Key={"PK": items[7]["PK"], "SK": items[7]["SK"]},
         ConditionExpression="attribute_not_exists(PK)", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    call("transact_write_items", TransactItems=[
        {"Put": {"TableName": "orders", "Item": {**items[8], "status": {"S": "TX"}}}},
        {"Update": {"TableName": "orders", "Key": {"PK": items[9]["PK"], "SK": items[9]["SK"]},
                    "UpdateExpression": "SET #s = :s", "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":s": {"S": "TX"}}}},
        {"Delete": {"TableName": "orders", "Key": {"PK": items[10]["PK"], "SK": items[10]["SK"]}}},
        {"ConditionCheck": {"TableName": "orders", "Key": key, "ConditionExpression": "attribute_exists(PK)"}}])
    call("transact_write_items", TransactItems=[
        {"Update": {"TableName": "orders", "Key": {"PK": items[11]["PK"], "SK": items[11]["SK"]},
                    "UpdateExpression": "SET #s = :s", "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": {":s": {"S": "ROLLED-BACK"}}}},
        {"ConditionCheck": {"TableName": "orders", "Key": key, "ConditionExpression": "attribute_not_exists(PK)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}])
    for k in (key, odd_key, {"PK": BINARY["PK"], "SK": BINARY["SK"]}, {"PK": items[11]["PK"], "SK": items[11]["SK"]}):
        call("get_item", TableName="orders", Key=k)
    call("get_item", TableName="orders", Key=odd_key, ProjectionExpression="m.deep, l[1], ss, #t",
         ExpressionAttributeNames={"#t": "text"})
    call("get_item", TableName="orders", Key=key, AttributesToGet=["status", "tags", "missing"])
    call("get_item", TableName="orders", Key={"PK": {"S": "none"}, "SK": {"S": "none"}})
    call("batch_get_item", RequestItems={"orders": {"Keys": [key, odd_key, {"PK": {"S": "none"}, "SK": {"S": "x"}}]},
                                         "plain": {"Keys": [{"id": {"S": "p1"}}], "ProjectionExpression": "v"}})
    call("transact_get_items", TransactItems=[{"Get": {"TableName": "orders", "Key": key}},
                                              {"Get": {"TableName": "orders", "Key": odd_key}}])
    call("query", TableName="orders", KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": customer})
    call("query", TableName="orders", KeyConditionExpression="PK = :pk AND begins_with(SK, :o)",
         FilterExpression="#tot > :t", ProjectionExpression="SK, #tot, #i[0].sku",
         ExpressionAttributeNames={"#i": "items", "#tot": "total"},
         ExpressionAttributeValues={":pk": customer, ":o": {"S": "ORDER#"}, ":t": {"N": "20"}}, ScanIndexForward=False)
    page = {"TableName": "orders", "KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": customer},
            "Limit": 2}
    mock_random.seed(2026)
    first = ddb.query(**page)
    if "LastEvaluatedKey" in first:
        call("query", **page, ExclusiveStartKey=first["LastEvaluatedKey"])
    for index in ("by-status", "status-keys", "status-include"):
        call("query", TableName="orders", IndexName=index, KeyConditionExpression="#s = :s",
             ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "PAID"}})
    call("query", TableName="orders", IndexName="by-status", Limit=3, ScanIndexForward=False,
         KeyConditionExpression="#s = :s AND createdAt BETWEEN :a AND :b", ExpressionAttributeNames={"#s": "status"},
         ExpressionAttributeValues={":s": {"S": "PAID"}, ":a": {"S": "2026-01-01"}, ":b": {"S": "2026-10-01"}})
    call("query", TableName="orders", IndexName="by-created", KeyConditionExpression="PK = :pk AND createdAt > :a",
         ExpressionAttributeValues={":pk": customer, ":a": {"S": "2026"}})
    call("query", TableName="orders", KeyConditions={"PK": {"ComparisonOperator": "EQ", "AttributeValueList": [customer]}},
         QueryFilter={"entityType": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "order"}]}})
    call("scan", TableName="orders")
    call("scan", TableName="orders", FilterExpression="contains(tags, :t) OR attribute_exists(ss)",
         ExpressionAttributeValues={":t": {"S": "express"}}, ProjectionExpression="PK, SK, tags")
    call("scan", TableName="orders", ScanFilter={"entityType": {"ComparisonOperator": "EQ",
                                                                "AttributeValueList": [{"S": "customer"}]}})
    call("scan", TableName="orders", IndexName="by-status", Limit=7)
    call("scan", TableName="orders", Segment=1, TotalSegments=3, Select="COUNT")
    mock_random.seed(2026)
    first = ddb.scan(TableName="orders", Limit=5)
    call("scan", TableName="orders", Limit=5, ExclusiveStartKey=first["LastEvaluatedKey"])
    call("execute_statement", Statement='SELECT * FROM "orders" WHERE PK = ?', Parameters=[customer])
    call("execute_statement", Statement='UPDATE "orders" SET tier = \'platinum\' WHERE PK = ? AND SK = ?',
         Parameters=[items[0]["PK"], items[0]["SK"]])
    call("scan", TableName="orders")
    call("scan", TableName="plain")


def _answers(with_seams: bool, items: list[dict], bare_cloud, monkeypatch) -> tuple[list[tuple[int, bytes]], list[dict]]:
    import moto.dynamodb.models.table as moto_table

    # Stream records carry the time of the change (and their SizeBytes its length): one instant.
    monkeypatch.setattr(moto_table, "utcnow", lambda: datetime.datetime(2026, 12, 3, 12, 0, 0, 123456))
    seams = build_seams(bare_cloud)
    answers: list[tuple[int, bytes]] = []

    def keep(http_response, **_kwargs):
        answers.append((http_response.status_code, http_response.content))

    if with_seams:
        seams.apply()
    try:
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name=REGION)
            _table(ddb)
            ddb.meta.events.register("after-call.dynamodb", keep)
            _scenario(ddb, items)
            ddb.meta.events.unregister("after-call.dynamodb", keep)
            shard = _table_of("orders").stream_shard  # moto's DynamoDB Streams records, from Item.to_json
            records = [copy.deepcopy(record.to_json()) for record in shard.items]
    finally:
        seams.restore()
    return answers, records


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return _items(120)


def test_every_answer_is_stock_motos_byte_for_byte(items, bare_cloud, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    stock, stock_records = _answers(False, items, bare_cloud, monkeypatch)
    ours, our_records = _answers(True, items, bare_cloud, monkeypatch)
    assert len(stock) == len(ours) > 60
    assert {status for status, _ in stock} == {200, 400}  # failures were compared too
    for number, (expected, got) in enumerate(zip(stock, ours)):
        assert got == expected, f"answer {number} differs:\n{expected[1][:400]!r}\n{got[1][:400]!r}"
    assert len(stock_records) > len(items)
    assert our_records == stock_records  # moto's DynamoDB Streams records (Item.to_json)


@pytest.fixture
def seamed(seamed_dynamodb):
    _table(seamed_dynamodb)
    return seamed_dynamodb


def _table_of(name: str):
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"][REGION].get_table(name)


def _stored():
    return _table_of("orders").all_items()


def _packed(item) -> bool:
    return item.__dict__["_plain"] is None and type(item.__dict__["_packed"]) is bytes


def test_items_stay_packed_after_writes_reads_and_updates(seamed, items):
    from moto.dynamodb.models.dynamo_type import Item

    ddb = seamed
    tracked = len(Item.instances_tracked)
    for start in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={"orders": [{"PutRequest": {"Item": i}} for i in items[start:start + 25]]})
    ddb.put_item(TableName="orders", Item=ODD)
    ddb.put_item(TableName="orders", Item=BINARY)
    stored = _stored()
    assert len(stored) == len(items) + 2
    assert [i for i in stored if not _packed(i)] == [i for i in stored if i.hash_key.value == "CUSTOMER#bin"]

    ddb.query(TableName="orders", IndexName="by-status", KeyConditionExpression="#s = :s",
              ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "PAID"}})
    ddb.scan(TableName="orders", IndexName="by-status", FilterExpression="#t > :t",
             ExpressionAttributeNames={"#t": "total"}, ExpressionAttributeValues={":t": {"N": "1"}})
    ddb.scan(TableName="orders", ScanFilter={"entityType": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "x"}]}})
    key = {"PK": items[1]["PK"], "SK": items[1]["SK"]}
    ddb.update_item(TableName="orders", Key=key, UpdateExpression="SET #s = :s ADD n :one",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":s": {"S": "X"}, ":one": {"N": "1"}})
    ddb.update_item(TableName="orders", Key={"PK": BINARY["PK"], "SK": BINARY["SK"]},
                    UpdateExpression="REMOVE b, bs, nested")  # no binary left: packed again
    ddb.put_item(TableName="orders", Item=items[2], ConditionExpression="attribute_exists(PK)")
    with pytest.raises(ClientError):
        ddb.put_item(TableName="orders", Item=items[3], ConditionExpression="attribute_not_exists(PK)")
    assert all(_packed(i) for i in _stored())
    assert len(Item.instances_tracked) == tracked  # moto's tracking would keep every copy alive
    got = ddb.get_item(TableName="orders", Key=key)["Item"]
    assert got["status"] == {"S": "X"} and got["n"] == {"N": "1"}


def test_packed_item_is_motos_item(bare_cloud, items):
    """A packed item reads as moto's: attrs, to_json, size, copies and pickles; moto's own Item
    (the seams restored) is the reference."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    seams = build_seams(bare_cloud)
    cases = items[:20] + [ODD]

    def shape(value):  # DynamoTypes as (class, their attributes in order), recursively
        if isinstance(value, DynamoType):
            return (type(value), [(k, shape(v)) for k, v in vars(value).items()])
        if isinstance(value, dict):
            return (type(value), [(k, shape(v)) for k, v in value.items()])
        if isinstance(value, list):
            return [shape(v) for v in value]
        return (type(value), value)

    def reading(item) -> dict:
        described = item.describe_attrs(["PK", "total"])["Item"]
        return {"attrs": shape(item.attrs), "names": list(item.attrs), "to_json": item.to_json(),
                "text": json.dumps(item.to_json()), "size": item.size(), "regular": item.to_regular_json(),
                "described": {k: getattr(v, "to_json", lambda v=v: v)() for k, v in described.items()}}

    stock = [reading(Item(DynamoType(i["PK"]), DynamoType(i["SK"]), copy.deepcopy(i))) for i in cases]
    seams.apply()
    try:
        ours = [Item(DynamoType(i["PK"]), DynamoType(i["SK"]), copy.deepcopy(i)) for i in cases]
        for reference, item in zip(stock, ours):
            assert _packed(item)
            for candidate in (item, copy.deepcopy(item), pickle.loads(pickle.dumps(item))):
                assert _packed(candidate)
                assert reading(candidate) == reference
            item.attrs["PK"]
            assert _packed(item)  # a read outside a write is not kept on the item
    finally:
        seams.restore()


def test_a_copied_attribute_is_a_value_as_in_aws(seamed):
    """`SET a = b` copies b's value (DynamoDB evaluates every operand against the item as it was
    before the update). Stock moto 5.2.5 stores the same object under both names, so a later
    `SET b.x` changed a too; a packed item holds values, as AWS does."""
    ddb = seamed
    key = {"PK": {"S": "k"}, "SK": {"S": "s"}}
    ddb.put_item(TableName="orders", Item={**key, "b": {"M": {"y": {"N": "1"}}}})
    ddb.update_item(TableName="orders", Key=key, UpdateExpression="SET a = b")
    ddb.update_item(TableName="orders", Key=key, UpdateExpression="SET b.x = :v", ExpressionAttributeValues={":v": {"N": "2"}})
    ddb.update_item(TableName="orders", Key=key, UpdateExpression="SET c = b, b.z = :v",
                    ExpressionAttributeValues={":v": {"N": "3"}})
    item = ddb.get_item(TableName="orders", Key=key)["Item"]
    assert item["a"] == {"M": {"y": {"N": "1"}}}
    assert item["b"] == {"M": {"y": {"N": "1"}, "x": {"N": "2"}, "z": {"N": "3"}}}
    assert item["c"] == {"M": {"y": {"N": "1"}, "x": {"N": "2"}}}


def test_packed_items_are_refused_at_motos_size_limit(bare_cloud):
    """The same items are too large packed as in moto (its LimitedSizeDict is the reference):
    sizes around 405,000 bytes, in names, strings, numbers, sets and nested maps."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    key = DynamoType({"S": "k"})

    def cases():
        for size in (404_990, 404_997, 404_998, 404_999, 405_000, 405_001):
            rest = size - len("PK") - 1 - len("é")
            yield {"PK": {"S": "k"}, "é": {"S": "x" * (rest - 2)}}  # é: two UTF-8 bytes
            yield {"PK": {"S": "k"}, "n": {"N": "1" * (size - 4)}}
            yield {"PK": {"S": "k"}, "m": {"M": {"a": {"SS": ["x" * (size - 5), ""]}}}}
            yield {"PK": {"S": "k"}, "l": {"L": [{"NS": ["2" * (size - 4)]}, {"BOOL": True}, {"NULL": True}]}}

    def outcome(attrs):
        try:
            return Item(key, None, copy.deepcopy(attrs)).size()
        except ItemSizeTooLarge:
            return "too large"

    expected = [outcome(attrs) for attrs in cases()]
    assert "too large" in expected and any(isinstance(e, int) and e > 404_990 for e in expected)
    seams = build_seams(bare_cloud)
    seams.apply()
    try:
        got = [outcome(attrs) for attrs in cases()]
        packed = [_packed(Item(key, None, copy.deepcopy(attrs))) for attrs, e in zip(cases(), expected) if e != "too large"]
    finally:
        seams.restore()
    assert got == expected
    assert packed and all(packed)


def test_an_item_saved_before_items_were_packed_loads(bare_cloud, items):
    """A state file written before this package packed items holds moto's Items (their `attrs`
    in __dict__): unpickled with the seams applied they read as moto's own, packed when they can
    be (a binary value keeps an item as moto keeps it)."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    cases = items[:5] + [ODD, BINARY]
    stock = [Item(DynamoType(i["PK"]), DynamoType(i["SK"]), copy.deepcopy(i)) for i in cases]
    expected = [(item.to_json(), item.size(), item.to_regular_json()) for item in stock]
    saved = pickle.dumps(stock)
    seams = build_seams(bare_cloud)
    seams.apply()
    try:
        loaded = pickle.loads(saved)
        assert [(item.to_json(), item.size(), item.to_regular_json()) for item in loaded] == expected
        assert [_packed(item) for item in loaded] == [True] * 6 + [False]
        assert all("attrs" not in vars(item) for item in loaded)
    finally:
        seams.restore()
