"""Kinesis Data Streams for DynamoDB in the local cloud: the destination API, the records, a template."""
from __future__ import annotations

import json
import random
import time
import uuid
from collections import defaultdict
from typing import Any

import pytest
from botocore.exceptions import ClientError

from pipeline_lib.localcloud import lifecycle

import streams  # tests/integration/streams.py
from polling import wait_for  # tests/polling.py

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"


@pytest.fixture
def ddb(boto_session):
    return boto_session.client("dynamodb")


@pytest.fixture
def kinesis(boto_session):
    return boto_session.client("kinesis")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_stream(kinesis, shards: int = 2) -> tuple[str, str]:
    return streams.new_stream(kinesis, shards, prefix="ddbk")


def new_table(ddb, range_key: bool = False) -> str:
    name = unique("ddbk")
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}] + ([{"AttributeName": "sk", "KeyType": "RANGE"}] if range_key else [])
    attrs = [{"AttributeName": k["AttributeName"], "AttributeType": "S"} for k in keys]
    ddb.create_table(TableName=name, KeySchema=keys, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST")
    return name


def destinations(ddb, table: str) -> list[dict[str, Any]]:
    return ddb.describe_kinesis_streaming_destination(TableName=table)["KinesisDataStreamDestinations"]


def wait_status(ddb, table: str, stream_arn: str, status: str, timeout: float = 15.0) -> dict[str, Any]:
    return wait_for(lambda: next((d for d in destinations(ddb, table) if d["StreamArn"] == stream_arn), None),
                    lambda entry: bool(entry) and entry["DestinationStatus"] == status,
                    timeout=timeout, what=f"the destination of {table} {status}")


def enable(ddb, table: str, stream_arn: str, precision: str | None = None) -> None:
    extra = {"EnableKinesisStreamingConfiguration": {"ApproximateCreationDateTimePrecision": precision}} if precision else {}
    ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=stream_arn, **extra)
    wait_status(ddb, table, stream_arn, "ACTIVE")


def changes(local_cloud, kinesis, stream: str) -> list[dict[str, Any]]:
    """Every change record on the stream (after the forwarder drained), in shard order."""
    report = lifecycle.flush(local_cloud.endpoint, timeout=60)
    assert report["dynamodb_kinesis"]["drained"], report
    out = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while True:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            if not page["Records"]:
                break
            for r in page["Records"]:
                record = json.loads(r["Data"])
                record["_partition_key"] = r["PartitionKey"]
                out.append(record)
            iterator = page["NextShardIterator"]
    return out


def by_item(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        grouped[json.dumps(record["dynamodb"]["Keys"], sort_keys=True)].append(record)
    return grouped


def key(pk: str, sk: str | None = None) -> str:
    keys = {"pk": {"S": pk}} | ({"sk": {"S": sk}} if sk is not None else {})
    return json.dumps(keys, sort_keys=True)


# -- the API ---------------------------------------------------------------------------------------
def test_enable_describe_update_disable(ddb, kinesis):
    table = new_table(ddb)
    _name, arn = new_stream(kinesis)
    assert destinations(ddb, table) == []
    response = ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    assert (response["TableName"], response["StreamArn"], response["DestinationStatus"]) == (table, arn, "ENABLING")
    assert response["EnableKinesisStreamingConfiguration"] == {}
    assert destinations(ddb, table)[0]["DestinationStatus"] in ("ENABLING", "ACTIVE")
    assert wait_status(ddb, table, arn, "ACTIVE") == {"StreamArn": arn, "DestinationStatus": "ACTIVE"}
    description = ddb.describe_table(TableName=table)["Table"]
    assert not [k for k in description if "Kinesis" in k]  # DescribeTable does not carry it

    disabled = ddb.disable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    assert disabled["DestinationStatus"] == "DISABLING"
    wait_status(ddb, table, arn, "DISABLED")
    # Re-enabling flips the DISABLED entry instead of adding one; the table ARN works as TableName.
    table_arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    assert ddb.enable_kinesis_streaming_destination(TableName=table_arn, StreamArn=arn)["TableName"] == table
    wait_status(ddb, table, arn, "ACTIVE")
    assert len(destinations(ddb, table)) == 1

    # A precision update holds UPDATING for a while (AWS: about two minutes, scaled here) and shows
    # the new value at once.
    updated = ddb.update_kinesis_streaming_destination(
        TableName=table, StreamArn=arn,
        UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"})
    assert updated["DestinationStatus"] == "UPDATING"
    assert updated["UpdateKinesisStreamingConfiguration"] == {"ApproximateCreationDateTimePrecision": "MICROSECOND"}
    assert destinations(ddb, table) == [{"StreamArn": arn, "DestinationStatus": "UPDATING",
                                         "ApproximateCreationDateTimePrecision": "MICROSECOND"}]


def code_of(call, **kwargs) -> tuple[str, str]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]["Code"], info.value.response["Error"]["Message"]


def test_errors_are_awss(boto_session, ddb, kinesis):
    table = new_table(ddb)
    _name, arn = new_stream(kinesis)
    missing_table = unique("no-such-table")
    for call in (ddb.enable_kinesis_streaming_destination, ddb.disable_kinesis_streaming_destination):
        assert code_of(call, TableName=missing_table, StreamArn=arn) == (
            "ResourceNotFoundException", f"Requested resource not found: Table: {missing_table} not found")
    assert code_of(ddb.describe_kinesis_streaming_destination, TableName=missing_table)[0] == "ResourceNotFoundException"
    assert code_of(ddb.update_kinesis_streaming_destination, TableName=missing_table, StreamArn=arn,
                   UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MICROSECOND"}
                   )[0] == "ResourceNotFoundException"

    code, message = code_of(ddb.disable_kinesis_streaming_destination, TableName=table, StreamArn=arn)
    assert code == "ValidationException" and "must be ACTIVE to perform DISABLE operation" in message
    code, message = code_of(ddb.enable_kinesis_streaming_destination, TableName=table, StreamArn=arn,
                            EnableKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "SECOND"})
    assert code == "ValidationException" and "[MICROSECOND, MILLISECOND]" in message

    # An unknown stream is accepted, then fails asynchronously, as on AWS.
    ghost = f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/{unique('ghost')}"
    assert ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=ghost)["DestinationStatus"] == "ENABLING"
    failed = wait_status(ddb, table, ghost, "ENABLE_FAILED")
    assert failed["DestinationStatusDescription"] == "User does not have a permission to use kinesis stream"

    # So is a stream of another region: AWS streams within the table's account and region only.
    elsewhere = boto_session.client("kinesis", region_name="eu-west-1")
    other_name = unique("eu")
    elsewhere.create_stream(StreamName=other_name, ShardCount=1)
    other_arn = elsewhere.describe_stream_summary(StreamName=other_name)["StreamDescriptionSummary"]["StreamARN"]
    ddb.enable_kinesis_streaming_destination(TableName=table, StreamArn=other_arn)
    wait_status(ddb, table, other_arn, "ENABLE_FAILED")

    enable(ddb, table, arn)
    code, message = code_of(ddb.enable_kinesis_streaming_destination, TableName=table, StreamArn=arn)
    assert code == "ValidationException" and "must be DISABLED or ENABLE_FAILED" in message
    code, message = code_of(ddb.update_kinesis_streaming_destination, TableName=table, StreamArn=arn,
                            UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MILLISECOND"})
    assert code == "ValidationException" and "Precision is already set to the desired value of MILLISECOND" in message
    assert [d["DestinationStatus"] for d in destinations(ddb, table)] == ["ACTIVE", "ENABLE_FAILED", "ENABLE_FAILED"]


# -- the records -----------------------------------------------------------------------------------
def test_each_change_is_one_record_in_the_kinesis_format(local_cloud, ddb, kinesis):
    table = new_table(ddb)
    stream, arn = new_stream(kinesis)
    enable(ddb, table, arn)
    t0 = time.time()
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}, "tags": {"SS": ["x"]}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}, "tags": {"SS": ["x"]}})  # unchanged
    ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET n = n + :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "9"}}, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        ddb.update_item(TableName=table, Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :nine",
                        ConditionExpression="n = :zero", ExpressionAttributeValues={":nine": {"N": "9"}, ":zero": {"N": "0"}})
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}}, ConditionExpression="n = :zero",
                        ExpressionAttributeValues={":zero": {"N": "0"}})
    ddb.update_item(TableName=table, Key={"pk": {"S": "new"}}, UpdateExpression="SET n = :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})  # creates the item: one INSERT
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "never-there"}})  # deletes nothing: no record
    t1 = time.time()

    records = changes(local_cloud, kinesis, stream)
    items = by_item(records)
    assert set(items) == {key("a"), key("new")}
    a = items[key("a")]
    assert [r["eventName"] for r in a] == ["INSERT", "MODIFY", "MODIFY", "REMOVE"]
    image1 = {"pk": {"S": "a"}, "n": {"N": "1"}, "tags": {"SS": ["x"]}}
    image2 = {"pk": {"S": "a"}, "n": {"N": "2"}, "tags": {"SS": ["x"]}}
    assert [(r["dynamodb"].get("OldImage"), r["dynamodb"].get("NewImage")) for r in a] == [
        (None, image1), (image1, image1), (image1, image2), (image2, None)]
    [created] = items[key("new")]
    assert (created["eventName"], created["dynamodb"]["NewImage"]) == ("INSERT", {"pk": {"S": "new"}, "n": {"N": "1"}})
    for r in records:
        assert set(r) == {"awsRegion", "eventID", "eventName", "userIdentity", "recordFormat", "tableName",
                          "dynamodb", "eventSource", "_partition_key"}
        assert (r["awsRegion"], r["userIdentity"], r["recordFormat"], r["tableName"], r["eventSource"]) == (
            "us-east-1", None, "application/json", table, "aws:dynamodb")
        assert uuid.UUID(r["eventID"])
        assert int(t0 * 1000) - 1 <= r["dynamodb"]["ApproximateCreationDateTime"] <= int(t1 * 1000) + 1  # ms
        assert "ApproximateCreationDateTimePrecision" not in r["dynamodb"]
        assert r["dynamodb"]["SizeBytes"] > 0
    assert len({r["eventID"] for r in records}) == len(records)
    assert len({r["_partition_key"] for r in a}) == 1  # one item, one partition key, one shard


def test_batch_write_and_transactions(local_cloud, ddb, kinesis):
    table = new_table(ddb, range_key=True)
    stream, arn = new_stream(kinesis, shards=3)
    enable(ddb, table, arn)
    ddb.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {"pk": {"S": f"p{i % 5}"}, "sk": {"S": f"s{i}"}, "v": {"N": str(i)}}}} for i in range(25)]})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": "t"}, "sk": {"S": "new"}}}},
        {"Update": {"TableName": table, "Key": {"pk": {"S": "p0"}, "sk": {"S": "s0"}},
                    "UpdateExpression": "SET v = :v", "ExpressionAttributeValues": {":v": {"N": "100"}}}},
        {"Delete": {"TableName": table, "Key": {"pk": {"S": "p1"}, "sk": {"S": "s1"}}}},
        {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "p2"}, "sk": {"S": "s2"}},
                            "ConditionExpression": "attribute_exists(pk)"}},
    ])
    with pytest.raises(ClientError, match="TransactionCanceled"):  # cancelled: none of it happens
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "t"}, "sk": {"S": "cancelled"}}}},
            {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "p3"}, "sk": {"S": "s3"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    items = by_item(changes(local_cloud, kinesis, stream))
    assert len(items) == 26 and key("t", "cancelled") not in items
    for i in range(25):
        history = [r["eventName"] for r in items[key(f"p{i % 5}", f"s{i}")]]
        assert history == {0: ["INSERT", "MODIFY"], 1: ["INSERT", "REMOVE"]}.get(i, ["INSERT"]), i
    assert items[key("p0", "s0")][1]["dynamodb"]["NewImage"]["v"] == {"N": "100"}
    assert items[key("p1", "s1")][1]["dynamodb"]["OldImage"]["v"] == {"N": "1"}
    assert [r["eventName"] for r in items[key("t", "new")]] == ["INSERT"]
    assert all(list(r["dynamodb"]["Keys"]) == ["pk", "sk"] for rs in items.values() for r in rs)


def test_partiql_writes_are_captured(local_cloud, ddb, kinesis):
    table = new_table(ddb)
    stream, arn = new_stream(kinesis, shards=1)
    enable(ddb, table, arn)
    ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'pk': 'q', 'n': 1}}")
    ddb.execute_statement(Statement=f"UPDATE \"{table}\" SET n = ? WHERE pk = ?", Parameters=[{"N": "2"}, {"S": "q"}])
    ddb.execute_statement(Statement=f"DELETE FROM \"{table}\" WHERE pk = 'q'")  # moto's parser: no ? here
    records = changes(local_cloud, kinesis, stream)
    assert [(r["eventName"], r["dynamodb"].get("NewImage", {}).get("n")) for r in records] == [
        ("INSERT", {"N": "1"}), ("MODIFY", {"N": "2"}), ("REMOVE", None)]


def test_precision_microsecond_then_millisecond(local_cloud, ddb, kinesis):
    table = new_table(ddb)
    stream, arn = new_stream(kinesis, shards=1)
    enable(ddb, table, arn, precision="MICROSECOND")
    t0 = time.time()
    ddb.put_item(TableName=table, Item={"pk": {"S": "u"}})
    t1 = time.time()
    ddb.update_kinesis_streaming_destination(
        TableName=table, StreamArn=arn, UpdateKinesisStreamingConfiguration={"ApproximateCreationDateTimePrecision": "MILLISECOND"})
    ddb.put_item(TableName=table, Item={"pk": {"S": "m"}})
    t2 = time.time()
    micro, milli = changes(local_cloud, kinesis, stream)
    assert micro["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MICROSECOND"
    assert int(t0 * 1e6) - 1000 <= micro["dynamodb"]["ApproximateCreationDateTime"] <= int(t1 * 1e6) + 1000
    assert "ApproximateCreationDateTimePrecision" not in milli["dynamodb"]
    assert int(t1 * 1e3) - 1 <= milli["dynamodb"]["ApproximateCreationDateTime"] <= int(t2 * 1e3) + 1


def test_concurrent_writers_every_change_once_in_commit_order(local_cloud, boto_session, ddb, kinesis):
    table = new_table(ddb)
    stream, arn = new_stream(kinesis, shards=4)
    enable(ddb, table, arn)
    threads, writes, items = 8, 500, 50
    clients = [boto_session.client("dynamodb") for _ in range(threads)]

    def writer(t: int) -> None:
        rng = random.Random(t)
        for _ in range(writes):
            clients[t].update_item(TableName=table, Key={"pk": {"S": f"item-{rng.randrange(items)}"}},
                                   UpdateExpression="ADD #c :one", ExpressionAttributeNames={"#c": "counter"},
                                   ExpressionAttributeValues={":one": {"N": "1"}})

    streams.run_writers(writer, threads)

    records = changes(local_cloud, kinesis, stream)
    assert len(records) == threads * writes
    final = {i["pk"]["S"]: int(i["counter"]["N"]) for i in ddb.scan(TableName=table)["Items"]}
    assert sum(final.values()) == threads * writes
    for item_key, history in by_item(records).items():
        counters = [int(r["dynamodb"]["NewImage"]["counter"]["N"]) for r in history]
        assert counters == list(range(1, len(counters) + 1)), item_key  # once each, in commit order
        assert counters[-1] == final[json.loads(item_key)["pk"]["S"]]
        assert [r["eventName"] for r in history] == ["INSERT"] + ["MODIFY"] * (len(history) - 1)
        olds = [r["dynamodb"].get("OldImage", {}).get("counter", {}).get("N") for r in history]
        assert olds == [None] + [str(c) for c in counters[:-1]]


def test_disable_stops_the_flow_and_deleting_the_table_forgets_it(local_cloud, ddb, kinesis):
    table = new_table(ddb)
    stream, arn = new_stream(kinesis, shards=1)
    ddb.put_item(TableName=table, Item={"pk": {"S": "before-enable"}})
    enable(ddb, table, arn)
    ddb.put_item(TableName=table, Item={"pk": {"S": "while-active"}})
    ddb.disable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    ddb.put_item(TableName=table, Item={"pk": {"S": "while-disabling"}})
    wait_status(ddb, table, arn, "DISABLED")
    ddb.put_item(TableName=table, Item={"pk": {"S": "after-disable"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in changes(local_cloud, kinesis, stream)] == ["while-active"]

    ddb.delete_table(TableName=table)
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    assert destinations(ddb, table) == []  # a re-created table starts without a destination


def test_a_deleted_stream_drops_changes_and_the_destination_stays_active(local_cloud, ddb, kinesis):
    table = new_table(ddb)
    stream, arn = new_stream(kinesis, shards=1)
    enable(ddb, table, arn)
    state_dir = local_cloud.record.state_dir
    lost_before = lifecycle.status(state_dir)["extensions"]["dynamodb_kinesis"]["records_undeliverable"]
    kinesis.delete_stream(StreamName=stream)
    ddb.put_item(TableName=table, Item={"pk": {"S": "nowhere"}})
    report = lifecycle.flush(local_cloud.endpoint, timeout=60)["dynamodb_kinesis"]
    assert report["records_undeliverable"] == lost_before + 1
    assert destinations(ddb, table)[0]["DestinationStatus"] == "ACTIVE"  # as on AWS


def test_status_lists_destinations_and_counts(local_cloud, ddb, kinesis):
    table = new_table(ddb)
    _stream, arn = new_stream(kinesis, shards=1)
    enable(ddb, table, arn)
    ddb.put_item(TableName=table, Item={"pk": {"S": "s"}})
    lifecycle.flush(local_cloud.endpoint, timeout=60)
    status = lifecycle.status(local_cloud.record.state_dir)["extensions"]["dynamodb_kinesis"]
    assert status["seams"] is True
    assert {"table": table, "region": "us-east-1", "StreamArn": arn, "DestinationStatus": "ACTIVE"} in status["destinations"]
    assert status["records_forwarded"] >= 1 and status["queue_depth"] == 0


# -- CloudFormation --------------------------------------------------------------------------------
TEMPLATE = {
    "Resources": {
        "Stream": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KinesisStreamSpecification": {"StreamArn": {"Fn::GetAtt": ["Stream", "Arn"]},
                                               "ApproximateCreationDateTimePrecision": "MICROSECOND"},
            },
        },
    },
    "Outputs": {"TableName": {"Value": {"Ref": "Table"}}, "StreamName": {"Value": {"Ref": "Stream"}}},
}


def test_template_enables_the_destination(local_cloud, boto_session, ddb, kinesis):
    cfn = boto_session.client("cloudformation")
    stack = unique("ddbk-stack")
    cfn.create_stack(StackName=stack, TemplateBody=json.dumps(TEMPLATE))
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
    table, stream = outputs["TableName"], outputs["StreamName"]
    [entry] = destinations(ddb, table)
    assert entry["DestinationStatus"] == "ACTIVE" and entry["ApproximateCreationDateTimePrecision"] == "MICROSECOND"
    ddb.put_item(TableName=table, Item={"pk": {"S": "from-template"}})
    [record] = changes(local_cloud, kinesis, stream)
    assert record["tableName"] == table and record["dynamodb"]["Keys"] == {"pk": {"S": "from-template"}}
    assert record["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MICROSECOND"

    # A stack update without the property turns the destination off; the table is updated in
    # place (its items stay) and gets the new index.
    changed = json.loads(json.dumps(TEMPLATE))
    properties = changed["Resources"]["Table"]["Properties"]
    del properties["KinesisStreamSpecification"]
    properties["AttributeDefinitions"].append({"AttributeName": "kind", "AttributeType": "S"})
    properties["GlobalSecondaryIndexes"] = [{"IndexName": "byKind", "KeySchema": [{"AttributeName": "kind", "KeyType": "HASH"}],
                                             "Projection": {"ProjectionType": "ALL"}}]
    cfn.update_stack(StackName=stack, TemplateBody=json.dumps(changed))
    cfn.get_waiter("stack_update_complete").wait(StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    assert [d["DestinationStatus"] for d in destinations(ddb, table)] == ["DISABLED"]
    description = ddb.describe_table(TableName=table)["Table"]
    assert [i["IndexName"] for i in description["GlobalSecondaryIndexes"]] == ["byKind"]
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "from-template"}}).get("Item")
    cfn.delete_stack(StackName=stack)
