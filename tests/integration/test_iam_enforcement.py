"""IAM enforced for the deployed stack's service roles, as AWS enforces it.

Each test takes one permission away from a role of the deployed CdcWorkbench stack (through the
IAM API, as one would on AWS), makes the pipeline do what needs it, checks the failure AWS shows
(its error codes and texts are written here from the AWS documentation and service output, never
read from the code under test), and puts the policy back. The stack as shipped passing with
enforcement on is shown by the rest of the suite (the data plane and flow tests run under it).
"""
from __future__ import annotations

import copy
import json
import random
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from pipeline_lib import data, lake
from pipeline_lib.localcloud import lifecycle
from polling import wait_for  # tests/polling.py

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"
REGION = "us-east-1"


# -- helpers ------------------------------------------------------------------------------------
def delivery(boto_session, stack: dict[str, str]) -> dict[str, Any]:
    description = boto_session.client("firehose").describe_delivery_stream(
        DeliveryStreamName=stack["DeliveryStreamName"])["DeliveryStreamDescription"]
    return description["Destinations"][0]["ExtendedS3DestinationDescription"]


def role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    """The policy with `action` taken out of every statement (statements left empty go)."""
    out = copy.deepcopy(document)
    kept = []
    for statement in out["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        actions = [a for a in actions if a != action]
        if actions:
            statement["Action"] = actions
            kept.append(statement)
    out["Statement"] = kept
    return out


@contextmanager
def permission_removed(boto_session, role: str, action: str) -> Iterator[None]:
    """`action` out of every inline policy of `role` (put-role-policy), restored afterwards."""
    iam = boto_session.client("iam")
    originals = {name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                 for name in iam.list_role_policies(RoleName=role)["PolicyNames"]}
    assert any(action in json.dumps(doc) for doc in originals.values()), f"{role} has no {action} to take away"
    try:
        for name, doc in originals.items():
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(without(doc, action)))
        yield
    finally:
        for name, doc in originals.items():
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(doc))


def tagged_items(count: int, tag: str, day: date) -> list[dict[str, Any]]:
    """Generated items with customer ids of this test only and createdAt on `day`."""
    out = []
    for request in data.generate_items(count, seed=7):
        item = copy.deepcopy(request["PutRequest"]["Item"])
        item["PK"]["S"] = item["PK"]["S"].replace("#c-", f"#c-{tag}-", 1)
        item["customerId"]["S"] = item["customerId"]["S"].replace("c-", f"c-{tag}-", 1)
        stamp = f"{day.isoformat()}T12:00:00.000Z"
        item["createdAt"]["S"] = stamp
        out.append({"PutRequest": {"Item": item}})
        if len(out) == count:
            break
    return out


def write(boto_session, stack: dict[str, str], requests: list[dict[str, Any]]) -> None:
    result = data.seed_file([json.dumps(r) for r in requests], stack["TableName"], progress=False,
                            boto3_session=boto_session)
    assert (result.written, result.failed) == (len(requests), 0)


def mine(tag: str):
    def where(record: dict) -> bool:
        change = lake.raw_change(record) or {}
        return change.get("dynamodb", {}).get("Keys", {}).get("PK", {}).get("S", "").startswith(f"CUSTOMER#c-{tag}-")
    return where


def lake_count(boto_session, stack: dict[str, str], tag: str) -> int:
    import pyarrow.compute as pc

    total = 0
    for obj in lake.parquet_objects(stack["LakeBucketName"], stack["LakePrefix"], ["customer_id"],
                                    boto3_session=boto_session):
        total += int(pc.sum(pc.starts_with(obj.table["customer_id"], f"c-{tag}-")).as_py() or 0)
    return total


def a_far_day() -> date:
    """A day no other test writes (before 2262: the lake's timestamps are nanoseconds)."""
    return date(2100, 1, 1) + timedelta(days=random.Random(uuid.uuid4().int).randrange(365 * 150))


# -- Firehose -------------------------------------------------------------------------------------
def test_firehose_without_lambda_invoke_writes_invoke_access_denied_records(deployed_stack, boto_session, local_cloud):
    destination = delivery(boto_session, deployed_stack)
    processor = destination["ProcessingConfiguration"]["Processors"][0]
    retries = int(next((p["ParameterValue"] for p in processor["Parameters"] if p["ParameterName"] == "NumberOfRetries"), 3))
    tag = uuid.uuid4().hex[:10]
    requests = tagged_items(4, tag, a_far_day())

    with permission_removed(boto_session, role_name(destination["RoleARN"]), "lambda:InvokeFunction"):
        write(boto_session, deployed_stack, requests)
        report = lifecycle.flush(local_cloud.endpoint, timeout=120)
        assert report["firehose"][deployed_stack["DeliveryStreamName"]]["flushed"]

    errors = lake.error_records(deployed_stack["LakeBucketName"], deployed_stack["ErrorPrefix"], mine(tag),
                                boto3_session=boto_session)
    assert len(errors) == len(requests)
    for record in errors:
        # The code and text Firehose writes when its role may not invoke the function.
        assert record["errorCode"] == "Lambda.InvokeAccessDenied"
        assert record["errorMessage"] == "Access was denied. Ensure that the access policy allows access to the Lambda function."
        assert record["attemptsMade"] == retries + 1
    assert lake_count(boto_session, deployed_stack, tag) == 0


def test_firehose_without_glue_get_table_versions_fails_conversion(deployed_stack, boto_session, local_cloud):
    destination = delivery(boto_session, deployed_stack)
    tag = uuid.uuid4().hex[:10]
    requests = tagged_items(3, tag, a_far_day())

    with permission_removed(boto_session, role_name(destination["RoleARN"]), "glue:GetTableVersions"):
        write(boto_session, deployed_stack, requests)
        report = lifecycle.flush(local_cloud.endpoint, timeout=120)
        assert report["firehose"][deployed_stack["DeliveryStreamName"]]["flushed"]

    errors = lake.error_records(deployed_stack["LakeBucketName"], deployed_stack["ErrorPrefix"], mine(tag),
                                boto3_session=boto_session)
    assert len(errors) == len(requests)
    conversion = destination["DataFormatConversionConfiguration"]["SchemaConfiguration"]
    refused = (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(destination['RoleARN'])}/")
    for record in errors:
        # format-conversion-failed records carry lastErrorCode/lastErrorMessage and the table.
        assert record["lastErrorCode"] == "DataFormatConversion.AccessDenied"
        assert refused in record["lastErrorMessage"]
        assert (f"is not authorized to perform: glue:GetTableVersions on resource: arn:aws:glue:{REGION}:{ACCOUNT}:catalog "
                "because no identity-based policy allows the glue:GetTableVersions action") in record["lastErrorMessage"]
        assert record["dataCatalogTable"]["tableName"] == conversion["TableName"]
    assert lake_count(boto_session, deployed_stack, tag) == 0


def test_firehose_without_s3_put_object_holds_data_and_delivers_it_once_allowed(deployed_stack, boto_session, local_cloud):
    destination = delivery(boto_session, deployed_stack)
    logging_options = destination["CloudWatchLoggingOptions"]
    tag = uuid.uuid4().hex[:10]
    requests = tagged_items(5, tag, a_far_day())
    logs = boto_session.client("logs")

    with permission_removed(boto_session, role_name(destination["RoleARN"]), "s3:PutObject"):
        write(boto_session, deployed_stack, requests)
        report = lifecycle.flush(local_cloud.endpoint, timeout=3)
        assert not report["firehose"][deployed_stack["DeliveryStreamName"]]["flushed"]  # nothing can be written

        def s3_denials() -> list[str]:
            events = logs.get_log_events(logGroupName=logging_options["LogGroupName"],
                                         logStreamName=logging_options["LogStreamName"])["events"]
            return [e["message"] for e in events if e["message"].startswith("S3.AccessDenied")]

        messages = wait_for(s3_denials, timeout=30, what="S3.AccessDenied in the delivery stream's error log")
        assert messages[-1] == ("S3.AccessDenied: Access was denied. Ensure that the trust policy for the provided "
                                "IAM role allows Firehose to assume the role, and the access policy allows access "
                                "to the S3 bucket.")
        stats = boto_session.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/Firehose", MetricName="DeliveryToS3.Success",
            Dimensions=[{"Name": "DeliveryStreamName", "Value": deployed_stack["DeliveryStreamName"]}],
            StartTime=datetime.now(timezone.utc) - timedelta(minutes=10),
            EndTime=datetime.now(timezone.utc) + timedelta(minutes=1), Period=60, Statistics=["Minimum"])
        assert min(p["Minimum"] for p in stats["Datapoints"]) == 0
        assert lake_count(boto_session, deployed_stack, tag) == 0

    # Allowed again: what was held is delivered, once.
    report = lifecycle.flush(local_cloud.endpoint, timeout=120)
    assert report["firehose"][deployed_stack["DeliveryStreamName"]]["flushed"]
    assert lake_count(boto_session, deployed_stack, tag) == len(requests)


# -- Lambda function code runs with its execution role's credentials ------------------------------
def test_function_code_calls_with_its_execution_role(deployed_stack, boto_session):
    lam = boto_session.client("lambda")
    function = deployed_stack["SeederFunctionName"]
    role = lam.get_function_configuration(FunctionName=function)["Role"]
    key = f"tests/not-granted-{uuid.uuid4().hex[:8]}.jsonl"
    boto_session.client("s3").put_object(Bucket=deployed_stack["RawBucketName"], Key=key, Body=b"")

    response = lam.invoke(FunctionName=function, Payload=json.dumps(
        {"bucket": deployed_stack["RawBucketName"], "keys": [key], "tableName": deployed_stack["TableName"]}).encode())

    assert response.get("FunctionError") == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorMessage"] == (
        "An error occurred (AccessDenied) when calling the GetObject operation: "
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(role)}/{function} is not authorized to perform: "
        f"s3:GetObject on resource: \"arn:aws:s3:::{deployed_stack['RawBucketName']}/{key}\" "
        "because no identity-based policy allows the s3:GetObject action")


# -- the user's opt-in: calls with an assumed role's credentials ---------------------------------
def test_user_calls_are_unrestricted_unless_made_as_an_assumed_role(deployed_stack, boto_session):
    lam = boto_session.client("lambda")
    role_arn = lam.get_function_configuration(FunctionName=deployed_stack["SeederFunctionName"])["Role"]
    item = {"PK": {"S": f"IAM#{uuid.uuid4().hex}"}, "SK": {"S": "X"}}
    # The user's own (dummy) credentials: not restricted.
    boto_session.client("dynamodb").put_item(TableName=deployed_stack["TableName"], Item=item)

    credentials = boto_session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="me")["Credentials"]
    as_role = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"], region_name=boto_session.region_name)
    endpoint = boto_session.client("dynamodb").meta.endpoint_url
    ddb = as_role.client("dynamodb", endpoint_url=endpoint)
    with pytest.raises(ClientError) as refused:
        ddb.put_item(TableName=deployed_stack["TableName"], Item=item)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert refused.value.response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(role_arn)}/me is not authorized to perform: "
        f"dynamodb:PutItem on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{deployed_stack['TableName']} "
        "because no identity-based policy allows the dynamodb:PutItem action")
    # What the role is granted works with the same credentials.
    ddb.batch_write_item(RequestItems={deployed_stack["TableName"]: [{"DeleteRequest": {"Key": item}}]})


# -- the crawler ----------------------------------------------------------------------------------
def test_crawler_without_batch_create_partition_fails_the_crawl(deployed_stack, boto_session, local_cloud):
    glue = boto_session.client("glue")
    crawler = glue.get_crawler(Name=deployed_stack["CrawlerName"])["Crawler"]
    tag = uuid.uuid4().hex[:10]
    write(boto_session, deployed_stack, tagged_items(2, tag, a_far_day()))  # a new day: a new partition
    report = lifecycle.flush(local_cloud.endpoint, timeout=120)
    assert report["firehose"][deployed_stack["DeliveryStreamName"]]["flushed"]
    wait_for(lambda: glue.get_crawler(Name=crawler["Name"])["Crawler"]["State"] == "READY", timeout=120,
             what="the crawler idle")

    with permission_removed(boto_session, role_name(crawler["Role"]), "glue:BatchCreatePartition"):
        glue.start_crawler(Name=crawler["Name"])
        done = wait_for(lambda: glue.get_crawler(Name=crawler["Name"])["Crawler"],
                        lambda c: c["State"] == "READY" and c.get("LastCrawl", {}).get("Status") in ("SUCCEEDED", "FAILED", "CANCELLED"),
                        timeout=120, what="the crawl to end")
    assert done["LastCrawl"]["Status"] == "FAILED"
    assert done["LastCrawl"]["ErrorMessage"].startswith(
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(crawler['Role'])}/AWS-Crawler is not authorized to "
        f"perform: glue:BatchCreatePartition on resource: arn:aws:glue:{REGION}:{ACCOUNT}:catalog because no "
        "identity-based policy allows the glue:BatchCreatePartition action (Service: AWSGlue; Status Code: 400; "
        "Error Code: AccessDeniedException;")

    # Allowed again, the next crawl registers the partition.
    glue.start_crawler(Name=crawler["Name"])
    done = wait_for(lambda: glue.get_crawler(Name=crawler["Name"])["Crawler"],
                    lambda c: c["State"] == "READY" and c["LastCrawl"]["Status"] != "FAILED",
                    timeout=120, what="the crawl after the permission came back")
    assert done["LastCrawl"]["Status"] == "SUCCEEDED"


# -- trust policies and permissions boundaries ------------------------------------------------------
@contextmanager
def trust_changed(boto_session, role: str, service: str) -> Iterator[None]:
    """The role's trust policy naming `service` instead of what it named, restored afterwards."""
    iam = boto_session.client("iam")
    original = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(original, str):
        original = json.loads(original)
    other = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    try:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(other))
        yield
    finally:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(original))


@contextmanager
def boundary_set(boto_session, role: str, document: dict[str, Any]) -> Iterator[None]:
    iam = boto_session.client("iam")
    arn = iam.create_policy(PolicyName=f"boundary-{uuid.uuid4().hex[:8]}", PolicyDocument=json.dumps(document))["Policy"]["Arn"]
    try:
        iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=arn)
        yield
    finally:
        iam.delete_role_permissions_boundary(RoleName=role)
        iam.delete_policy(PolicyArn=arn)


def crawl(glue, name: str) -> dict[str, Any]:
    wait_for(lambda: glue.get_crawler(Name=name)["Crawler"]["State"] == "READY", timeout=120, what="the crawler idle")
    glue.start_crawler(Name=name)
    return wait_for(lambda: glue.get_crawler(Name=name)["Crawler"],
                    lambda c: c["State"] == "READY" and c.get("LastCrawl", {}).get("Status") in ("SUCCEEDED", "FAILED", "CANCELLED"),
                    timeout=120, what="the crawl to end")


def test_firehose_cannot_act_as_a_role_that_does_not_trust_it(deployed_stack, boto_session, local_cloud):
    """The stack's delivery role is also its Kinesis source role: a role Firehose may not assume
    reads nothing (the processor's Lambda.AssumeRoleAccessDenied is shown in the unit tests of
    role_access); once it trusts Firehose again, delivery resumes and nothing is lost."""
    destination = delivery(boto_session, deployed_stack)
    tag = uuid.uuid4().hex[:10]
    requests = tagged_items(3, tag, a_far_day())

    with trust_changed(boto_session, role_name(destination["RoleARN"]), "lambda.amazonaws.com"):
        write(boto_session, deployed_stack, requests)
        report = lifecycle.flush(local_cloud.endpoint, timeout=120)
        assert report["dynamodb_kinesis"]["drained"]  # the changes are in the stream
        assert lake_count(boto_session, deployed_stack, tag) == 0
        assert lake.error_records(deployed_stack["LakeBucketName"], deployed_stack["ErrorPrefix"], mine(tag),
                                  boto3_session=boto_session) == []
    wait_for(lambda: lake_count(boto_session, deployed_stack, tag), lambda n: n >= len(requests), timeout=120,
             what="the held records delivered once Firehose may assume the role")
    assert lifecycle.flush(local_cloud.endpoint, timeout=120)["firehose"][deployed_stack["DeliveryStreamName"]]["flushed"]
    assert lake_count(boto_session, deployed_stack, tag) == len(requests)


def test_a_crawler_role_that_does_not_trust_glue_fails_the_crawl(deployed_stack, boto_session):
    glue = boto_session.client("glue")
    crawler = glue.get_crawler(Name=deployed_stack["CrawlerName"])["Crawler"]
    with trust_changed(boto_session, role_name(crawler["Role"]), "lambda.amazonaws.com"):
        done = crawl(glue, crawler["Name"])
    assert done["LastCrawl"]["Status"] == "FAILED"
    assert done["LastCrawl"]["ErrorMessage"] == "Service is unable to assume provided role. Please verify role's TrustPolicy."
    assert crawl(glue, crawler["Name"])["LastCrawl"]["Status"] == "SUCCEEDED"  # trusted again


def test_a_permissions_boundary_caps_the_crawler_roles_policies(deployed_stack, boto_session, local_cloud):
    glue = boto_session.client("glue")
    crawler = glue.get_crawler(Name=deployed_stack["CrawlerName"])["Crawler"]
    tag = uuid.uuid4().hex[:10]
    write(boto_session, deployed_stack, tagged_items(2, tag, a_far_day()))  # a new day: a new partition
    assert lifecycle.flush(local_cloud.endpoint, timeout=120)["firehose"][deployed_stack["DeliveryStreamName"]]["flushed"]
    # Everything but creating partitions; the role's own policies still allow it.
    boundary = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "NotAction": "glue:BatchCreatePartition", "Resource": "*"}]}
    with boundary_set(boto_session, role_name(crawler["Role"]), boundary):
        done = crawl(glue, crawler["Name"])
    assert done["LastCrawl"]["Status"] == "FAILED"
    assert done["LastCrawl"]["ErrorMessage"].startswith(
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(crawler['Role'])}/AWS-Crawler is not authorized to "
        f"perform: glue:BatchCreatePartition on resource: arn:aws:glue:{REGION}:{ACCOUNT}:catalog because no "
        "permissions boundary allows the glue:BatchCreatePartition action (Service: AWSGlue; Status Code: 400; "
        "Error Code: AccessDeniedException;")
    assert crawl(glue, crawler["Name"])["LastCrawl"]["Status"] == "SUCCEEDED"  # boundary gone


# -- Step Functions -------------------------------------------------------------------------------
def test_state_machine_without_lambda_invoke_fails_its_task_as_aws(deployed_stack, boto_session):
    sfn = boto_session.client("stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=deployed_stack["StateMachineArn"])
    role = role_name(machine["roleArn"])

    with permission_removed(boto_session, role, "lambda:InvokeFunction"):
        execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=f"iam-{uuid.uuid4().hex[:8]}",
                                        input="{}")["executionArn"]
        done = wait_for(lambda: sfn.describe_execution(executionArn=execution),
                        lambda d: d["status"] != "RUNNING", timeout=120, what="the execution to end")
    assert done["status"] == "FAILED"
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    failed = [details for e in events if e["type"] in ("TaskFailed", "LambdaFunctionFailed")
              for key, details in e.items() if key.endswith("EventDetails") and "error" in details]
    assert failed, [e["type"] for e in events]
    details = failed[0]
    # Lambda's refusal is the task's failure cause (the error name is the interpreter's: not checked).
    assert (f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/" in details["cause"]
            and "is not authorized to perform: lambda:InvokeFunction on resource: "
                f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{deployed_stack['SeederFunctionName']}" in details["cause"]
            and "because no identity-based policy allows the lambda:InvokeFunction action" in details["cause"])
