"""cfn-lint finds no errors; cdk-nag (AwsSolutions) finds nothing unacknowledged, and really runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_lib._deploy import synth as synth_mod

pytestmark = pytest.mark.cdk

# W3005 "dependency already enforced by GetAtt": aws-cdk-lib's Function, StateMachine and
# BucketDeployment L2s add DependsOn on their role besides referencing it. Harmless.
ALLOWED_WARNINGS = {"W3005"}


def test_cfn_lint_reports_no_errors(assembly):
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(Path(assembly.template_path), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    errors = [f"{m.rule.id} {m.message} ({'/'.join(map(str, m.path))})" for m in matches if m.rule.id.startswith("E")]
    assert errors == []
    warnings = {m.rule.id for m in matches if m.rule.id.startswith("W")}
    assert warnings <= ALLOWED_WARNINGS, [f"{m.rule.id} {m.message}" for m in matches if m.rule.id not in ALLOWED_WARNINGS]


def test_no_unacknowledged_nag_findings(assembly):
    violations = synth_mod.validation_violations(assembly.out_dir)
    assert violations == [], "\n".join(
        f"{v['ruleName']} ({v['severity']}): {[c['constructPath'] for c in v['violatingConstructs']]}" for v in violations
    )


def test_acknowledgements_are_recorded_with_reasons(template):
    """Proves the checks ran on this template: acknowledged findings are written to Metadata."""
    acknowledged = {}
    for lid, resource in template["Resources"].items():
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
            acknowledged.setdefault(rule["id"], rule["reason"])
    base_rules = {rule_id.split("[", 1)[0] for rule_id in acknowledged}
    assert base_rules == {
        "AwsSolutions-S1", "AwsSolutions-L1", "AwsSolutions-GL1", "AwsSolutions-KDF1",
        "AwsSolutions-IAM4", "AwsSolutions-IAM5",
    }
    assert all(len(reason) >= 40 for reason in acknowledged.values())
    # Wildcard findings are acknowledged one by one, never the whole rule.
    assert "AwsSolutions-IAM5" not in acknowledged and "AwsSolutions-IAM4" not in acknowledged


def _nag_app(tmp_path: Path, build) -> Exception | None:
    """Synthesize a one-bucket app with the workbench's checks; the validation error, if any."""
    import aws_cdk as cdk

    from infra.nag import apply_checks

    app = cdk.App(outdir=str(tmp_path), analytics_reporting=False)
    stack = cdk.Stack(app, "NagProbe")
    build(stack)
    apply_checks(app)
    try:
        app.synth()
    except Exception as exc:  # jsii surfaces the ValidationFailed error as a RuntimeError
        return exc
    return None


def test_checks_fail_the_synth_on_a_finding(tmp_path):
    from aws_cdk import aws_s3 as s3

    error = _nag_app(tmp_path, lambda stack: s3.Bucket(stack, "Plain"))
    assert error is not None and "AwsSolutions-S1" in str(error) and "AwsSolutions-S10" in str(error)


def test_acknowledge_applies_to_only_the_named_findings(tmp_path):
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_s3 as s3

    from infra.nag import acknowledge, arn_finding

    def build(stack, extra_wildcard: bool) -> None:
        bucket = s3.Bucket(stack, "Data", enforce_ssl=True)
        acknowledge(bucket, "AwsSolutions-S1", "probe bucket: access logs are irrelevant to this test")
        role = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects("in/*")]))
        if extra_wildcard:
            role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[bucket.arn_for_objects("*")]))
        acknowledge(role, "AwsSolutions-IAM5", "probe: reads what lands under in/", applies_to=[arn_finding(bucket, "/in/*")])

    assert _nag_app(tmp_path / "ok", lambda stack: build(stack, False)) is None
    error = _nag_app(tmp_path / "extra", lambda stack: build(stack, True))
    assert error is not None and "AwsSolutions-IAM5" in str(error) and "/in/*" not in str(error)
