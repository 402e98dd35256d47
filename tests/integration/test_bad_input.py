"""Bad input gets a clear error (AWS's own where AWS answers) and loses nothing else: Firehose's
1,000 KiB record limit, a Lambda response over the 6 MB synchronous limit (alone and as a Firehose
processor's answer), a local cloud that is not running, a CDK app that fails to synthesize.
The other bad inputs are tested where their code lives (see the module list in the report)."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from pipeline_lib import deploy
from pipeline_lib.localcloud import lifecycle

from test_firehose_engine import ROLE, create_function, error_lines, flush, objects, package

pytestmark = pytest.mark.integration

LIMIT = 1_024_000  # Firehose: 1,000 KiB per record before base64


def _too_big(where: str, size: int) -> str:
    return (f"Value 'java.nio.HeapByteBuffer[pos=0 lim={size} cap={size}]' at '{where}' failed to satisfy "
            f"constraint: Member must have length less than or equal to {LIMIT}")


@pytest.fixture(scope="module")
def direct_stream(local_cloud) -> tuple[str, str]:
    name, bucket = f"direct-{uuid.uuid4().hex[:8]}", f"direct-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}",
                                            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60}})
    return name, bucket


def test_records_over_1000_kib_are_refused_with_firehoses_message(local_cloud, direct_stream) -> None:
    name, bucket = direct_stream
    firehose = boto3.client("firehose")
    with pytest.raises(ClientError) as caught:
        firehose.put_record(DeliveryStreamName=name, Record={"Data": b"x" * (LIMIT + 1)})
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["Error"]["Message"] == "1 validation error detected: " + _too_big("record.data", LIMIT + 1)
    with pytest.raises(ClientError) as caught:
        firehose.put_record_batch(DeliveryStreamName=name, Records=[
            {"Data": b"ok\n"}, {"Data": b"y" * (LIMIT + 5)}, {"Data": b"z" * (LIMIT + 9)}])
    assert caught.value.response["Error"]["Message"] == (
        "2 validation errors detected: " + _too_big("records.2.member.data", LIMIT + 5) + "; "
        + _too_big("records.3.member.data", LIMIT + 9))
    # Exactly 1,000 KiB is accepted; the refused calls delivered nothing (the batch's good record neither).
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"a" * LIMIT})
    flush(local_cloud)
    assert [len(body) for body in objects(bucket).values()] == [LIMIT]


OVERSIZE = """
def handler(event, context):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": "QQ==" * 2_000_000}
                        for r in event.get("records", [])] or [{"padding": "x" * 7_000_000}]}
"""


def test_a_response_over_6_mb_is_lambdas_error_and_firehose_fails_the_records(local_cloud) -> None:
    name = f"oversize-{uuid.uuid4().hex[:8]}"
    arn = create_function(name, package(OVERSIZE), "handler.handler")
    answer = boto3.client("lambda").invoke(FunctionName=name, Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read()) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge"}

    stream, bucket = f"oversize-{uuid.uuid4().hex[:8]}", f"oversize-{uuid.uuid4().hex[:8]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName=stream, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}", "Prefix": "data/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": arn},
                {"ParameterName": "NumberOfRetries", "ParameterValue": "1"}]}]}})
    records = [f'{{"n": {i}}}'.encode() for i in range(3)]
    boto3.client("firehose").put_record_batch(DeliveryStreamName=stream, Records=[{"Data": r} for r in records])
    flush(local_cloud)
    failed = error_lines(bucket, "errors/processing-failed/")
    assert sorted(base64.b64decode(f["rawData"]) for f in failed) == sorted(records)  # nothing lost
    assert {f["errorCode"] for f in failed} == {"Lambda.FunctionError"}
    assert {f["errorMessage"] for f in failed} == {"Response payload size exceeded maximum allowed payload size (6291556 bytes)."}
    assert {f["attemptsMade"] for f in failed} == {2}
    assert not [k for k in objects(bucket) if k.startswith("data/")]


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline_lib", *args], capture_output=True, text=True, env=env, timeout=120)


def test_a_local_cloud_that_is_not_running_is_named_with_what_to_do(tmp_path: Path) -> None:
    with socket_bound() as port:  # a port nothing answers HTTP on
        env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
        done = _cli("local", "flush", env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"error: AWS_ENDPOINT_URL=http://127.0.0.1:{port} does not answer as a local cloud; unset it or run "
        "`python -m pipeline_lib local up`")
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    done = _cli("local", "faults", "show", "--state-dir", str(tmp_path / "none"), env=env)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: no local cloud is running; start one with `python -m pipeline_lib local up`")


class socket_bound:
    """A loopback port held by a listening socket that never answers."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


def test_a_cdk_app_that_fails_to_synthesize_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = tmp_path / "infra"
    app.mkdir()
    (app / "cdk.json").write_text(json.dumps({"app": "python app.py", "context": {}}))
    (app / "app.py").write_text("raise ValueError('the bucket name lake_BUCKET is not a valid bucket name')\n")
    monkeypatch.setenv(deploy.APP_DIR_VARIABLE, str(app))
    with pytest.raises(deploy.SynthError) as caught:
        deploy.synth(tmp_path / "out")
    message = str(caught.value)
    assert message.startswith(f"synthesizing {app} failed (exit 1):")
    assert message.rstrip().endswith("ValueError: the bucket name lake_BUCKET is not a valid bucket name")
    # The CLI prints it without a traceback of its own.
    done = _cli("synth", "--out", str(tmp_path / "out2"), env={**os.environ, deploy.APP_DIR_VARIABLE: str(app)})
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: synthesizing {app} failed (exit 1):")


@pytest.mark.parametrize(("region", "expected"), [
    ("us-east-1", "error: the aws backend found no usable AWS credentials (Unable to locate credentials). "
                  "Configure them (AWS_PROFILE, `aws configure`, `aws sso login`, or AWS_ACCESS_KEY_ID and "
                  "AWS_SECRET_ACCESS_KEY), or use the local backend (unset PIPELINE_BACKEND)."),
    (None, "error: the aws backend found no AWS region. Set AWS_REGION (or AWS_DEFAULT_REGION, or a region in "
           "your profile), or use the local backend (unset PIPELINE_BACKEND)."),
])
def test_the_aws_backend_without_credentials_or_region_says_what_to_configure(tmp_path: Path, region, expected) -> None:
    (tmp_path / "empty").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"PIPELINE_BACKEND": "aws", "AWS_CONFIG_FILE": str(tmp_path / "empty"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "empty"), "AWS_EC2_METADATA_DISABLED": "true"})
    if region:
        env["AWS_DEFAULT_REGION"] = region
    done = _cli("run", env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == expected
