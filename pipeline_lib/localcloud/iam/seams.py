"""The IAM seams: nothing of moto is patched; these are what is read of it (checked at install).

- ``moto.iam.models.IAMBackend.get_role_by_arn(arn)`` / ``get_role(role_name)``: the role.
- ``Role.policies`` (inline: name -> JSON text), ``Role.managed_policies`` (ARN -> ManagedPolicy),
  ``Role.assume_role_policy_document`` (trust policy), ``Role.permissions_boundary_arn`` (looked
  up in ``IAMBackend.managed_policies``),
  ``ManagedPolicy.versions`` / ``PolicyVersion.document`` / ``is_default``: its policies.
- ``moto.sts.models.sts_backends[account]["aws"].get_assumed_role_from_access_key(access_key_id)``: sessions the
  user made with sts:AssumeRole (the opt-in to enforcement for the user's own calls).
- ``S3Backend.buckets`` / ``FakeBucket.policy``: bucket policies (resource policies).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..seam import SeamSet

if TYPE_CHECKING:
    from ..cloud import LocalCloud


def build_seams(cloud: "LocalCloud | None" = None) -> SeamSet:
    from moto.iam.models import IAMBackend, ManagedPolicy, PolicyVersion, Role
    from moto.s3.models import FakeBucket, S3Backend
    from moto.sts import models as sts_models
    from moto.sts.models import AssumedRole, STSBackend

    from .. import moto_backends

    seams = SeamSet("iam")
    seams.expect(IAMBackend, "get_role_by_arn", ("self", "arn"))
    seams.expect(IAMBackend, "get_role", ("self", "role_name"))
    seams.reads(Role, "policies", "managed_policies", "arn", "assume_role_policy_document", "permissions_boundary_arn")
    seams.reads(IAMBackend, "managed_policies")
    seams.reads(ManagedPolicy, "versions")
    seams.reads(PolicyVersion, "document", "is_default")
    seams.expect(sts_models, "sts_backends")
    seams.expect(STSBackend, "get_assumed_role_from_access_key", ("self", "access_key_id"))
    seams.reads(AssumedRole, "role_arn", "session_name")
    seams.reads(S3Backend, "buckets")
    seams.reads(FakeBucket, "policy")
    moto_backends.declare(seams)
    return seams
