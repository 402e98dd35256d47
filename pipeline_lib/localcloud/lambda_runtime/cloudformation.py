"""AWS::Lambda::LayerVersion: moto creates it, but its Ref gives the model object instead of the
layer version ARN (AWS's Ref), and it cannot delete it (`delete_resource` does). This wraps
moto's model so Ref (the physical id) is the ARN. Every property change is a new version."""
from __future__ import annotations

from typing import Any

TYPE = "AWS::Lambda::LayerVersion"


class LayerVersion:
    TYPE = TYPE

    @staticmethod
    def _moto() -> Any:
        from moto.awslambda.models import LayerVersion as MotoLayerVersion

        return MotoLayerVersion

    @classmethod
    def cloudformation_type(cls) -> str:
        return TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return "LayerName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False  # Ref only

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        layer_version = cls._moto().create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        layer_version.physical_resource_id = layer_version.arn
        return layer_version

    @classmethod
    def delete_resource(cls, layer_version: Any, account_id: str, region: str) -> None:
        """moto's model cannot delete a layer version: delete it in the Lambda backend."""
        from ..moto_backends import backend

        try:
            backend("lambda", account_id, region).delete_layer_version(layer_version.name, str(layer_version.version))
        except Exception as exc:  # already gone is gone
            if "not found" not in str(exc).lower() and "UnknownLayer" not in type(exc).__name__:
                raise


RESOURCE_TYPES = (LayerVersion,)
