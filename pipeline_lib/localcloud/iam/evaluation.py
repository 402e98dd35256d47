"""IAM policy evaluation for one account, as AWS documents it ("Policy evaluation logic", IAM
User Guide), pure logic.

For a request by a role session on a resource of the same account:
1. an explicit Deny in any applicable policy (identity-based or resource-based) denies;
2. else an Allow in an identity-based policy, or in a resource-based policy whose Principal names
   the session, its role, or everyone, allows;
3. else the request is implicitly denied.
A request that touches several resources (Glue: catalog, database, table) needs every one allowed.

Statements: Effect, Action/NotAction and Resource/NotResource with IAM wildcards (`*`, `?`;
actions case-insensitive), Principal/NotPrincipal (resource policies), and Condition with the
operators the stack's policies use (String*, Arn*, Bool, Null, Numeric*, ...IfExists); an
operator this module does not know never holds, so its statement does not apply.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

__all__ = [
    "ALLOW", "DENY", "AccountRoot", "Decision", "Identity", "as_list", "conditions_hold", "decide", "evaluate_document", "matches_any",
    "statement_applies",
]

ALLOW, DENY = "Allow", "Deny"


@dataclass(frozen=True)
class Identity:
    """Who calls: a role session (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`)."""

    role_arn: str
    session_name: str

    @property
    def account_id(self) -> str:
        return self.role_arn.split(":")[4]

    @property
    def role_name(self) -> str:
        return self.role_arn.rsplit("/", 1)[-1]

    @property
    def session_arn(self) -> str:
        partition = self.role_arn.split(":")[1]
        return f"arn:{partition}:sts::{self.account_id}:assumed-role/{self.role_name}/{self.session_name}"

    @property
    def names(self) -> tuple[str, ...]:
        """What a resource policy's Principal may name it by."""
        return (self.role_arn, self.session_arn)


@dataclass(frozen=True)
class AccountRoot:
    """The account's root user: the local cloud's own caller (every user call carries its dummy
    credentials), as resource policies (bucket policies) see it."""

    account_id: str

    @property
    def names(self) -> tuple[str, ...]:
        return (f"arn:aws:iam::{self.account_id}:root", self.account_id)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: str
    resource: str  # the (first) resource that was refused, or the last one allowed
    # None when allowed; else "explicit_identity", "explicit_resource", "explicit_boundary",
    # "implicit_boundary" or "implicit"
    reason: str | None = None

    def message(self, identity: Identity, quote_resource: bool = False) -> str:
        """AWS's AccessDenied text for this decision."""
        resource = f'"{self.resource}"' if quote_resource else self.resource
        why = {
            "explicit_identity": "with an explicit deny in an identity-based policy",
            "explicit_resource": "with an explicit deny in a resource-based policy",
            "explicit_boundary": "with an explicit deny in a permissions boundary",
            "implicit_boundary": f"because no permissions boundary allows the {self.action} action",
        }.get(self.reason or "", f"because no identity-based policy allows the {self.action} action")
        return f"User: {identity.session_arn} is not authorized to perform: {self.action} on resource: {resource} {why}"


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> "re.Pattern[str]":
    # IAM wildcards: * any run, ? one character; nothing else is special.
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL)


def matches_any(patterns: Iterable[Any], value: str, ignore_case: bool = False) -> bool:
    return any(_pattern(str(p), ignore_case).fullmatch(value) is not None for p in patterns)


def _condition_holds(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    if_exists = operator.endswith("IfExists")
    op = operator[: -len("IfExists")] if if_exists else operator
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if op.startswith(prefix):
            op = op[len(prefix):]
    wanted = [str(v) for v in as_list(expected)]
    # Condition keys are case-insensitive (values are not).
    present = {k.lower(): v for k, v in context.items()}
    if op == "Null":
        there = key.lower() in present
        return all((v.lower() == "true") != there for v in wanted)
    if key.lower() not in present:
        return if_exists
    values = [str(v) for v in as_list(present[key.lower()])]

    def one(actual: str) -> bool:
        if op in ("StringEquals", "ArnEquals"):
            return actual in wanted
        if op in ("StringNotEquals", "ArnNotEquals"):
            return actual not in wanted
        if op == "StringEqualsIgnoreCase":
            return actual.lower() in (w.lower() for w in wanted)
        if op == "StringNotEqualsIgnoreCase":
            return actual.lower() not in (w.lower() for w in wanted)
        if op in ("StringLike", "ArnLike"):
            return matches_any(wanted, actual)
        if op in ("StringNotLike", "ArnNotLike"):
            return not matches_any(wanted, actual)
        if op == "Bool":
            return actual.lower() in (w.lower() for w in wanted)
        compare = {
            "NumericEquals": lambda a, b: a == b,
            "NumericNotEquals": lambda a, b: a != b,
            "NumericLessThan": lambda a, b: a < b,
            "NumericLessThanEquals": lambda a, b: a <= b,
            "NumericGreaterThan": lambda a, b: a > b,
            "NumericGreaterThanEquals": lambda a, b: a >= b,
        }.get(op)
        if compare is None:
            return False  # an operator we do not know never holds
        try:
            return any(compare(float(actual), float(w)) for w in wanted)
        except ValueError:
            return False

    if operator.startswith("ForAllValues:"):
        return all(one(v) for v in values)
    return any(one(v) for v in values)


def conditions_hold(conditions: Mapping[str, Mapping[str, Any]] | None, context: Mapping[str, Any]) -> bool:
    """Every operator block, and every key in it, must hold (AND); values within a key are OR."""
    for operator, pairs in (conditions or {}).items():
        for key, expected in pairs.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def _principal_matches(principal: Any, identity: "Identity | AccountRoot") -> bool:
    """Whether a resource policy's Principal names this session (everyone, the role, the session).
    An account principal (`123456789012`, `...:root`) delegates to identity policies: it grants
    nothing by itself, so it does not match here."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in as_list(principal.get("AWS")):
        value = str(value)
        if value == "*" or value in identity.names:
            return True
    return False


def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any],
                      identity: "Identity | AccountRoot | None" = None) -> bool:
    """Whether the statement matches the request. `identity` is given for resource policies,
    whose statements also have to name the caller."""
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
    elif "Resource" not in statement and identity is None:
        return False  # an identity-policy statement without Resource is invalid: it grants nothing
    if identity is not None:
        if "NotPrincipal" in statement:
            if _principal_matches(statement["NotPrincipal"], identity):
                return False
        elif not _principal_matches(statement.get("Principal"), identity):
            return False
    return conditions_hold(statement.get("Condition"), context)


def evaluate_document(document: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any],
                      identity: "Identity | AccountRoot | None" = None) -> str | None:
    """ALLOW, DENY, or None when no statement of the document applies."""
    decision = None
    for statement in as_list(document.get("Statement")):
        if statement_applies(statement, action, resource, context, identity):
            if statement.get("Effect") == DENY:
                return DENY
            if statement.get("Effect") == ALLOW:
                decision = ALLOW
    return decision


def decide(identity: Identity, identity_policies: Sequence[Mapping[str, Any]], action: str,
           resources: Sequence[str], context: Mapping[str, Any] | None = None,
           resource_policy: Mapping[str, Any] | None = None,
           boundary: Mapping[str, Any] | None = None) -> Decision:
    """The decision for `identity` doing `action` on every one of `resources` (same account).
    `boundary`: the role's permissions boundary, which caps what its identity policies grant
    (effective = identity ∩ boundary; an explicit deny in it denies). A resource policy that
    names the role session itself is not capped by the boundary; one that names the role (or
    everyone) is, as the IAM User Guide's evaluation logic for boundaries says."""
    context = dict(context or {})
    last = "*"
    for resource in resources or ["*"]:
        last = resource
        identity_results = [evaluate_document(doc, action, resource, context) for doc in identity_policies]
        resource_result = (evaluate_document(resource_policy, action, resource, context, identity)
                           if resource_policy else None)
        boundary_result = evaluate_document(boundary, action, resource, context) if boundary is not None else ALLOW
        if DENY in identity_results:
            return Decision(False, action, resource, "explicit_identity")
        if resource_result == DENY:
            return Decision(False, action, resource, "explicit_resource")
        if boundary_result == DENY:
            return Decision(False, action, resource, "explicit_boundary")
        if resource_result == ALLOW and _names_session(resource_policy, action, resource, context, identity):
            continue  # granted to the session by name: identity policies and boundary do not cap it
        if ALLOW not in identity_results and resource_result != ALLOW:
            return Decision(False, action, resource, "implicit")
        if boundary_result != ALLOW:
            return Decision(False, action, resource, "implicit_boundary")
    return Decision(True, action, last)


def _names_session(document: Mapping[str, Any] | None, action: str, resource: str, context: Mapping[str, Any],
                   identity: Identity) -> bool:
    """Whether an Allow of the resource policy names the role session's own ARN."""
    for statement in as_list((document or {}).get("Statement")):
        principal = statement.get("Principal")
        if (statement.get("Effect") == ALLOW and isinstance(principal, dict)
                and identity.session_arn in [str(v) for v in as_list(principal.get("AWS"))]
                and statement_applies(statement, action, resource, context, identity)):
            return True
    return False
