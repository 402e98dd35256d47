"""What `cdk bootstrap` leaves in an account (the assets bucket, the version parameter), and the
publication of the assets into it."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.exceptions import ClientError

from .assets import BOOTSTRAP_QUALIFIER, Upload, assets_bucket, zip_directory

BOOTSTRAP_VERSION_PARAMETER = f"/cdk-bootstrap/{BOOTSTRAP_QUALIFIER}/version"
# The version `cdk bootstrap` records; the template's CheckBootstrapVersion rule wants >= 6.
BOOTSTRAP_VERSION = "30"


def bootstrap(session: boto3.Session, account: str, region: str) -> str:
    """The assets bucket and the bootstrap version parameter, as `cdk bootstrap` leaves them."""
    s3 = session.client("s3")
    bucket = assets_bucket(account, region)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
    ssm = session.client("ssm")
    try:
        ssm.get_parameter(Name=BOOTSTRAP_VERSION_PARAMETER)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ParameterNotFound":
            raise
        ssm.put_parameter(Name=BOOTSTRAP_VERSION_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String")
    return bucket


def publish(session: boto3.Session, planned: list[Upload], say: Callable[[str], None] = lambda _m: None) -> int:
    """Upload what is not there yet (keys are content hashes, so present means the same);
    return how many objects were uploaded."""
    s3 = session.client("s3")
    uploaded = 0
    for upload in planned:
        try:
            s3.head_object(Bucket=upload.bucket, Key=upload.key)
            continue
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
        if upload.zip_directory:
            with tempfile.TemporaryDirectory() as tmp:
                s3.upload_file(str(zip_directory(upload.source, Path(tmp) / "asset.zip")), upload.bucket, upload.key)
        else:
            s3.upload_file(str(upload.source), upload.bucket, upload.key)
        uploaded += 1
        say(f"  published s3://{upload.bucket}/{upload.key}")
    return uploaded
