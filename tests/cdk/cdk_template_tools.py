"""Small readers for a synthesized CloudFormation template (plain dicts, no jsii)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == type_}


def only(template: dict[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def render(value: Any) -> Any:
    """Intrinsics as readable text: Ref X -> <X>, GetAtt X.A -> <X.A>, Join -> joined, Sub -> its string."""
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{'.'.join(arg) if isinstance(arg, list) else arg}>"
        if fn == "Fn::Join":
            sep, parts = arg
            return sep.join(str(render(p)) for p in parts)
        if fn == "Fn::Sub":
            return arg if isinstance(arg, str) else arg[0]
    if isinstance(value, list):
        return [render(v) for v in value]
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items()}
    return value


def state_machine_definition(resource: dict[str, Any]) -> dict[str, Any]:
    """The ASL document of an AWS::StepFunctions::StateMachine, with intrinsics rendered."""
    definition = resource["Properties"]["DefinitionString"]
    text = definition if isinstance(definition, str) else render(definition)
    return json.loads(text)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(logical id, kind, document) of every identity and resource policy in the template."""
    for lid, r in template["Resources"].items():
        props = r.get("Properties", {})
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            yield lid, "identity", props["PolicyDocument"]
        elif r["Type"] == "AWS::IAM::Role":
            for inline in props.get("Policies", []):
                yield lid, "identity", inline["PolicyDocument"]
        elif r["Type"] in ("AWS::S3::BucketPolicy", "AWS::Logs::ResourcePolicy"):
            document = props.get("PolicyDocument")
            if isinstance(document, str):
                document = json.loads(document)
            yield lid, "resource", document
