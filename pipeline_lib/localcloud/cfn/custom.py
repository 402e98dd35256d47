"""Custom resources: the provider protocol (Create / Update / Delete with a physical id and Data)
and the base of the providers written for CDK's own custom resources.

A provider answers like a custom-resource handler: `handle(request_type, properties,
old_properties, physical_id) -> (physical_id, data)`, or raises ResourceError with the reason the
stack shows. CloudFormation hands custom resources their properties as strings (booleans become
"true"/"false", numbers their digits); `stringified` does the same.
"""
from __future__ import annotations

import copy
from typing import Any

from .base import LocalResource, ResourceError


def stringified(value: Any) -> Any:
    """Properties as CloudFormation sends them to a custom resource: every scalar a string."""
    if isinstance(value, dict):
        return {k: stringified(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringified(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return value
    return str(value)


class CustomResource(LocalResource):
    """A custom resource whose provider runs in the local cloud. Ref: the provider's physical id;
    GetAtt: any key of the Data it returned."""

    def __init__(self, name: str, properties: dict[str, Any], *args: Any, **kwargs: Any):
        super().__init__(name, properties, *args, **kwargs)
        self.physical_id = ""
        self.data: dict[str, Any] = {}

    # -- what providers implement ----------------------------------------------------------------
    def handle(self, request_type: str, properties: dict[str, Any], old_properties: dict[str, Any],
               physical_id: str) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    # -- the protocol ----------------------------------------------------------------------------
    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True  # Data is known only once the provider answered

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    def _request(self, request_type: str, properties: dict[str, Any], old: dict[str, Any]) -> None:
        if "ServiceToken" not in properties:
            raise ResourceError(f"{self.cf_resource_type} needs the property ServiceToken")
        physical_id, data = self.handle(
            request_type, stringified(properties), stringified(old), self.physical_id
        )
        if not physical_id:
            raise ResourceError(f"the {self.cf_resource_type} provider returned no PhysicalResourceId")
        self.physical_id, self.data = physical_id, dict(data or {})

    def create(self) -> None:
        self._request("Create", self.properties, {})

    def needs_replacement(self, new_properties: dict[str, Any]) -> bool:
        return False  # the provider decides, by answering with a new physical id

    def update(self, properties: dict[str, Any]) -> None:
        if properties.get("ServiceToken") != self.properties.get("ServiceToken"):
            raise ResourceError("Modifying service token is not allowed.")
        old_id = self.physical_id
        self._request("Update", properties, copy.deepcopy(self.properties))
        if self.physical_id != old_id:
            # A new physical id means a new resource: CloudFormation deletes the old one after.
            replaced = copy.copy(self)
            replaced.physical_id = old_id
            replaced.remove()

    def remove(self) -> None:
        if self.physical_id:
            self.handle("Delete", stringified(self.properties), {}, self.physical_id)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.data:
            raise ResourceError(
                f"CustomResource attribute error: Vendor response doesn't contain {attribute_name} key "
                f"in object {self.stack_id}|{self.logical_resource_id}"
            )
        return self.data[attribute_name]
