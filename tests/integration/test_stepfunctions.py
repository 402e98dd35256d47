"""Step Functions executions run in the local cloud: Lambda tasks run real code, aws-sdk:glue
tasks reach Glue (through boto3, against the shared cloud)."""
from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import pytest
from polling import wait_for  # tests/polling.py

pytestmark = pytest.mark.integration

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                   "Action": "sts:AssumeRole"}],
})

# Names the database the next state creates; fails on request, as a Lambda task can.
NAMER = '''
def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("told to fail: " + event["table"])
    return {"database": event["table"].lower() + "_" + context.function_name.split("-")[-1]}
'''


def package(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def role(boto_session) -> str:
    name = f"sfn-test-{uuid.uuid4().hex[:8]}"
    iam = boto_session.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    # These tests are about the interpreter, not IAM (which the cloud enforces): the tasks may do anything.
    iam.put_role_policy(RoleName=name, PolicyName="test-anything", PolicyDocument=ALLOW_ALL)
    return arn


@pytest.fixture(scope="module")
def namer(boto_session, role) -> str:
    name = f"namer-{uuid.uuid4().hex[:8]}"
    return boto_session.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": package(NAMER)},
    )["FunctionArn"]


@pytest.fixture(scope="module")
def sfn(boto_session):
    return boto_session.client("stepfunctions")


def state_machine(sfn, role: str, definition: dict[str, Any]) -> str:
    return sfn.create_state_machine(name=f"sm-{uuid.uuid4().hex[:10]}", definition=json.dumps(definition),
                                    roleArn=role)["stateMachineArn"]


def run(sfn, machine: str, execution_input: dict[str, Any], timeout: float = 20) -> dict[str, Any]:
    """Start an execution (unnamed, as the pipeline does) and wait for it to end."""
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))["executionArn"]
    return wait_for(lambda: sfn.describe_execution(executionArn=arn), lambda d: d["status"] != "RUNNING",
                    timeout=timeout, what=f"execution {arn} ended")


def lambda_then_glue(namer: str) -> dict[str, Any]:
    return {
        "StartAt": "Name",
        "States": {
            "Name": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": namer, "Payload.$": "$"},
                "ResultSelector": {"database.$": "$.Payload.database"},
                "Next": "Create",
            },
            "Create": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:glue:createDatabase",
                "Parameters": {"DatabaseInput": {"Name.$": "$.database", "Description": "made by a state machine"}},
                "ResultPath": None,
                "Next": "Read",
            },
            "Read": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:glue:getDatabase",
                "Parameters": {"Name.$": "$.database"},
                "End": True,
            },
        },
    }


def test_lambda_task_feeds_glue_tasks(sfn, role, namer, boto_session):
    machine = state_machine(sfn, role, lambda_then_glue(namer))

    first = run(sfn, machine, {"table": "Orders"})
    second = run(sfn, machine, {"table": "Customers"})  # a second unnamed execution is fine too

    suffix = namer.rsplit("-", 1)[-1]
    assert first["status"] == "SUCCEEDED", first
    output = json.loads(first["output"])
    assert output["Database"]["Name"] == f"orders_{suffix}"
    assert output["Database"]["Description"] == "made by a state machine"
    assert output["Database"]["CreateTime"].endswith("Z")  # timestamps as Step Functions writes them
    assert second["status"] == "SUCCEEDED", second
    glue = boto_session.client("glue")
    assert glue.get_database(Name=f"customers_{suffix}")["Database"]["Description"] == "made by a state machine"


def test_a_failing_lambda_fails_the_execution_with_its_error(sfn, role, namer):
    machine = state_machine(sfn, role, lambda_then_glue(namer))

    described = run(sfn, machine, {"table": "Orders", "fail": True})

    assert described["status"] == "FAILED"
    assert described["error"] == "RuntimeError"
    cause = json.loads(described["cause"])
    assert cause["errorMessage"] == "told to fail: Orders"
    assert cause["errorType"] == "RuntimeError"


def test_glue_crawler_tasks(sfn, role, boto_session):
    glue = boto_session.client("glue")
    s3 = boto_session.client("s3")
    bucket = f"sfn-crawl-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    database, crawler = f"db_{uuid.uuid4().hex[:8]}", f"crawler-{uuid.uuid4().hex[:8]}"
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_crawler(Name=crawler, Role=role, DatabaseName=database,
                        Targets={"S3Targets": [{"Path": f"s3://{bucket}/lake/"}]})
    machine = state_machine(sfn, role, {
        "StartAt": "Start",
        "States": {
            "Start": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler",
                      "Parameters": {"Name.$": "$.crawler"}, "ResultPath": None, "Next": "Get"},
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                    "Parameters": {"Name.$": "$.crawler"},
                    "ResultSelector": {"name.$": "$.Crawler.Name", "state.$": "$.Crawler.State"}, "End": True},
        },
    })

    described = run(sfn, machine, {"crawler": crawler})

    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["name"] == crawler
    assert output["state"] in {"RUNNING", "STOPPING", "READY"}
    # The crawl was really started in Glue, not only reported.
    crawler_now = glue.get_crawler(Name=crawler)["Crawler"]
    assert crawler_now["State"] != "READY" or "LastCrawl" in crawler_now


def test_an_unknown_glue_resource_fails_with_glue_s_error(sfn, role):
    machine = state_machine(sfn, role, {
        "StartAt": "Get",
        "States": {"Get": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
                           "Parameters": {"Name": "no-such-crawler"}, "End": True}},
    })

    described = run(sfn, machine, {})

    assert described["status"] == "FAILED"
    assert described["error"] == "Glue.EntityNotFoundException"  # what a Retry/Catch would name
    assert "Service: Glue" in described["cause"]
