"""Custom::S3AutoDeleteObjects (a bucket's `autoDeleteObjects: true`), provided natively.

CDK's handler runs on Node.js, which the local Lambda runtime does not run. It empties the bucket
(every object version) when the resource is deleted, but only when the bucket carries the tag
`aws-cdk:auto-delete-objects=true` (so a bucket the stack no longer manages is left alone), and
empties the old bucket when an update changes BucketName. A bucket already gone is fine.
"""
from __future__ import annotations

import uuid
from typing import Any

from ..cfn.base import ResourceError
from ..cfn.custom import CustomResource

TAG = "aws-cdk:auto-delete-objects"


class AutoDeleteObjects(CustomResource):
    TYPE = "Custom::S3AutoDeleteObjects"

    def handle(self, request_type: str, properties: dict[str, Any], old_properties: dict[str, Any],
               physical_id: str) -> tuple[str, dict[str, Any]]:
        if request_type == "Create":
            return str(uuid.uuid4()), {}
        if request_type == "Update":
            old, new = old_properties.get("BucketName"), properties.get("BucketName")
            if old and new and old != new:
                self._empty(old)
            return physical_id, {}
        self._empty(properties.get("BucketName"))
        return physical_id, {}

    def _empty(self, bucket: str | None) -> None:
        if not bucket:
            raise ResourceError("No BucketName was provided.")
        s3 = self.backend("s3")
        if bucket not in s3.buckets:
            return
        tags = s3.get_bucket_tagging(bucket).get("Tags", [])
        if not any(t["Key"] == TAG and t["Value"] == "true" for t in tags):
            return
        for name, versions in list(s3.buckets[bucket].keys.iterlists()):
            for version in list(versions):
                s3.delete_object(bucket, name, version_id=getattr(version, "version_id", None), bypass=True)
