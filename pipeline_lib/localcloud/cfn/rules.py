"""Template Rules: parameter assertions CloudFormation checks before it creates or updates a stack
(pure logic). CDK puts one in every stack: CheckBootstrapVersion.

A rule whose RuleCondition holds (or that has none) must have every Assertion true; the first
false one fails the operation with its AssertDescription.
"""
from __future__ import annotations

from typing import Any, Mapping


class RuleError(ValueError):
    """An assertion failed, or a rule uses a function the local cloud cannot evaluate."""


def _value(node: Any, params: Mapping[str, Any]) -> Any:
    if isinstance(node, dict) and len(node) == 1:
        (name, arg), = node.items()
        if name == "Ref":
            if arg not in params:
                raise RuleError(f"Template error: rule refers to unknown parameter {arg}")
            return params[arg]
        if name.startswith("Fn::"):
            return _function(name, arg, params)
    if isinstance(node, list):
        return [_value(item, params) for item in node]
    return node


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _function(name: str, arg: Any, params: Mapping[str, Any]) -> Any:
    if name == "Fn::Equals":
        a, b = (_value(x, params) for x in arg)
        return str(a) == str(b)
    if name == "Fn::Not":
        return not _truth(_value(arg[0], params))
    if name == "Fn::And":
        return all(_truth(_value(x, params)) for x in arg)
    if name == "Fn::Or":
        return any(_truth(_value(x, params)) for x in arg)
    if name == "Fn::Contains":
        haystack, needle = _value(arg[0], params), _value(arg[1], params)
        return str(needle) in [str(x) for x in _as_list(haystack)]
    if name == "Fn::EachMemberEquals":
        values, expected = _value(arg[0], params), _value(arg[1], params)
        return all(str(v) == str(expected) for v in _as_list(values))
    if name == "Fn::EachMemberIn":
        values, allowed = _value(arg[0], params), _value(arg[1], params)
        allowed_text = [str(x) for x in _as_list(allowed)]
        return all(str(v) in allowed_text for v in _as_list(values))
    raise RuleError(f"Template error: the local cloud cannot evaluate {name} in Rules")


def _truth(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


def check(rules: Mapping[str, Any] | None, params: Mapping[str, Any]) -> None:
    """Raise RuleError with the AssertDescription of the first failing assertion."""
    for rule_name, rule in (rules or {}).items():
        condition = rule.get("RuleCondition")
        if condition is not None and not _truth(_value(condition, params)):
            continue
        for assertion in rule.get("Assertions", []):
            if not _truth(_value(assertion.get("Assert"), params)):
                raise RuleError(assertion.get("AssertDescription") or f"Template error: rule {rule_name} failed")
