"""A function's LoggingConfig: kept and answered as Lambda does (API and CloudFormation), and its
log group is where the function's logs really go (the deployed stack's functions too)."""
from __future__ import annotations

import base64
import io
import json
import uuid
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.integration

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})
HANDLER = '''
import os

def handler(event, context):
    print("marker", event["marker"])
    return {"log_group": context.log_group_name, "env_group": os.environ["AWS_LAMBDA_LOG_GROUP_NAME"],
            "log_stream": context.log_stream_name}
'''


def _package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def role(boto_session) -> str:
    iam = boto_session.client("iam")
    name = f"lambda-logging-{uuid.uuid4().hex[:8]}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    # These tests are about logging, not IAM (which the cloud enforces): the functions may do anything.
    iam.put_role_policy(RoleName=name, PolicyName="test-anything", PolicyDocument=ALLOW_ALL)
    return arn


@pytest.fixture(scope="module")
def lam(boto_session):
    return boto_session.client("lambda")


@pytest.fixture(scope="module")
def logs(boto_session):
    return boto_session.client("logs")


def _create(lam, role: str, **kwargs: Any) -> str:
    name = f"logfn-{uuid.uuid4().hex[:10]}"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                        Code={"ZipFile": _package()}, **kwargs)
    return name


def _run(lam, name: str) -> tuple[dict[str, Any], str]:
    """Invoke with a unique marker; the handler's answer and the marker it printed."""
    marker = uuid.uuid4().hex
    response = lam.invoke(FunctionName=name, Payload=json.dumps({"marker": marker}).encode())
    assert "FunctionError" not in response
    return json.loads(response["Payload"].read()), f"marker {marker}"


def _messages(logs, group: str) -> list[str]:
    return [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]


def _group_exists(logs, group: str) -> bool:
    return any(g["logGroupName"] == group for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"])


def test_a_custom_log_group_is_kept_answered_and_receives_the_logs(lam, role, logs):
    group = f"/workbench/tests/{uuid.uuid4().hex[:8]}"  # does not exist yet: Lambda creates it
    name = _create(lam, role, LoggingConfig={"LogGroup": group, "LogFormat": "Text"})
    expected = {"LogFormat": "Text", "LogGroup": group}
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"] == expected
    assert lam.get_function(FunctionName=name)["Configuration"]["LoggingConfig"] == expected
    listed = [f for f in lam.list_functions()["Functions"] if f["FunctionName"] == name]
    assert listed[0]["LoggingConfig"] == expected

    answer, printed = _run(lam, name)

    assert answer["log_group"] == answer["env_group"] == group
    assert printed in _messages(logs, group)
    # A group several functions may share: the stream names the function.
    assert f"/{name}[$LATEST]" in answer["log_stream"]
    streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    assert [s["logStreamName"] for s in streams] == [answer["log_stream"]]
    assert not _group_exists(logs, f"/aws/lambda/{name}")


def test_a_default_function_answers_and_uses_aws_lambda_name(lam, role, logs):
    name = _create(lam, role)
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"] == {
        "LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}

    answer, printed = _run(lam, name)

    assert answer["log_group"] == f"/aws/lambda/{name}"
    assert "]" in answer["log_stream"] and f"/{name}[" not in answer["log_stream"]
    assert printed in _messages(logs, f"/aws/lambda/{name}")


def test_a_missing_group_under_reserved_aws_prefix_is_not_created(lam, role, logs):
    group = f"aws/workbench-{uuid.uuid4().hex[:8]}"  # Lambda may not create these: the logs go nowhere
    name = _create(lam, role, LoggingConfig={"LogGroup": group})
    answer, _ = _run(lam, name)  # the invocation itself is unaffected
    assert answer["log_group"] == group
    assert not _group_exists(logs, group) and not _group_exists(logs, f"/aws/lambda/{name}")


def test_updating_the_log_group_moves_the_next_invocations_logs(lam, role, logs):
    name = _create(lam, role)
    _, before = _run(lam, name)  # a warm worker of the old configuration exists now
    group = f"/workbench/tests/{uuid.uuid4().hex[:8]}"
    logs.create_log_group(logGroupName=group)

    updated = lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogGroup": group})

    assert updated["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": group}
    answer, after = _run(lam, name)
    assert answer["log_group"] == group
    assert after in _messages(logs, group) and before not in _messages(logs, group)
    assert after not in _messages(logs, f"/aws/lambda/{name}")
    as_json = lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "JSON"})["LoggingConfig"]
    assert as_json == {"LogFormat": "JSON", "LogGroup": group, "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO"}


def test_refused_logging_configs_change_nothing(lam, role):
    with pytest.raises(ClientError) as raised:
        _create(lam, role, LoggingConfig={"LogFormat": "Text", "ApplicationLogLevel": "DEBUG"})
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert 'LogFormat is set to "Text"' in raised.value.response["Error"]["Message"]

    name = _create(lam, role, Timeout=7)
    with pytest.raises(ClientError) as raised:
        lam.update_function_configuration(FunctionName=name, Timeout=9, LoggingConfig={"LogFormat": "XML"})
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    configuration = lam.get_function_configuration(FunctionName=name)
    assert configuration["Timeout"] == 7 and configuration["LoggingConfig"]["LogFormat"] == "Text"


def _stack_template(role: str, code: dict[str, str], group: str, logging: dict[str, Any] | None) -> str:
    function: dict[str, Any] = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "python3.12", "Handler": "app.handler", "Role": role, "Code": code},
    }
    if logging is not None:
        function["Properties"]["LoggingConfig"] = logging
    logs = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": group}}
    return json.dumps({"Resources": {"Logs": logs, "Fn": function},
                       "Outputs": {"Fn": {"Value": {"Ref": "Fn"}}, "Logs": {"Value": {"Ref": "Logs"}}}})


def test_cloudformation_keeps_the_templates_logging_config(lam, role, logs, boto_session):
    cf, s3 = boto_session.client("cloudformation"), boto_session.client("s3")
    uid = uuid.uuid4().hex[:8]
    stack, bucket, group = f"lambda-logging-{uid}", f"lambda-logging-{uid}", f"/workbench/stack/{uid}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="code.zip", Body=_package())
    code = {"S3Bucket": bucket, "S3Key": "code.zip"}
    cf.create_stack(StackName=stack, TemplateBody=_stack_template(
        role, code, group, {"LogGroup": {"Ref": "Logs"}, "LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"}))
    described = cf.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE", described
    out = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}

    assert lam.get_function_configuration(FunctionName=out["Fn"])["LoggingConfig"] == {
        "LogFormat": "JSON", "LogGroup": out["Logs"], "ApplicationLogLevel": "DEBUG", "SystemLogLevel": "INFO"}
    answer, printed = _run(lam, out["Fn"])
    assert out["Logs"] == group and answer["log_group"] == group
    assert printed in _messages(logs, group)

    # The template is the whole desired state: without LoggingConfig the function is back to the default.
    cf.update_stack(StackName=stack, TemplateBody=_stack_template(role, code, group, None))
    updated = cf.describe_stacks(StackName=stack)["Stacks"][0]
    assert updated["StackStatus"] == "UPDATE_COMPLETE", cf.describe_stack_events(StackName=stack)["StackEvents"][:4]
    assert lam.get_function_configuration(FunctionName=out["Fn"])["LoggingConfig"] == {
        "LogFormat": "Text", "LogGroup": f"/aws/lambda/{out['Fn']}"}
    cf.delete_stack(StackName=stack)


def test_the_deployed_enricher_logs_to_the_stacks_log_group(deployed_stack, boto_session, lam, logs):
    from pipeline_lib import deploy

    cf = boto_session.client("cloudformation")
    name = deployed_stack["EnricherFunctionName"]
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"]
                for page in cf.get_paginator("list_stack_resources").paginate(StackName=deploy.STACK_NAME)
                for r in page["StackResourceSummaries"]}
    template = cf.get_template(StackName=deploy.STACK_NAME)["TemplateBody"]
    template = json.loads(template) if isinstance(template, str) else template
    logical = next(k for k, v in physical.items() if v == name)
    declared = template["Resources"][logical]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert template["Resources"][declared]["Type"] == "AWS::Logs::LogGroup"
    group = physical[declared]
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"]["LogGroup"] == group

    invocation = str(uuid.uuid4())
    change = {"eventName": "INSERT", "eventID": str(uuid.uuid4()), "awsRegion": "us-east-1",
              "eventSource": "aws:dynamodb", "recordFormat": "application/json", "tableName": "t", "userIdentity": None,
              "dynamodb": {"ApproximateCreationDateTime": 1767213000000,
                           "Keys": {"PK": {"S": "CUSTOMER#c-1"}, "SK": {"S": "PROFILE"}},
                           "NewImage": {"PK": {"S": "CUSTOMER#c-1"}, "SK": {"S": "PROFILE"},
                                        "createdAt": {"S": "2026-01-01T00:00:00.000Z"}}, "SizeBytes": 60}}
    event = {"invocationId": invocation, "region": "us-east-1",
             "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/tests",
             "records": [{"recordId": "1", "approximateArrivalTimestamp": 1767213000000,
                          "data": base64.b64encode(json.dumps(change).encode()).decode()}]}
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    assert "FunctionError" not in response, response["Payload"].read()

    lines = [json.loads(m) for m in _messages(logs, group) if m.startswith("{") and invocation in m]
    assert [(line["message"], line["records"]) for line in lines] == [("batch transformed", 1)]
    assert not _group_exists(logs, f"/aws/lambda/{name}")
