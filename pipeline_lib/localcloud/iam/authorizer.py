"""Decisions for role sessions: the role's policies (and a bucket policy for S3) evaluated with
evaluation.py, cached per role until one of its policies changes."""
from __future__ import annotations

import logging
import threading
from typing import Any, Mapping, Sequence

from . import roles
from .errors import AccessDenied
from .evaluation import Decision, Identity, decide
from .trust import trusts

__all__ = ["Authorizer"]

log = logging.getLogger("pipeline_lib.localcloud.iam")

# The local cloud answers on loopback only (no TLS in between): requests count as secure
# transport, as they would over AWS's HTTPS endpoints.
BASE_CONTEXT = {"aws:SecureTransport": "true"}


class Authorizer:
    def __init__(self, region: str):
        self.region = region
        self._cache: dict[tuple, Decision] = {}
        self._lock = threading.Lock()
        self.denials = 0
        self.decisions = 0
        self._unknown_logged: set[str] = set()

    def decide(self, identity: Identity, action: str, resources: Sequence[str] | None,
               context: Mapping[str, Any] | None = None) -> Decision:
        context = {**BASE_CONTEXT, "aws:PrincipalArn": identity.role_arn,
                   "aws:PrincipalAccount": identity.account_id, **(context or {})}
        try:
            fingerprint = roles.role_fingerprint(identity.role_arn)
        except roles.NoSuchRole:
            # A role this cloud's IAM does not hold (an ARN written into a configuration by hand):
            # nothing to evaluate, so it is not enforced (AWS would refuse to assume it). Every
            # role a deployed template creates exists.
            if identity.role_arn not in self._unknown_logged:
                self._unknown_logged.add(identity.role_arn)
                log.warning("role %s does not exist in the local IAM: its calls are not checked", identity.role_arn)
            return Decision(True, action, (resources or ["*"])[-1])
        resource_policy = None
        bucket = _bucket_of(action, resources)
        if bucket is not None:
            resource_policy = roles.bucket_policy(identity.account_id, self.region, bucket)
        boundary = roles.permissions_boundary(identity.role_arn)
        key = (identity, fingerprint, action, tuple(resources or ()), tuple(sorted(context.items())),
               repr(resource_policy), repr(boundary))
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            policies = roles.role_policies(identity.role_arn)
            if resources is None:
                # The resource of this operation is not derived: the action alone decides.
                found = decide(identity, _action_only(policies), action, ["*"], context, None,
                               _action_only([boundary])[0] if boundary is not None else None)
            else:
                found = decide(identity, policies, action, list(resources), context, resource_policy, boundary)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key] = found
        with self._lock:
            self.decisions += 1
            if not found.allowed:
                self.denials += 1
        return found

    def may_assume(self, role_arn: str, service: str, context: Mapping[str, Any] | None = None) -> bool:
        """Whether `service` may assume the role (its trust policy); a role this IAM does not
        hold is not checked (see `decide`)."""
        try:
            document = roles.trust_policy(role_arn)
        except roles.NoSuchRole:
            return True
        return trusts(document, service, context)

    def check(self, identity: Identity, action: str, resources: Sequence[str] | None,
              context: Mapping[str, Any] | None = None, quote_resource: bool = False) -> None:
        """Raise AccessDenied (AWS's message) unless the session may do `action` on `resources`."""
        decision = self.decide(identity, action, resources, context)
        if not decision.allowed:
            raise AccessDenied(decision.message(identity, quote_resource), decision.action, decision.resource)


def _bucket_of(action: str, resources: Sequence[str] | None) -> str | None:
    if not action.lower().startswith("s3:") or not resources:
        return None
    first = resources[0]
    if not first.startswith("arn:aws:s3:::"):
        return None
    return first[len("arn:aws:s3:::"):].split("/", 1)[0]


def _action_only(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The policies with every statement's resource widened to `*` (action-only check)."""
    out = []
    for doc in policies:
        statements = doc.get("Statement")
        statements = statements if isinstance(statements, list) else [statements]
        widened = []
        for st in statements:
            if not isinstance(st, dict):
                continue
            st = {k: v for k, v in st.items() if k not in ("Resource", "NotResource")}
            st["Resource"] = "*"
            widened.append(st)
        out.append({"Statement": widened})
    return out
