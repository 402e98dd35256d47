"""The policies of a role, read from moto's IAM backend (inline and attached managed policies),
and the S3 bucket policy (a resource policy) read from moto's S3 backend."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from .. import moto_backends

__all__ = ["NoSuchRole", "bucket_policy", "permissions_boundary", "role_policies", "trust_policy"]


class NoSuchRole(LookupError):
    pass


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    text = text.strip()
    if not text.startswith("{"):
        text = unquote(text)  # moto keeps some documents URL-encoded, as IAM returns them
    return json.loads(text)


def role_fingerprint(role_arn: str) -> tuple:
    """What the role's identity policies are made of right now: changes whenever one of them does."""
    role = _role(role_arn)
    inline = tuple(sorted((name, doc if isinstance(doc, str) else json.dumps(doc, sort_keys=True))
                          for name, doc in role.policies.items()))
    managed = tuple(sorted((arn, _managed_document_text(policy)) for arn, policy in role.managed_policies.items()))
    return inline, managed


def trust_policy(role_arn: str) -> dict[str, Any] | None:
    """The role's trust policy (AssumeRolePolicyDocument)."""
    raw = _role(role_arn).assume_role_policy_document
    return _document(raw) if raw else None


def permissions_boundary(role_arn: str) -> dict[str, Any] | None:
    """The document of the role's permissions boundary (a managed policy), if it has one. A
    boundary naming a policy that does not exist allows nothing (as IAM refuses to set one)."""
    arn = _role(role_arn).permissions_boundary_arn
    if not arn:
        return None
    account = role_arn.split(":")[4]
    iam = moto_backends.backend("iam", account, "us-east-1")
    policy = getattr(iam, "managed_policies", {}).get(arn)
    if policy is None:
        return {"Statement": []}
    return _document(_managed_document_text(policy))


def _managed_document_text(policy: Any) -> str:
    for version in getattr(policy, "versions", []) or []:
        if getattr(version, "is_default", False):
            return version.document
    return getattr(policy, "document", "") or ""


def _role(role_arn: str) -> Any:
    account = role_arn.split(":")[4]
    iam = moto_backends.backend("iam", account, "us-east-1")
    try:
        return iam.get_role_by_arn(role_arn)
    except Exception:
        try:
            return iam.get_role(role_arn.rsplit("/", 1)[-1])
        except Exception:
            raise NoSuchRole(role_arn) from None


def role_policies(role_arn: str) -> list[dict[str, Any]]:
    """Every identity-based policy document of the role (inline first, then managed)."""
    inline, managed = role_fingerprint(role_arn)
    return [_document(doc) for _name, doc in inline] + [_document(doc) for _arn, doc in managed if doc]


def bucket_policy(account: str, region: str, bucket: str) -> dict[str, Any] | None:
    s3 = moto_backends.backend("s3", account, region)
    found = getattr(s3, "buckets", {}).get(bucket)
    if found is None or found.policy is None:
        return None
    return _document(found.policy)
