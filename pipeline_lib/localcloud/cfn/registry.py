"""Which model creates a resource type: ours, moto's, or none (an error naming the type).

Seams (moto 5.2.5, checked at install):
- ``moto.cloudformation.parsing.resource_class_from_type``: our models first; Custom::* and
  AWS::CloudFormation::CustomResource to our providers (never moto's Docker-bound CustomModel);
  a type nobody models (or one moto only pretends to create) to UnsupportedResource, whose
  creation fails the stack with a StatusReason naming the type. moto used to skip those.
- ``moto.cloudformation.parsing.resource_name_property_from_type``: the property naming our types'
  physical resources (e.g. DeliveryStreamName), so template-given names are used.

Through the first seam, our wrappers also stand in for three types moto models incompletely:
AWS::S3::Bucket (s3.Bucket: the configuration moto drops), AWS::StepFunctions::StateMachine
(stepfunctions.py: the backend the API reads) and AWS::Lambda::LayerVersion (lambda_layer.py:
Ref). Some moto models create but cannot delete (moto silently does nothing); DELETERS does it
for the types our stacks use, and makes deleting a non-empty bucket fail as on AWS (moto's
backend returns without deleting).
"""
from __future__ import annotations

from typing import Any, Callable

from ..seam import SeamSet
from ..athena.cloudformation import WorkGroup
from .auto_delete import AutoDeleteObjects
from .base import ResourceError, UnsupportedResource, backend
from .bucket_deployment import BucketDeployment
from .firehose import DeliveryStream
from .glue import Crawler, Database, Table
from .lambda_backed import LambdaBackedResource
from .lambda_layer import LayerVersion
from .logs import LogStream
from .s3 import Bucket, BucketPolicy
from .stepfunctions import StateMachine

MODELS: dict[str, type] = {
    cls.TYPE: cls
    for cls in (DeliveryStream, Database, Table, Crawler, WorkGroup, LogStream, BucketPolicy, BucketDeployment,
                LayerVersion, StateMachine, Bucket, AutoDeleteObjects)
}
# Types moto answers for without creating anything.
PRETENDED = {
    "AWS::CloudFormation::WaitCondition",
    "AWS::CloudFormation::WaitConditionHandle",
}


def lookup(resource_type: str, moto_lookup: Callable[[str], Any]) -> Any:
    """The model class for `resource_type` (`moto_lookup` is moto's own lookup)."""
    if resource_type in MODELS:
        return MODELS[resource_type]
    if resource_type.startswith("Custom::") or resource_type == LambdaBackedResource.TYPE:
        return LambdaBackedResource
    if resource_type in PRETENDED:
        return UnsupportedResource
    return moto_lookup(resource_type) or UnsupportedResource


# -- deletes moto does not do (or does silently wrong) ------------------------------------------
def _delete_bucket(bucket: Any, account_id: str, region: str) -> None:
    s3 = backend("s3", account_id, region)
    name = bucket.name
    if name not in s3.buckets:
        return
    if s3.buckets[name].keys:
        raise ResourceError(f"The bucket you tried to delete is not empty (Bucket: {name}, Code: BucketNotEmpty)")
    s3.delete_bucket(name)


def _delete_layer_version(layer_version: Any, account_id: str, region: str) -> None:
    lambda_backend = backend("lambda", account_id, region)
    try:
        lambda_backend.delete_layer_version(layer_version.name, str(layer_version.version))
    except Exception as exc:  # already gone is gone
        if "not found" not in str(exc).lower() and "UnknownLayer" not in type(exc).__name__:
            raise


DELETERS: dict[str, Callable[[Any, str, str], None]] = {
    "AWS::S3::Bucket": _delete_bucket,
    "AWS::Lambda::LayerVersion": _delete_layer_version,
}


def declare(seams: SeamSet) -> None:
    from moto.cloudformation import parsing

    def make_lookup(moto_lookup: Any) -> Any:
        def resource_class_from_type(resource_type: str) -> Any:
            return lookup(resource_type, moto_lookup)

        return resource_class_from_type

    def make_name_property(moto_name_property: Any) -> Any:
        def resource_name_property_from_type(resource_type: str) -> str | None:
            if resource_type in MODELS:
                return MODELS[resource_type].cloudformation_name_type() or None
            return moto_name_property(resource_type)

        return resource_name_property_from_type

    seams.replace(parsing, "resource_class_from_type", ("resource_type",), make_lookup)
    seams.replace(parsing, "resource_name_property_from_type", ("resource_type",), make_name_property)
