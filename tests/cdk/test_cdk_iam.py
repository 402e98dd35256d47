"""Least privilege: no '*' / 'service:*' actions, no Resource '*' except where IAM requires it."""
from __future__ import annotations

import pytest

from cdk_template_tools import as_list, policy_documents, render, resources

pytestmark = pytest.mark.cdk

# Actions with no resource-level permissions: IAM only accepts Resource "*" for them.
UNSCOPABLE_ACTIONS = {
    "cloudwatch:GetMetricData": "delivery monitor reads Firehose metrics",
    # Step Functions execution logging to CloudWatch Logs (vended log delivery).
    "logs:CreateLogDelivery": "state machine logging",
    "logs:DeleteLogDelivery": "state machine logging",
    "logs:DescribeLogGroups": "state machine logging",
    "logs:DescribeResourcePolicies": "state machine logging",
    "logs:GetLogDelivery": "state machine logging",
    "logs:ListLogDeliveries": "state machine logging",
    "logs:PutResourcePolicy": "state machine logging",
    "logs:UpdateLogDelivery": "state machine logging",
    # X-Ray tracing of the state machine.
    "xray:GetSamplingRules": "state machine tracing",
    "xray:GetSamplingTargets": "state machine tracing",
    "xray:PutTelemetryRecords": "state machine tracing",
    "xray:PutTraceSegments": "state machine tracing",
}
# aws-cdk-lib's BucketDeployment writes its handler's policy itself (s3:GetObject*, s3:List*, ...).
CDK_OWNED_POLICY_PREFIX = "CustomCDKBucketDeployment"


def _allow_statements(template):
    for lid, kind, document in policy_documents(template):
        for statement in as_list(document["Statement"]):
            if statement["Effect"] == "Allow":
                yield lid, kind, statement


def test_there_are_policies_to_check(template):
    assert sum(1 for _ in _allow_statements(template)) >= 15


def test_no_full_wildcard_actions(template):
    for lid, _, statement in _allow_statements(template):
        for action in as_list(statement.get("Action", [])):
            assert action != "*" and not action.endswith(":*"), f"{lid}: {action}"
            if "*" in action:
                assert lid.startswith(CDK_OWNED_POLICY_PREFIX), f"{lid}: wildcard action {action}"
        assert "NotAction" not in statement, lid


def test_resource_star_only_for_actions_without_resource_level_permissions(template):
    found = set()
    for lid, kind, statement in _allow_statements(template):
        if kind != "identity":
            continue
        assert "NotResource" not in statement, lid
        if "*" in as_list(statement["Resource"]):
            assert as_list(statement["Resource"]) == ["*"], lid
            actions = set(as_list(statement["Action"]))
            assert actions <= set(UNSCOPABLE_ACTIONS), f"{lid}: Resource '*' for {sorted(actions - set(UNSCOPABLE_ACTIONS))}"
            found |= actions
    # The list stays honest: every exception is in use.
    assert found == set(UNSCOPABLE_ACTIONS)


def test_wildcard_resources_are_suffixes_of_specific_resources(template):
    for lid, kind, statement in _allow_statements(template):
        for resource in as_list(statement.get("Resource", [])):
            text = render(resource)
            if text == "*" or "*" not in text:
                continue
            assert text.count("*") == 1 and text.endswith(("/*", ":*")), f"{lid}: {text}"
            head = text[:-2]
            # A specific bucket/function (a template resource or the CDK assets bucket), not a pattern.
            assert head.startswith("<") or "cdk-hnb659fds-assets-" in head, f"{lid}: {text}"
            assert not head.endswith(("s3:::", ":function", ":log-group")), f"{lid}: {text}"


def test_roles_trust_only_aws_services(template):
    roles = resources(template, "AWS::IAM::Role")
    assert roles
    for lid, role in roles.items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            assert set(statement["Principal"]) == {"Service"}, lid
            assert all(s.endswith(".amazonaws.com") for s in as_list(statement["Principal"]["Service"])), lid


def test_only_cdk_owned_role_uses_a_managed_policy(template):
    for lid, role in resources(template, "AWS::IAM::Role").items():
        if role["Properties"].get("ManagedPolicyArns"):
            assert lid.startswith(CDK_OWNED_POLICY_PREFIX), lid
            assert [render(a) for a in role["Properties"]["ManagedPolicyArns"]] == [
                "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
            ]


def test_wildcard_exceptions_are_documented(template):
    """Every Resource '*' exception is written down, with its reason, in docs/SECURITY.md."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "SECURITY.md").read_text()
    for action in UNSCOPABLE_ACTIONS:
        assert f"`{action}`" in text, f"{action} is not documented in docs/SECURITY.md"
    assert f"`{CDK_OWNED_POLICY_PREFIX}`" in text


def test_condition_operators_are_ones_the_local_cloud_evaluates(template):
    """The local cloud enforces the template's policies: every condition operator they use must be
    one its evaluation implements (an unknown operator would never hold there)."""
    from pipeline_lib.localcloud.iam.evaluation import conditions_hold

    used = set()
    for _lid, _kind, document in policy_documents(template):
        for statement in as_list(document["Statement"]):
            used |= set(statement.get("Condition", {}))
    for lid, role in resources(template, "AWS::IAM::Role").items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            used |= set(statement.get("Condition", {}))
    assert used  # the template does use conditions (enforce-SSL, s3:prefix, confused-deputy keys)
    samples = {"Bool": "true", "StringLike": "x*", "StringEquals": "x", "ArnLike": "arn:aws:x:*", "ArnEquals": "arn:aws:x"}
    for operator in sorted(used):
        base = operator.replace("IfExists", "").split(":")[-1]
        assert base in samples, f"condition operator {operator} is not one the local cloud's IAM evaluates"
        value = samples[base]
        probe = value.replace("*", "abc")
        assert conditions_hold({operator: {"k": value}}, {"k": probe})
