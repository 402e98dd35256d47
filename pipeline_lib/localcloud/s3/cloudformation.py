"""AWS::S3::Bucket's configuration and AWS::S3::BucketPolicy (the policy's evaluation is
seams.py's), plus CDK's bucket custom resources (bucket_deployment.py, auto_delete.py).

moto's bucket model applies only BucketEncryption and Tags; `Bucket` (wrapping it) also applies
VersioningConfiguration, PublicAccessBlockConfiguration, OwnershipControls, LoggingConfiguration
and LifecycleConfiguration, on create and update, through moto's S3 backend.

moto's model cannot delete a non-empty bucket as AWS refuses to (it returns without deleting):
`Bucket.delete_resource` does it, failing with BucketNotEmpty.
"""
from __future__ import annotations

import copy
import json
from typing import Any

from ..cfn.base import LocalResource, ResourceError
from ..moto_backends import backend
from .auto_delete import AutoDeleteObjects
from .bucket_deployment import BucketDeployment

class BucketPolicy(LocalResource):
    """Ref: a generated id (as AWS's). Bucket needs replacement; the document changes in place."""

    TYPE = "AWS::S3::BucketPolicy"
    REPLACE_ON = ("Bucket",)

    def _document(self, properties: dict[str, Any]) -> bytes:
        document = properties.get("PolicyDocument")
        if isinstance(document, str):
            try:
                document = json.loads(document)
            except ValueError as exc:
                raise ResourceError(f"PolicyDocument is not valid JSON ({exc})") from None
        if not isinstance(document, dict) or "Statement" not in document:
            raise ResourceError("PolicyDocument must be a policy object with a Statement")
        return json.dumps(document).encode()

    def _bucket(self) -> str:
        bucket = self.properties.get("Bucket")
        if not bucket:
            raise ResourceError(f"{self.TYPE} needs the property Bucket")
        return bucket

    def create(self) -> None:
        s3 = self.backend("s3")
        bucket = self._bucket()
        if bucket not in s3.buckets:
            raise ResourceError(f"bucket {bucket} does not exist")
        s3.put_bucket_policy(bucket, self._document(self.properties))

    def update(self, properties: dict[str, Any]) -> None:
        self.backend("s3").put_bucket_policy(self._bucket(), self._document(properties))

    def remove(self) -> None:
        s3 = self.backend("s3")
        if self.properties.get("Bucket") in s3.buckets:
            s3.delete_bucket_policy(self.properties["Bucket"])


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def lifecycle_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Template lifecycle rules in the S3 API's (XML) form, as moto's backend takes them."""
    out = []
    for rule in rules:
        api: dict[str, Any] = {"Status": rule.get("Status", "Enabled")}
        if "Id" in rule:
            api["ID"] = rule["Id"]
        conditions: dict[str, Any] = {}
        if rule.get("Prefix") is not None:
            conditions["Prefix"] = rule["Prefix"]
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters") or []]
        sizes = {k: _text(rule[k]) for k in ("ObjectSizeGreaterThan", "ObjectSizeLessThan") if k in rule}
        if len(tags) + len(sizes) + len(conditions) > 1:
            api["Filter"] = {"And": {**conditions, **sizes, **({"Tag": tags} if tags else {})}}
        elif tags:
            api["Filter"] = {"Tag": tags[0]}
        elif sizes:
            api["Filter"] = sizes
        else:
            api["Filter"] = {"Prefix": conditions.get("Prefix", "")}
        expiration = {}
        if "ExpirationInDays" in rule:
            expiration["Days"] = _text(rule["ExpirationInDays"])
        if "ExpirationDate" in rule:
            expiration["Date"] = rule["ExpirationDate"]
        if "ExpiredObjectDeleteMarker" in rule:
            expiration["ExpiredObjectDeleteMarker"] = _text(rule["ExpiredObjectDeleteMarker"])
        if expiration:
            api["Expiration"] = expiration
        if "AbortIncompleteMultipartUpload" in rule:
            api["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": _text(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])}
        noncurrent = rule.get("NoncurrentVersionExpiration") or (
            {"NoncurrentDays": rule["NoncurrentVersionExpirationInDays"]} if "NoncurrentVersionExpirationInDays" in rule else None)
        if noncurrent:
            api["NoncurrentVersionExpiration"] = {k: _text(v) for k, v in noncurrent.items()}
        transitions = list(rule.get("Transitions") or []) + ([rule["Transition"]] if "Transition" in rule else [])
        if transitions:
            api["Transition"] = [
                {"StorageClass": t["StorageClass"],
                 **({"Days": _text(t["TransitionInDays"])} if "TransitionInDays" in t else {}),
                 **({"Date": t["TransitionDate"]} if "TransitionDate" in t else {})}
                for t in transitions
            ]
        nv_transitions = list(rule.get("NoncurrentVersionTransitions") or []) + (
            [rule["NoncurrentVersionTransition"]] if "NoncurrentVersionTransition" in rule else [])
        if nv_transitions:
            api["NoncurrentVersionTransition"] = [
                {"StorageClass": t["StorageClass"], "NoncurrentDays": _text(t["TransitionInDays"]),
                 **({"NewerNoncurrentVersions": _text(t["NewerNoncurrentVersions"])} if "NewerNoncurrentVersions" in t else {})}
                for t in nv_transitions
            ]
        out.append(api)
    return out


def apply_configuration(account_id: str, region: str, name: str, properties: dict[str, Any],
                        previous: dict[str, Any] | None = None) -> None:
    """Bring bucket `name` to the template's configuration (what moto's model leaves out)."""
    s3 = backend("s3", account_id, region)
    bucket = s3.get_bucket(name)
    previous = previous or {}
    versioning = (properties.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        s3.put_bucket_versioning(name, versioning)
    elif previous.get("VersioningConfiguration") and bucket.versioning_status == "Enabled":
        s3.put_bucket_versioning(name, "Suspended")  # versioning cannot be switched off, only suspended
    block = properties.get("PublicAccessBlockConfiguration")
    if block:
        s3.put_public_access_block(name, {k: _text(v) for k, v in block.items()})
    elif previous.get("PublicAccessBlockConfiguration"):
        s3.delete_public_access_block(name)
    ownership = (properties.get("OwnershipControls") or {}).get("Rules") or []
    if ownership:
        s3.put_bucket_ownership_controls(name, ownership=ownership[0]["ObjectOwnership"])
    elif previous.get("OwnershipControls"):
        s3.delete_bucket_ownership_controls(name)
    logging_config = properties.get("LoggingConfiguration")
    if logging_config:
        target = logging_config.get("DestinationBucketName", name)
        if target not in s3.buckets:
            raise ResourceError(f"The target bucket for logging does not exist: {target}")
        # S3 delivers server access logs with the logging service's own permission (the target's
        # bucket policy); moto's stricter ACL/policy check at configuration time is not AWS's.
        bucket.logging = {"TargetBucket": target, "TargetPrefix": logging_config.get("LogFilePrefix", "")}
    elif previous.get("LoggingConfiguration"):
        bucket.logging = {}
    lifecycle = (properties.get("LifecycleConfiguration") or {}).get("Rules")
    if lifecycle:
        s3.put_bucket_lifecycle(name, lifecycle_rules(lifecycle))
    elif previous.get("LifecycleConfiguration"):
        s3.delete_bucket_lifecycle(name)


class Bucket:
    """AWS::S3::Bucket: moto's model, plus the configuration it leaves out (apply_configuration)."""

    TYPE = "AWS::S3::Bucket"

    @staticmethod
    def _moto() -> Any:
        from moto.s3.models import FakeBucket

        return FakeBucket

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return "BucketName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return cls._moto().has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        bucket = cls._moto().create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs)
        bucket.cfn_properties = copy.deepcopy(cloudformation_json.get("Properties") or {})
        apply_configuration(account_id, region_name, bucket.name, bucket.cfn_properties)
        return bucket

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        properties = cloudformation_json.get("Properties") or {}
        # moto's update reads BucketName when it tags; give it the bucket's name when the template does not.
        named = {**cloudformation_json, "Properties": {"BucketName": original_resource.name, **properties}}
        replaced = "BucketName" in properties and properties["BucketName"] != original_resource.name
        bucket = cls._moto().update_from_cloudformation_json(
            original_resource, new_resource_name, cloudformation_json if replaced else named, account_id, region_name)
        previous = {} if replaced else getattr(original_resource, "cfn_properties", {})
        apply_configuration(account_id, region_name, bucket.name, properties, previous)
        bucket.cfn_properties = copy.deepcopy(properties)
        return bucket

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        cls._moto().delete_from_cloudformation_json(resource_name, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_resource(cls, bucket: Any, account_id: str, region: str) -> None:
        """Delete as AWS does: moto's model returns without deleting a non-empty bucket."""
        s3 = backend("s3", account_id, region)
        name = bucket.name
        if name not in s3.buckets:
            return
        if s3.buckets[name].keys:
            raise ResourceError(f"The bucket you tried to delete is not empty (Bucket: {name}, Code: BucketNotEmpty)")
        s3.delete_bucket(name)


RESOURCE_TYPES = (Bucket, BucketPolicy, BucketDeployment, AutoDeleteObjects)
