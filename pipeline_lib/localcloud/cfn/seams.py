"""The CloudFormation extension's moto seams, as one `..seam.SeamSet` (tag "cfn"), built by
`build_seams(cloud, registry, responses)`.

registry, stack and lambda_backed each declare theirs (listed in their docstrings); applying
the set checks every one against moto before patching any, and applying it again patches nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..seam import SeamSet

if TYPE_CHECKING:
    from ..cloud import LocalCloud
    from .lambda_backed import Responses
    from .registry import Registry


def build_seams(cloud: "LocalCloud", registry: "Registry | None" = None,
                responses: "Responses | None" = None) -> SeamSet:
    """The seams of `cloud`'s CloudFormation: its `registry` (default: the cloud's extensions'
    types) and the custom-resource `responses` its handlers PUT."""
    from .. import moto_backends
    from . import lambda_backed, stack
    from . import registry as registry_module

    if responses is None:
        responses = lambda_backed.Responses()
    if registry is None:
        registry = registry_module.Registry(cloud, lambda_backed.LambdaBackedResource)
    seams = SeamSet("cfn")
    registry_module.declare(seams, registry)
    stack.declare(seams)
    lambda_backed.declare(seams, responses)
    moto_backends.declare(seams)
    return seams
