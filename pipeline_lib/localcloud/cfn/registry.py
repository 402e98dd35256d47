"""Which model creates a resource type: a service package's, moto's, or none (an error naming the
type).

The models come from the service packages: each package's `cloudformation.py` lists its types in
`RESOURCE_TYPES`, and the cloud's extensions hand them over (`Extension.cloudformation_types`),
so a new service's types are registered by listing its extension in `cloud.EXTENSION_MODULES`.

Seams (moto 5.2.5, checked at install):
- ``moto.cloudformation.parsing.resource_class_from_type``: our models first; Custom::* and
  AWS::CloudFormation::CustomResource to our providers (never moto's Docker-bound CustomModel);
  a type nobody models (or one moto only pretends to create) to UnsupportedResource, whose
  creation fails the stack with a StatusReason naming the type. moto used to skip those.
- ``moto.cloudformation.parsing.resource_name_property_from_type``: the property naming our types'
  physical resources (e.g. DeliveryStreamName), so template-given names are used.

Through the first seam, service models also stand in for types moto models incompletely:
AWS::S3::Bucket (s3/cloudformation.py: the configuration moto drops),
AWS::StepFunctions::StateMachine (stepfunctions/cloudformation.py: the backend the API reads) and
AWS::Lambda::LayerVersion (lambda_runtime/cloudformation.py: Ref). Some moto models create but
cannot delete (moto silently does nothing); a model with a `delete_resource(resource, account_id,
region)` classmethod deletes its type instead (stack.delete_one calls it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ..seam import SeamSet
from .base import UnsupportedResource

if TYPE_CHECKING:
    from ..cloud import LocalCloud

# Types moto answers for without creating anything.
PRETENDED = {
    "AWS::CloudFormation::WaitCondition",
    "AWS::CloudFormation::WaitConditionHandle",
}


class Registry:
    """The resource types of one cloud: its extensions' models, and its custom-resource provider."""

    def __init__(self, cloud: "LocalCloud", custom_resource: type):
        self.cloud = cloud
        self.custom_resource = custom_resource
        self._models: dict[str, type] | None = None

    @property
    def models(self) -> dict[str, type]:
        """Type name -> model, from every extension of the cloud (read once, at first use: the
        extensions are all made by then)."""
        if self._models is None:
            models: dict[str, type] = {}
            for ext in self.cloud.extensions:
                for model in ext.cloudformation_types():
                    if model.TYPE in models:
                        raise RuntimeError(f"{model.TYPE} is modelled twice: by {models[model.TYPE].__module__} "
                                           f"and {model.__module__}")
                    models[model.TYPE] = model
            self._models = models
        return self._models

    def lookup(self, resource_type: str, moto_lookup: Callable[[str], Any]) -> Any:
        """The model class for `resource_type` (`moto_lookup` is moto's own lookup)."""
        if resource_type in self.models:
            return self.models[resource_type]
        if resource_type.startswith("Custom::") or resource_type == self.custom_resource.TYPE:
            return self.custom_resource
        if resource_type in PRETENDED:
            return UnsupportedResource
        return moto_lookup(resource_type) or UnsupportedResource


def declare(seams: SeamSet, registry: Registry) -> None:
    from moto.cloudformation import parsing

    def make_lookup(moto_lookup: Any) -> Any:
        def resource_class_from_type(resource_type: str) -> Any:
            return registry.lookup(resource_type, moto_lookup)

        return resource_class_from_type

    def make_name_property(moto_name_property: Any) -> Any:
        def resource_name_property_from_type(resource_type: str) -> str | None:
            if resource_type in registry.models:
                return registry.models[resource_type].cloudformation_name_type() or None
            return moto_name_property(resource_type)

        return resource_name_property_from_type

    seams.replace(parsing, "resource_class_from_type", ("resource_type",), make_lookup)
    seams.replace(parsing, "resource_name_property_from_type", ("resource_type",), make_name_property)
