"""The CloudFormation extension's moto seams, as one `..seam.SeamSet` (tag "cfn").

registry, stack, s3 and lambda_backed each declare theirs (listed in their docstrings); applying
the set checks every one against moto before patching any, and applying it again patches nothing.
"""
from __future__ import annotations

from functools import lru_cache

from ..seam import SeamSet


@lru_cache(maxsize=1)
def cfn_seams() -> SeamSet:
    from . import lambda_backed, registry, s3, stack

    seams = SeamSet("cfn")
    for module in (registry, stack, s3, lambda_backed):
        module.declare(seams)
    return seams
