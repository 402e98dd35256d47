"""The CloudFormation extension: the registry of every service's resource types, stack operations
that end as AWS's do, and Lambda-backed custom resources (see the package docstring)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..extension import Extension
from .lambda_backed import LambdaBackedResource, Responses
from .registry import Registry
from .seams import build_seams

if TYPE_CHECKING:
    from ..cloud import LocalCloud

RESPONSE_TIMEOUT = 60.0  # seconds a Lambda-backed custom resource may take to answer


class CfnExtension(Extension):
    name = "cfn"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.responses = Responses()
        self.registry = Registry(cloud, LambdaBackedResource.bound_to(self._custom_resource_context, self.responses))
        self.seams = build_seams(cloud, self.registry, self.responses)

    def install(self) -> None:
        self.seams.apply()

    def _custom_resource_context(self) -> tuple[str, Any, float]:
        try:
            runtime = getattr(self.cloud.extension("lambda"), "runtime", None)
        except KeyError:
            runtime = None
        return self.cloud.endpoint, runtime, RESPONSE_TIMEOUT

    def status(self) -> dict[str, Any]:
        return {"resource types": sorted(self.registry.models)}


def extension(cloud: "LocalCloud") -> CfnExtension:
    return CfnExtension(cloud)
