"""The resource models the local cloud adds to moto's CloudFormation, and their errors.

A model speaks moto's CloudFormation model protocol (the classmethods `parsing.py` calls) and
does its work through moto's service backends, so a resource created by a stack is the same
object the service's API then returns.
"""
from __future__ import annotations

import copy
from typing import Any, ClassVar

from ..moto_backends import backend


class ResourceError(Exception):
    """A resource could not be created, updated or deleted; the message is its StatusReason."""


class UnsupportedResourceType(ResourceError):
    def __init__(self, resource_type: str):
        import moto

        super().__init__(
            f"Resource type {resource_type} is not supported by the local cloud (moto {moto.__version__} "
            "plus pipeline_lib.localcloud.cfn), so it cannot be created. Remove it from the template "
            "or add a model for it under pipeline_lib/localcloud/cfn/."
        )
        self.resource_type = resource_type


def reason_of(exc: BaseException) -> str:
    """A StatusReason for a failed resource operation, like CloudFormation's."""
    if isinstance(exc, ResourceError):
        return str(exc)
    code = getattr(exc, "error_type", None) or getattr(exc, "code", None)
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if isinstance(code, str) and code:
        return f'Resource handler returned message: "{message}" (HandlerErrorCode: {code})'
    return f'Resource handler returned message: "{type(exc).__name__}: {message}"'


def as_bool(value: Any, default: bool = False) -> bool:
    """A template boolean: JSON true/false or the strings "true"/"false" (any case)."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ResourceError(f"expected a boolean (true or false), got {value!r}")


class LocalResource:
    """Base of the local cloud's models. Subclasses set TYPE and implement create/update/remove.

    `update` changes the resource in place; properties listed in REPLACE_ON (and the name) need a
    new physical resource instead, which the base class handles by removing and recreating (names
    are given by the template, so the old one has to go first).
    """

    TYPE: ClassVar[str] = ""
    NAME_PROPERTY: ClassVar[str] = ""  # property that names the physical resource, if any
    ATTRIBUTES: ClassVar[frozenset[str]] = frozenset()
    REPLACE_ON: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        name: str,
        properties: dict[str, Any],
        account_id: str,
        region: str,
        logical_id: str = "",
        stack_id: str = "",
    ):
        self.name = name
        self.properties = copy.deepcopy(properties)
        self.account_id = account_id
        self.region = region
        self.logical_resource_id = logical_id
        self.stack_id = stack_id
        self.cf_resource_type = self.TYPE

    # -- what subclasses implement ---------------------------------------------------------------
    def create(self) -> None:
        raise NotImplementedError

    def update(self, properties: dict[str, Any]) -> None:
        """Change the resource in place to `properties` (self.properties still holds the old)."""
        raise NotImplementedError

    def remove(self) -> None:
        raise NotImplementedError

    def attribute(self, name: str) -> Any:
        raise NotImplementedError(name)

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def needs_replacement(self, new_properties: dict[str, Any]) -> bool:
        keys = (*self.REPLACE_ON, *((self.NAME_PROPERTY,) if self.NAME_PROPERTY else ()))
        return any(self.properties.get(k) != new_properties.get(k) for k in keys)

    def backend(self, service: str) -> Any:
        return backend(service, self.account_id, self.region)

    # -- moto's CloudFormation model protocol ---------------------------------------------------
    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kwargs: Any
    ) -> "LocalResource":
        resource = cls(
            resource_name,
            cloudformation_json.get("Properties") or {},
            account_id,
            region_name,
            logical_id=kwargs.get("LogicalId", ""),
            stack_id=kwargs.get("StackId", ""),
        )
        resource.create()
        return resource

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: "LocalResource",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "LocalResource":
        properties = cloudformation_json.get("Properties") or {}
        if original_resource.needs_replacement(properties):
            original_resource.remove()
            replacement = cls(
                new_resource_name,
                properties,
                account_id,
                region_name,
                logical_id=original_resource.logical_resource_id,
                stack_id=original_resource.stack_id,
            )
            replacement.create()
            return replacement
        original_resource.update(copy.deepcopy(properties))
        original_resource.properties = copy.deepcopy(properties)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        cls(resource_name, cloudformation_json.get("Properties") or {}, account_id, region_name).remove()

    def delete(self, account_id: str | None = None, region_name: str | None = None) -> None:
        self.remove()

    def is_created(self) -> bool:
        return True

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name not in self.ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return self.attribute(attribute_name)


class UnsupportedResource:
    """Stands for every type nobody models: creating (or updating) it fails, naming the type."""

    @classmethod
    def cloudformation_type(cls) -> str:
        return "?"

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return True  # the resource fails before any attribute is read

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict, account_id: str,
                                        region_name: str, **kwargs: Any) -> Any:
        raise UnsupportedResourceType(kwargs.get("ResourceType") or cloudformation_json.get("Type", "?"))

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict, account_id: str, region_name: str) -> Any:
        raise UnsupportedResourceType(cloudformation_json.get("Type", "?"))

    @classmethod
    def delete_from_cloudformation_json(cls, *args: Any) -> None:
        return None  # never created
