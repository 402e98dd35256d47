"""Trust policies: whether a service may assume a role (pure logic).

A service acting as a role (Firehose delivering, a crawler crawling) first assumes it; STS lets
it when the role's trust policy (AssumeRolePolicyDocument) has an Allow of `sts:AssumeRole` whose
Principal names the service (`{"Service": "firehose.amazonaws.com"}`, or everyone) and whose
conditions hold for what the service passes (`sts:ExternalId`, `aws:SourceAccount`,
`aws:SourceArn`), and no Deny that applies. Statement matching and condition operators are IAM's
(evaluation.py).
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from .evaluation import ALLOW, DENY, as_list, conditions_hold, matches_any

__all__ = ["ASSUME_ROLE", "ROLE_ARN", "trusts", "trusts_any"]

ASSUME_ROLE = "sts:AssumeRole"
# A role ARN as IAM writes it: partition, account, path and name (what a service can look up).
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]+$")


def _names(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return service in [str(v) for v in as_list(principal.get("Service"))] or "*" in as_list(principal.get("AWS"))


def _applies(statement: Mapping[str, Any], service: str, context: Mapping[str, Any]) -> bool:
    if "NotAction" in statement:
        if matches_any(as_list(statement["NotAction"]), ASSUME_ROLE, ignore_case=True):
            return False
    elif not matches_any(as_list(statement.get("Action")), ASSUME_ROLE, ignore_case=True):
        return False
    if "NotPrincipal" in statement:
        if _names(statement["NotPrincipal"], service):
            return False
    elif not _names(statement.get("Principal"), service):
        return False
    return conditions_hold(statement.get("Condition"), context)


def trusts(document: Mapping[str, Any] | None, service: str, context: Mapping[str, Any] | None = None) -> bool:
    """Whether the trust policy lets `service` assume the role, given the request's `context`."""
    allowed = False
    for statement in as_list((document or {}).get("Statement")):
        if not isinstance(statement, dict) or not _applies(statement, service, context or {}):
            continue
        if statement.get("Effect") == DENY:
            return False
        if statement.get("Effect") == ALLOW:
            allowed = True
    return allowed


def trusts_any(document: Mapping[str, Any] | None, services: Iterable[str],
               context: Mapping[str, Any] | None = None) -> bool:
    """Whether one of `services` may assume the role: a service known by several principals
    (Step Functions: the global one and the regional one) tries each, and one is enough."""
    return any(trusts(document, service, context) for service in services)
