"""cdk-nag (v3: a policy-validation plugin) and the acknowledgement helper the constructs use."""
from __future__ import annotations

from collections.abc import Iterable

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def apply_checks(app: cdk.App) -> None:
    """Run AwsSolutions checks on every stack at synth time.

    Unacknowledged findings land in the assembly's validation-report.json (errors fail the synth);
    acknowledgements are also written into each resource's Metadata (`cdk_nag`) as an audit trail.
    """
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True))


def acknowledge(scope: IConstruct, rule: str, reason: str, applies_to: Iterable[str] = ()) -> None:
    """Acknowledge `rule` on `scope` (and its children) with a reason.

    With `applies_to`, only those granular findings (cdk-nag's `Action::...` / `Resource::...`
    ids, e.g. for AwsSolutions-IAM5) are acknowledged, so a new wildcard still fails the check.
    """
    if not reason.strip():
        raise ValueError(f"acknowledging {rule} needs a reason")
    findings = list(applies_to)
    ids = [f"{rule}[{f}]" for f in findings] if findings else [rule]
    cdk.Validations.of(scope).acknowledge(*(cdk.Acknowledgment(id=i, reason=reason) for i in ids))


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of an L2 construct's resource (or of an L1 resource)."""
    element = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
    if not isinstance(element, cdk.CfnElement):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource of its own")
    return cdk.Stack.of(element).resolve(element.logical_id)


def arn_finding(construct: IConstruct, suffix: str = "") -> str:
    """cdk-nag's spelling of `Fn::GetAtt <resource>.Arn` + suffix in a Resource:: finding id."""
    return f"Resource::<{logical_id(construct)}.Arn>{suffix}"
