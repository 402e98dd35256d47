"""Sessions carry their backend: in ONE Python process, a local session reaches the local cloud
(boto3 and awswrangler alike) without touching os.environ, and an aws session made afterwards does
not reach it: with no credentials anywhere it fails with botocore's credentials error.

The process is a child with a scrubbed environment (no AWS_* variables, empty AWS config and
credentials files), so nothing of the developer's or of the test session's leaks in."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_lib.localcloud import lifecycle

pytestmark = pytest.mark.integration

SCRIPT = r"""
import json, os, sys
import botocore.exceptions

from pipeline_lib import backend, lake

state_dir, bucket = sys.argv[1], sys.argv[2]
report = {}
environ_before = dict(os.environ)
local = backend.connect("local", state_dir=state_dir)
report["local_account"] = local.client("sts").get_caller_identity()["Account"]
local.client("s3").create_bucket(Bucket=bucket)
local.client("s3").put_object(Bucket=bucket, Key="errors/processing-failed/e", Body=b'{"errorCode": "X"}\n')

import awswrangler as wr
report["wr_keys"] = wr.s3.list_objects(f"s3://{bucket}/", boto3_session=local)
# A library function without a session: the configured backend's (PIPELINE_BACKEND=local here).
report["default_errors"] = len(lake.error_records(bucket))
report["environ_changed"] = sorted({k for k, v in set(os.environ.items()) ^ set(environ_before.items())})

aws = backend.connect("aws")
report["aws_endpoint"] = backend.endpoint_url(aws)
report["aws_s3_url"] = aws.client("s3", region_name="us-east-1").meta.endpoint_url
try:
    aws.client("s3", region_name="us-east-1").list_buckets()
    report["aws_call"] = "answered"
except botocore.exceptions.NoCredentialsError as exc:
    report["aws_call"] = f"NoCredentialsError: {exc}"
os.environ["PIPELINE_BACKEND"] = "aws"
try:
    lake.error_records(bucket)
    report["default_aws_call"] = "answered"
except botocore.exceptions.NoCredentialsError as exc:
    report["default_aws_call"] = f"NoCredentialsError: {exc}"
print(json.dumps(report))
"""


def test_local_then_aws_in_one_process(local_cloud: lifecycle.Running, tmp_path: Path) -> None:
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "PIPELINE_STATE_DIR"}
    env.update({
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance role to find either
        "PIPELINE_BACKEND": "local",
        "PIPELINE_STATE_DIR": local_cloud.record.state_dir,  # backend.session()'s cloud: the test's
    })
    bucket = "sessions-carry-their-endpoint"
    result = subprocess.run([sys.executable, "-c", SCRIPT, local_cloud.record.state_dir, bucket],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])

    assert report["local_account"] == "123456789012"  # moto's account: the local cloud answered
    assert report["wr_keys"] == [f"s3://{bucket}/errors/processing-failed/e"]
    assert report["default_errors"] == 1
    assert report["environ_changed"] == [], "connect('local') changed os.environ"

    assert report["aws_endpoint"] is None
    assert report["aws_s3_url"] == "https://s3.amazonaws.com"
    assert report["aws_call"].startswith("NoCredentialsError: Unable to locate credentials")
    assert report["default_aws_call"].startswith("NoCredentialsError: Unable to locate credentials")
