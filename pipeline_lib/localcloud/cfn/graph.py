"""What a template's resources refer to, and the order CloudFormation creates them in (pure logic).

A resource depends on another through `DependsOn`, `Ref`, `Fn::GetAtt` and the `${Name}` /
`${Name.Attr}` variables of `Fn::Sub`. CloudFormation creates in dependency order and deletes in
the reverse order; a cycle is a template error.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")


class CircularDependency(ValueError):
    """The template's resources depend on each other in a cycle."""


def references(value: Any) -> set[str]:
    """Every logical name (resource, parameter or pseudo parameter) `value` refers to."""
    found: set[str] = set()
    _collect(value, found)
    return found


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect(item, found)
        return
    if not isinstance(value, dict):
        return
    for key, arg in value.items():
        if key == "Ref" and isinstance(arg, str):
            found.add(arg)
        elif key == "Fn::GetAtt":
            if isinstance(arg, list) and arg and isinstance(arg[0], str):
                found.add(arg[0])
                _collect(arg[1:], found)
            elif isinstance(arg, str):
                found.add(arg.split(".", 1)[0])
        elif key == "Fn::Sub":
            template, variables = (arg[0], arg[1]) if isinstance(arg, list) and len(arg) == 2 else (arg, {})
            if isinstance(template, str):
                local = set(variables) if isinstance(variables, dict) else set()
                for name in _SUB_VARIABLE.findall(template):
                    base = name.split(".", 1)[0].strip()
                    if base not in local:
                        found.add(base)
            _collect(variables, found)
        else:
            _collect(arg, found)


def depends_on(resource: Mapping[str, Any]) -> set[str]:
    """The names in a resource's DependsOn."""
    value = resource.get("DependsOn") or []
    return {value} if isinstance(value, str) else set(value)


def dependencies(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, set[str]]:
    """Logical id -> the other resources it needs (DependsOn and references), template order."""
    names = set(resources)
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        needed = depends_on(resource) | references({k: v for k, v in resource.items() if k != "DependsOn"})
        missing = depends_on(resource) - names
        if missing:
            raise ValueError(
                f"Template format error: resource {logical_id} DependsOn {sorted(missing)}, "
                "which are not resources of the template"
            )
        graph[logical_id] = (needed & names) - {logical_id}
    return graph


def creation_order(resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Logical ids so that each comes after everything it depends on (stable: template order)."""
    graph = dependencies(resources)
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = path[path.index(node):] + [node]
            raise CircularDependency(f"Circular dependency between resources: {' -> '.join(cycle)}")
        state[node] = 1
        for dep in sorted(graph[node], key=list(resources).index):
            visit(dep, path + [node])
        state[node] = 2
        order.append(node)

    for name in resources:
        visit(name, [])
    return order


def deletion_order(resources: Mapping[str, Mapping[str, Any]], only: Iterable[str] | None = None) -> list[str]:
    """The reverse of the creation order (dependents first), limited to `only` when given."""
    keep = set(resources) if only is None else set(only)
    return [name for name in reversed(creation_order(resources)) if name in keep]


def prerequisites(resources: Mapping[str, Mapping[str, Any]], roots: Iterable[str]) -> set[str]:
    """`roots` and everything they depend on, transitively (what must outlive them)."""
    graph = dependencies(resources)
    seen: set[str] = set()
    stack = [r for r in roots if r in graph]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(graph[node] - seen)
    return seen
