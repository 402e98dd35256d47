"""Template property values checked and typed against the service API's input shapes (botocore).

CloudFormation accepts "64" for an integer and "true" for a boolean, and refuses a property the
type does not have; the API (and so moto's backend) wants real ints and bools. `conform` does that
translation with the same service model boto3 uses, so a resource reads back exactly as AWS would
return it.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, Shape, StructureShape

from .base import ResourceError


@lru_cache(maxsize=None)
def _service_model(service: str):
    return botocore.session.get_session().get_service_model(service)


def input_member(service: str, operation: str, member: str) -> Shape:
    """The shape of one input member of an API operation, e.g. ("firehose", "CreateDeliveryStream",
    "ExtendedS3DestinationConfiguration")."""
    shape = _service_model(service).operation_model(operation).input_shape
    try:
        return shape.members[member]
    except KeyError:
        raise KeyError(f"{service} {operation} has no input member {member}") from None


def shape_named(service: str, name: str) -> Shape:
    return _service_model(service).shape_for(name)


def conform(value: Any, shape: Shape, path: str) -> Any:
    """`value` typed as `shape` requires; unknown structure members raise ResourceError naming `path`."""
    if value is None:
        return None
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            raise ResourceError(f"Property {path} must be an object, got {value!r}")
        out = {}
        for key, item in value.items():
            if key not in shape.members:
                raise ResourceError(f"Encountered unsupported property {path}.{key}")
            out[key] = conform(item, shape.members[key], f"{path}.{key}")
        return out
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            raise ResourceError(f"Property {path} must be a list, got {value!r}")
        return [conform(item, shape.member, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            raise ResourceError(f"Property {path} must be an object, got {value!r}")
        return {str(k): conform(v, shape.value, f"{path}.{k}") for k, v in value.items()}
    return _scalar(value, shape.type_name, path)


def _scalar(value: Any, type_name: str, path: str) -> Any:
    try:
        if type_name in ("integer", "long"):
            if isinstance(value, bool):
                raise ValueError
            number = float(value) if isinstance(value, str) and "." in value else value
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            return int(number)
        if type_name in ("double", "float"):
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if type_name == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("true", "false"):
                raise ValueError
            return text == "true"
        if type_name == "string":
            if isinstance(value, (dict, list)):
                raise ValueError
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
    except (TypeError, ValueError):
        raise ResourceError(f"Value of property {path} must be of type {type_name}, got {value!r}") from None
    return value  # timestamps and blobs pass through as given
