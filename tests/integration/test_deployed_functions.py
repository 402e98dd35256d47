"""The deployed seeder and enricher run their real code when invoked through the Lambda API."""
from __future__ import annotations

import base64
import json
import uuid

import pytest

from pipeline_lib import data

pytestmark = pytest.mark.integration


def invoke(lam, name: str, event: dict) -> tuple[dict, str | None]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def test_deployed_seeder_writes_items_to_dynamodb(deployed_stack, boto_session) -> None:
    # A table of the test's own, so the stack's lake sees none of these writes.
    ddb = boto_session.client("dynamodb")
    table = f"seeder-target-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}, {"AttributeName": "SK", "AttributeType": "S"}])
    items = list(data.generate_items(60, seed=11))
    key = f"tests/{table}.jsonl"
    boto_session.client("s3").put_object(
        Bucket=deployed_stack["RawBucketName"], Key=key,
        Body="".join(json.dumps(request) + "\n" for request in items).encode(),
    )

    # The seeder's role reads only the stack's data set and writes only the stack's table (least
    # privilege, enforced as on AWS): the test grants it its own object and table for the call.
    lam = boto_session.client("lambda")
    iam = boto_session.client("iam")
    role_name = lam.get_function_configuration(FunctionName=deployed_stack["SeederFunctionName"])["Role"].rsplit("/", 1)[-1]
    account = boto_session.client("sts").get_caller_identity()["Account"]
    grant = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{deployed_stack['RawBucketName']}/{key}"},
        {"Effect": "Allow", "Action": "dynamodb:BatchWriteItem",
         "Resource": f"arn:aws:dynamodb:{boto_session.region_name}:{account}:table/{table}"},
    ]}
    iam.put_role_policy(RoleName=role_name, PolicyName="TestSeederTarget", PolicyDocument=json.dumps(grant))
    try:
        result, error = invoke(lam, deployed_stack["SeederFunctionName"],
                               {"bucket": deployed_stack["RawBucketName"], "keys": [key], "tableName": table})
    finally:
        iam.delete_role_policy(RoleName=role_name, PolicyName="TestSeederTarget")

    assert error is None, result
    assert result["written"] == 60 and result["puts"] == 60 and result["deletes"] == 0
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 60


def test_deployed_seeder_reports_a_missing_object_like_lambda(deployed_stack, boto_session) -> None:
    result, error = invoke(boto_session.client("lambda"), deployed_stack["SeederFunctionName"],
                           {"bucket": deployed_stack["RawBucketName"], "keys": ["tests/does-not-exist.jsonl"],
                            "tableName": "irrelevant"})
    assert error == "Unhandled"
    assert result["errorType"] and result["errorMessage"] and isinstance(result["stackTrace"], list)


def test_deployed_enricher_returns_partition_keys(deployed_stack, boto_session) -> None:
    image = {"PK": {"S": "CUSTOMER#c-1"}, "SK": {"S": "PROFILE"}, "entityType": {"S": "customer"},
             "customerId": {"S": "c-1"}, "createdAt": {"S": "2026-01-01T01:30:00.000+05:00"}}
    change = {"awsRegion": "us-east-1", "eventID": str(uuid.uuid4()), "eventName": "INSERT", "userIdentity": None,
              "recordFormat": "application/json", "tableName": "t", "eventSource": "aws:dynamodb",
              "dynamodb": {"ApproximateCreationDateTime": 1767213000000, "Keys": {"PK": image["PK"], "SK": image["SK"]},
                           "NewImage": image, "SizeBytes": 120}}
    event = {"invocationId": str(uuid.uuid4()), "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/x",
             "region": "us-east-1", "records": [
                 {"recordId": "1", "approximateArrivalTimestamp": 1767213000000, "data": base64.b64encode(json.dumps(change).encode()).decode()},
                 {"recordId": "2", "approximateArrivalTimestamp": 1767213000000, "data": base64.b64encode(b"not json").decode()},
             ]}

    result, error = invoke(boto_session.client("lambda"), deployed_stack["EnricherFunctionName"], event)

    assert error is None, result
    ok, failed = result["records"]
    assert ok["recordId"] == "1" and ok["result"] == "Ok"
    # 01:30 at +05:00 is the previous day in UTC.
    assert ok["metadata"]["partitionKeys"] == {"year": "2025", "month": "12", "day": "31"}
    row = json.loads(base64.b64decode(ok["data"]))
    assert row["customer_id"] == "c-1" and "PK" not in row and row["cdc_operation"] == "INSERT"
    assert failed == {"recordId": "2", "result": "ProcessingFailed", "data": event["records"][1]["data"]}
