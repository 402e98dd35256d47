"""The S3 seams: bucket policies that S3 evaluates as AWS does.

moto stores a bucket policy and checks object requests against it, but ignores conditions in a
way that turns CDK's `enforceSSL` statement (Deny s3:* when aws:SecureTransport is false) into
"deny everything". The seam below evaluates the policy properly (policy.py), with the local
cloud's request context: it answers on loopback only, so requests count as secure transport.

Seams (moto 5.2.5, checked at install):
- ``moto.s3.models.FakeBucket.get_permission(action, resource)``: the decision for an object
  request; returns moto's PermissionResult.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..seam import SeamSet
from . import policy

if TYPE_CHECKING:
    from ..cloud import LocalCloud

# What the local cloud knows about every request it answers.
REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


def build_seams(cloud: "LocalCloud | None" = None) -> SeamSet:
    """The S3 seams (no per-cloud state: `cloud` is unused)."""
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket, FakeKey

    from .. import moto_backends

    seams = SeamSet("s3")

    def make(_moto_get_permission: Any) -> Any:
        def get_permission(bucket: FakeBucket, action: str, resource: str) -> PermissionResult:
            if bucket.policy is None:
                return PermissionResult.NEUTRAL
            raw = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
            decision = policy.evaluate(json.loads(raw), action, resource, REQUEST_CONTEXT)
            if decision == policy.DENY:
                return PermissionResult.DENIED
            if decision == policy.ALLOW:
                return PermissionResult.PERMITTED
            return PermissionResult.NEUTRAL

        return get_permission

    seams.replace(FakeBucket, "get_permission", ("self", "action", "resource"), make)
    # Read by the CloudFormation models and the crawler.
    seams.reads(FakeBucket, "policy", "keys", "name")
    # Called by the CloudFormation models (cloudformation.py, bucket_deployment.py, auto_delete.py).
    from moto.s3.models import S3Backend

    seams.reads(S3Backend, "buckets")
    for name in ("get_bucket", "delete_bucket", "put_bucket_policy", "delete_bucket_policy", "put_bucket_versioning",
                 "put_public_access_block", "delete_public_access_block", "put_bucket_ownership_controls",
                 "delete_bucket_ownership_controls", "put_bucket_lifecycle", "delete_bucket_lifecycle",
                 "get_bucket_tagging", "get_object", "put_object", "delete_object"):
        seams.expect(S3Backend, name)
    seams.reads(FakeKey, "size", "last_modified")
    moto_backends.declare(seams)
    return seams
