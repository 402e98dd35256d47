"""Resource-policy evaluation for requests to the local cloud (pure logic).

A statement applies to a request when its action, resource and principal match and every
condition holds for the request's context; an applying Deny wins, else an applying Allow
allows, else the policy is silent. Principals other than everyone (`"*"`, `{"AWS": "*"}`) do
not apply: every caller of the local cloud is the same anonymous account.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

ALLOW, DENY = "Allow", "Deny"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    # IAM wildcards: * any run, ? one character; nothing else is special.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def _matches_any(patterns: Iterable[str], value: str, ignore_case: bool = False) -> bool:
    return any(_wildcard(str(p), value, ignore_case) for p in patterns)


def _everyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in _as_list(principal.get("AWS"))
    return False


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, str]) -> bool:
    if_exists = operator.endswith("IfExists")
    op = operator[: -len("IfExists")] if if_exists else operator
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if op.startswith(prefix):
            op = op[len(prefix):]
    wanted = [str(v) for v in _as_list(expected)]
    if op == "Null":
        present = key in context
        return all((v.lower() == "true") != present for v in wanted)
    if key not in context:
        return if_exists
    actual = str(context[key])
    if op in ("StringEquals", "ArnEquals"):
        return actual in wanted
    if op in ("StringNotEquals", "ArnNotEquals"):
        return actual not in wanted
    if op == "StringEqualsIgnoreCase":
        return actual.lower() in (w.lower() for w in wanted)
    if op == "StringNotEqualsIgnoreCase":
        return actual.lower() not in (w.lower() for w in wanted)
    if op in ("StringLike", "ArnLike"):
        return _matches_any(wanted, actual)
    if op in ("StringNotLike", "ArnNotLike"):
        return not _matches_any(wanted, actual)
    if op == "Bool":
        return actual.lower() in (w.lower() for w in wanted)
    if op.startswith("Numeric"):
        compare = {
            "NumericEquals": lambda a, b: a == b,
            "NumericNotEquals": lambda a, b: a != b,
            "NumericLessThan": lambda a, b: a < b,
            "NumericLessThanEquals": lambda a, b: a <= b,
            "NumericGreaterThan": lambda a, b: a > b,
            "NumericGreaterThanEquals": lambda a, b: a >= b,
        }.get(op)
        if compare is None:
            return False
        try:
            return any(compare(float(actual), float(w)) for w in wanted)
        except ValueError:
            return False
    return False  # an operator we do not know never holds, so the statement does not apply


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, str]) -> bool:
    for operator, pairs in (conditions or {}).items():
        for key, expected in pairs.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> bool:
    if "NotAction" in statement:
        if _matches_any(_as_list(statement["NotAction"]), action, ignore_case=True):
            return False
    elif not _matches_any(_as_list(statement.get("Action")), action, ignore_case=True):
        return False
    if "NotResource" in statement:
        if _matches_any(_as_list(statement["NotResource"]), resource):
            return False
    elif "Resource" in statement and not _matches_any(_as_list(statement["Resource"]), resource):
        return False
    if "NotPrincipal" in statement or not _everyone(statement.get("Principal")):
        return False
    return conditions_hold(statement.get("Condition"), context)


def evaluate(document: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str]) -> str | None:
    """ALLOW, DENY, or None when no statement applies."""
    decision = None
    for statement in _as_list(document.get("Statement")):
        if statement_applies(statement, action, resource, context):
            if statement.get("Effect") == DENY:
                return DENY
            decision = ALLOW
    return decision
