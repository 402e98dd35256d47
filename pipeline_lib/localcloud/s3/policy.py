"""Resource-policy evaluation for requests to the local cloud (pure logic).

A statement applies to a request when its action, resource and principal match and every
condition holds for the request's context; an applying Deny wins, else an applying Allow
allows, else the policy is silent. Principals other than everyone (`"*"`, `{"AWS": "*"}`) do
not apply: every caller of the local cloud is the same anonymous account. Wildcards and
condition operators are IAM's (iam/evaluation.py), the one implementation of both.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..iam.evaluation import as_list, matches_any, conditions_hold

ALLOW, DENY = "Allow", "Deny"

__all__ = ["ALLOW", "DENY", "conditions_hold", "evaluate", "statement_applies"]


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in as_list(principal.get("AWS"))
    return False


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if "NotAction" in statement:
        if matches_any(as_list(statement["NotAction"]), action, ignore_case=True):
            return False
    elif not matches_any(as_list(statement.get("Action")), action, ignore_case=True):
        return False
    if "NotResource" in statement:
        if matches_any(as_list(statement["NotResource"]), resource):
            return False
    elif "Resource" in statement and not matches_any(as_list(statement["Resource"]), resource):
        return False
    if "NotPrincipal" in statement or not _everyone(statement.get("Principal")):
        return False
    return conditions_hold(statement.get("Condition"), context)


def evaluate(document: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> str | None:
    """ALLOW, DENY, or None when no statement applies."""
    decision = None
    for statement in as_list(document.get("Statement")):
        if statement_applies(statement, action, resource, context):
            if statement.get("Effect") == DENY:
                return DENY
            decision = ALLOW
    return decision
