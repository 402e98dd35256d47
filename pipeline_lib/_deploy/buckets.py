"""Empty a stack's buckets before it is deleted (they are RemovalPolicy.DESTROY without CDK's
auto-delete custom resource)."""
from __future__ import annotations

from typing import Any, Callable

from botocore.exceptions import ClientError

from .errors import DeployError


def stack_resources(cfn: Any, stack: str) -> list[dict[str, Any]]:
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack)
    return [r for page in pages for r in page["StackResourceSummaries"]]


def stack_buckets(resources: list[dict[str, Any]]) -> list[str]:
    """The physical names of the buckets among a stack's resources."""
    return [
        r["PhysicalResourceId"]
        for r in resources
        if r["ResourceType"] == "AWS::S3::Bucket" and r.get("PhysicalResourceId")
    ]


def emptying_order(s3: Any, buckets: list[str]) -> list[str]:
    """Buckets that receive others' server access logs last: emptying a logged bucket makes S3
    write log objects into its target."""
    targets = set()
    for bucket in buckets:
        try:
            target = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled", {}).get("TargetBucket")
        except ClientError:
            continue
        if target:
            targets.add(target)
    return [b for b in buckets if b not in targets] + [b for b in buckets if b in targets]


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker (so a versioned bucket is empty too)."""
    deleted = 0
    try:
        pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0
        raise
    for page in pages:
        batch = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(batch), 1000):
            chunk = batch[start:start + 1000]
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise DeployError(f"emptying {bucket}: {first.get('Key')}: {first.get('Code')} {first.get('Message')}")
            deleted += len(chunk)
    return deleted


def empty_buckets(s3: Any, buckets: list[str], say: Callable[[str], None]) -> None:
    """Empty `buckets`, log targets last (see emptying_order)."""
    for bucket in emptying_order(s3, buckets):
        count = empty_bucket(s3, bucket)
        if count:
            say(f"  emptied s3://{bucket} ({count} objects)")
