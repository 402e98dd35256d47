"""Lambda functions really run in the local cloud (through boto3, against the shared cloud)."""
from __future__ import annotations

import base64
import io
import json
import time
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pipeline_lib.localcloud.lifecycle import pid_alive
from polling import absent_as_none, wait_for  # tests/polling.py

pytestmark = pytest.mark.integration

TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
})

HANDLER = '''
import json, os, time
import boto3

def handler(event, context):
    print("computing", json.dumps(event))
    if event.get("raise"):
        raise ValueError("no good: " + event["raise"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    result = {
        "sum": sum(event.get("numbers", [])),
        "pid": os.getpid(),
        "greeting": os.environ.get("GREETING"),
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "log_group": context.log_group_name,
    }
    if event.get("bucket"):
        s3 = boto3.client("s3")
        listed = s3.list_objects_v2(Bucket=event["bucket"]).get("Contents", [])
        result["keys"] = [o["Key"] for o in listed]
        if event.get("write"):
            s3.put_object(Bucket=event["bucket"], Key=event["write"], Body=b"written by lambda")
    return result
'''


def package(source: str, module: str = "app") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{module}.py", source)
    return buffer.getvalue()


ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def role(boto_session) -> str:
    iam = boto_session.client("iam")
    name = f"lambda-runtime-test-{uuid.uuid4().hex[:8]}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    # These tests are about the runtime, not IAM (which the cloud enforces): the functions may do anything.
    iam.put_role_policy(RoleName=name, PolicyName="test-anything", PolicyDocument=ALLOW_ALL)
    return arn


@pytest.fixture(scope="module")
def bucket(boto_session) -> str:
    name = f"lambda-runtime-test-{uuid.uuid4().hex[:8]}"
    s3 = boto_session.client("s3")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="seen-by-the-function.txt", Body=b"hello")
    return name


@pytest.fixture(scope="module")
def lam(boto_session):
    return boto_session.client("lambda")


def create(lam, role: str, source: str = HANDLER, *, runtime: str = "python3.12", timeout: int = 5,
           env: dict[str, str] | None = None, code: dict[str, Any] | None = None, handler: str = "app.handler") -> str:
    name = f"fn-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name, Runtime=runtime, Role=role, Handler=handler, Timeout=timeout, MemorySize=256,
        Code=code or {"ZipFile": package(source)}, Environment={"Variables": env or {"GREETING": "hej"}},
    )
    return name


def invoke(lam, name: str, event: dict[str, Any], **kwargs: Any) -> tuple[dict[str, Any], Any]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    return response, json.loads(response["Payload"].read())


def test_zip_function_computes_sees_its_environment_and_reaches_the_local_cloud(lam, role, bucket):
    name = create(lam, role)
    response, result = invoke(lam, name, {"numbers": [1, 2, 39], "bucket": bucket})

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert result["sum"] == 42
    assert result["greeting"] == "hej"
    assert result["keys"] == ["seen-by-the-function.txt"]  # boto3 inside the function reached us
    assert result["function_name"] == name
    assert result["memory"] == "256"
    assert result["arn"] == lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    assert result["log_group"] == f"/aws/lambda/{name}"
    assert 0 < result["remaining_ms"] <= 5000
    uuid.UUID(result["request_id"])


def test_function_from_s3_code_runs(lam, role, bucket, boto_session):
    key = f"code/{uuid.uuid4().hex}.zip"
    boto_session.client("s3").put_object(Bucket=bucket, Key=key, Body=package(HANDLER))
    name = create(lam, role, code={"S3Bucket": bucket, "S3Key": key})

    _, result = invoke(lam, name, {"numbers": [5, 6]})

    assert result["sum"] == 11


def test_worker_stays_warm_between_invocations(lam, role):
    name = create(lam, role)
    _, first = invoke(lam, name, {})
    _, second = invoke(lam, name, {})
    assert first["pid"] == second["pid"]
    assert first["request_id"] != second["request_id"]


def test_event_invocation_runs_in_the_background(lam, role, bucket, boto_session):
    name = create(lam, role)
    key = f"async/{uuid.uuid4().hex}.txt"
    response = lam.invoke(FunctionName=name, InvocationType="Event",
                          Payload=json.dumps({"bucket": bucket, "write": key}).encode())
    assert response["StatusCode"] == 202

    s3 = boto_session.client("s3")
    body = wait_for(absent_as_none(lambda: s3.get_object(Bucket=bucket, Key=key)["Body"].read(),
                                   s3.exceptions.NoSuchKey),
                    lambda found: found is not None, timeout=15, what=f"s3://{bucket}/{key} written by the function")
    assert body == b"written by lambda"


def test_handler_exception_comes_back_as_lambda_reports_it(lam, role):
    name = create(lam, role)
    response, error = invoke(lam, name, {"raise": "boom"})

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "no good: boom"
    assert any('app.py", line' in frame and "in handler" in frame for frame in error["stackTrace"])
    # The worker survives a handled exception.
    _, ok = invoke(lam, name, {"numbers": [1]})
    assert ok["sum"] == 1


def test_timeout_is_enforced_and_the_next_call_works(lam, role):
    name = create(lam, role, timeout=1)
    _, warm = invoke(lam, name, {})
    started = time.monotonic()
    response, error = invoke(lam, name, {"sleep": 30})
    elapsed = time.monotonic() - started

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Error: Task timed out after 1.00 seconds")
    assert elapsed < 5
    _, after = invoke(lam, name, {"numbers": [2, 2]})
    assert after["sum"] == 4
    assert after["pid"] != warm["pid"]  # the timed-out worker was killed; a fresh one answered


def test_update_function_code_and_configuration_take_effect(lam, role):
    name = create(lam, role)
    _, before = invoke(lam, name, {"numbers": [1, 2]})
    assert before["sum"] == 3

    lam.update_function_code(FunctionName=name, ZipFile=package("def handler(event, context):\n    return 'v2'\n"))
    assert invoke(lam, name, {})[1] == "v2"

    lam.update_function_code(FunctionName=name, ZipFile=package(HANDLER))
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "hallo"}})
    assert invoke(lam, name, {})[1]["greeting"] == "hallo"


def test_log_tail_and_cloudwatch_logs(lam, role, boto_session):
    name = create(lam, role)
    response = lam.invoke(FunctionName=name, LogType="Tail", Payload=b'{"numbers": [7]}')
    tail = base64.b64decode(response["LogResult"]).decode()

    lines = tail.splitlines()
    assert lines[0].startswith("START RequestId: ") and lines[0].endswith("Version: $LATEST")
    assert 'computing {"numbers": [7]}' in lines
    assert lines[-2].startswith("END RequestId: ")
    assert lines[-1].startswith("REPORT RequestId: ") and "\tDuration: " in lines[-1]
    assert "LogResult" not in lam.invoke(FunctionName=name, Payload=b"{}")  # only when asked for

    events = boto_session.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert 'computing {"numbers": [7]}' in [e["message"] for e in events]


def test_a_nodejs_function_says_only_python_runs(lam, role):
    name = create(lam, role, "exports.handler = async () => 1;", runtime="nodejs20.x", handler="index.handler")
    response, error = invoke(lam, name, {})

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.Unsupported"
    assert "Python functions only" in error["errorMessage"] and "nodejs20.x" in error["errorMessage"]


def test_a_handler_that_cannot_be_imported(lam, role):
    name = create(lam, role, "import not_a_module_anywhere\n")
    response, error = invoke(lam, name, {})

    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'not_a_module_anywhere'" in error["errorMessage"]


def test_parallel_invocations_all_succeed(lam, role):
    name = create(lam, role)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: invoke(lam, name, {"numbers": [n, 1]})[1], range(8)))

    assert [r["sum"] for r in results] == [n + 1 for n in range(8)]
    assert 1 <= len({r["pid"] for r in results}) <= 4  # at most 4 workers per function


def test_deleting_a_function_retires_its_workers(lam, role):
    name = create(lam, role)
    _, result = invoke(lam, name, {})
    assert pid_alive(result["pid"])

    lam.delete_function(FunctionName=name)

    assert not pid_alive(result["pid"])
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName=name, Payload=b"{}")


def test_invalid_json_payload_is_refused(lam, role):
    name = create(lam, role)
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName=name, Payload=b"{not json")
