"""Pure logic of the local cloud's CloudFormation: dependency order, bucket-policy evaluation,
template Rules, property typing, BucketDeployment's filters and markers."""
from __future__ import annotations

import pytest

from pipeline_lib.localcloud.cfn import graph, rules
from pipeline_lib.localcloud.cfn.base import ResourceError
from pipeline_lib.localcloud.s3 import policy
from pipeline_lib.localcloud.s3.bucket_deployment import as_directory, included, replace_markers
from pipeline_lib.localcloud.cfn.custom import stringified
from pipeline_lib.localcloud.cfn.shapes import conform, input_member


# -- graph ------------------------------------------------------------------------------------------
def test_references_cover_ref_getatt_and_sub() -> None:
    value = {
        "A": {"Ref": "Bucket"},
        "B": {"Fn::GetAtt": ["Role", "Arn"]},
        "C": {"Fn::GetAtt": "Fn.Arn"},
        "D": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Lake}/${Stream.Arn}/${!Literal}"},
        "E": {"Fn::Sub": ["${Local}-${Table}", {"Local": {"Ref": "Param"}}]},
    }
    assert graph.references(value) == {"Bucket", "Role", "Fn", "AWS::Partition", "Lake", "Stream", "Table", "Param"}


def test_creation_order_puts_dependencies_first_and_keeps_template_order() -> None:
    resources = {
        "Policy": {"Type": "P", "Properties": {"Bucket": {"Ref": "Bucket"}}},
        "Other": {"Type": "O"},
        "Bucket": {"Type": "B", "DependsOn": "Other"},
        "Late": {"Type": "L", "Properties": {"X": {"Fn::Sub": "${Policy}"}}},
    }
    order = graph.creation_order(resources)
    assert order == ["Other", "Bucket", "Policy", "Late"]
    assert graph.deletion_order(resources) == list(reversed(order))
    assert graph.deletion_order(resources, only={"Bucket", "Late"}) == ["Late", "Bucket"]
    assert graph.prerequisites(resources, ["Policy"]) == {"Policy", "Bucket", "Other"}


def test_cycles_and_unknown_depends_on_are_template_errors() -> None:
    with pytest.raises(graph.CircularDependency, match="A -> B -> A"):
        graph.creation_order({"A": {"DependsOn": "B"}, "B": {"Properties": {"X": {"Ref": "A"}}}})
    with pytest.raises(ValueError, match="DependsOn"):
        graph.creation_order({"A": {"DependsOn": "Missing"}})


# -- bucket policies ------------------------------------------------------------------------------
ENFORCE_SSL = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
        },
        {
            "Action": "s3:PutObject",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Resource": "arn:aws:s3:::b/raw/*",
        },
    ],
}


def test_enforce_ssl_denies_only_plain_http() -> None:
    assert policy.evaluate(ENFORCE_SSL, "s3:GetObject", "arn:aws:s3:::b/k", {"aws:SecureTransport": "true"}) is None
    assert policy.evaluate(ENFORCE_SSL, "s3:GetObject", "arn:aws:s3:::b/k", {"aws:SecureTransport": "false"}) == policy.DENY
    assert policy.evaluate(ENFORCE_SSL, "s3:GetObject", "arn:aws:s3:::other/k", {"aws:SecureTransport": "false"}) is None


def test_statements_for_other_principals_do_not_apply_and_wildcards_match() -> None:
    doc = {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/data/*"},
        {"Effect": "Deny", "Principal": "*", "NotAction": "s3:Get*", "Resource": "*"},
    ]}
    assert policy.evaluate(doc, "s3:GetObject", "arn:aws:s3:::b/data/x/y", {}) == policy.ALLOW
    assert policy.evaluate(doc, "s3:GetObject", "arn:aws:s3:::b/other", {}) is None
    assert policy.evaluate(doc, "s3:PutObject", "arn:aws:s3:::b/data/x", {}) == policy.DENY
    assert policy.evaluate(ENFORCE_SSL, "s3:PutObject", "arn:aws:s3:::b/raw/x", {"aws:SecureTransport": "true"}) is None


def test_condition_operators() -> None:
    ctx = {"aws:SourceAccount": "123", "aws:SourceArn": "arn:aws:s3:::raw"}
    assert policy.conditions_hold({"StringEquals": {"aws:SourceAccount": ["1", "123"]}}, ctx)
    assert not policy.conditions_hold({"StringNotEquals": {"aws:SourceAccount": "123"}}, ctx)
    assert policy.conditions_hold({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::r*"}}, ctx)
    assert not policy.conditions_hold({"StringEquals": {"aws:Missing": "x"}}, ctx)
    assert policy.conditions_hold({"StringEqualsIfExists": {"aws:Missing": "x"}}, ctx)
    assert policy.conditions_hold({"Null": {"aws:Missing": "true", "aws:SourceAccount": "false"}}, ctx)
    assert policy.conditions_hold({"NumericLessThan": {"n": "10"}}, {"n": "3"})
    assert not policy.conditions_hold({"SomethingNew": {"aws:SourceAccount": "123"}}, ctx)


# -- rules ------------------------------------------------------------------------------------------
CDK_RULES = {
    "CheckBootstrapVersion": {
        "Assertions": [
            {
                "Assert": {"Fn::Not": [{"Fn::Contains": [["1", "2", "3", "4", "5"], {"Ref": "BootstrapVersion"}]}]},
                "AssertDescription": "CDK bootstrap stack version 6 required.",
            }
        ]
    }
}


def test_cdk_bootstrap_rule() -> None:
    rules.check(CDK_RULES, {"BootstrapVersion": "30"})
    with pytest.raises(rules.RuleError, match="version 6 required"):
        rules.check(CDK_RULES, {"BootstrapVersion": "5"})


def test_rule_condition_and_unknown_functions() -> None:
    conditional = {"R": {"RuleCondition": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
                         "Assertions": [{"Assert": {"Fn::EachMemberIn": [["a", "b"], ["a"]]}}]}}
    rules.check(conditional, {"Env": "dev"})
    with pytest.raises(rules.RuleError, match="rule R failed"):
        rules.check(conditional, {"Env": "prod"})
    with pytest.raises(rules.RuleError, match="Fn::ValueOf"):
        rules.check({"R": {"Assertions": [{"Assert": {"Fn::ValueOf": ["P", "VpcId"]}}]}}, {"P": "x"})


# -- property typing ---------------------------------------------------------------------------------
def test_conform_types_template_values_like_the_api() -> None:
    shape = input_member("firehose", "CreateDeliveryStream", "ExtendedS3DestinationConfiguration")
    given = {
        "BucketARN": "arn:aws:s3:::b",
        "RoleARN": "arn:aws:iam::1:role/r",
        "BufferingHints": {"SizeInMBs": "64", "IntervalInSeconds": 60},
        "DynamicPartitioningConfiguration": {"Enabled": "true"},
        "ProcessingConfiguration": {"Enabled": True, "Processors": [
            {"Type": "Lambda", "Parameters": [{"ParameterName": "NumberOfRetries", "ParameterValue": 3}]}]},
    }
    out = conform(given, shape, "ExtendedS3DestinationConfiguration")
    assert out["BufferingHints"] == {"SizeInMBs": 64, "IntervalInSeconds": 60}
    assert out["DynamicPartitioningConfiguration"] == {"Enabled": True}
    assert out["ProcessingConfiguration"]["Processors"][0]["Parameters"][0]["ParameterValue"] == "3"
    with pytest.raises(ResourceError, match="unsupported property ExtendedS3DestinationConfiguration.Nope"):
        conform({**given, "Nope": 1}, shape, "ExtendedS3DestinationConfiguration")
    with pytest.raises(ResourceError, match="must be of type integer"):
        conform({"BufferingHints": {"SizeInMBs": "lots"}}, shape, "X")


# -- BucketDeployment pieces --------------------------------------------------------------------------
def test_sync_filters_later_include_wins() -> None:
    assert included("a/b.txt", [], [])
    assert not included("a/b.txt", ["*.txt"], [])
    assert included("a/keep.txt", ["*"], ["*/keep.txt"])
    assert not included("a/b.json", ["*"], ["*.txt"])


def test_markers_and_prefixes() -> None:
    assert replace_markers(b"url=<<marker:0>>\nx\n", {"<<marker:0>>": "https://h/p"}, False) == b"url=https://h/p\nx\n"
    assert replace_markers(b'{"v": "M"}', {"M": 'say "hi"'}, True) == b'{"v": "say \\"hi\\""}'
    assert replace_markers(b"unchanged", {}, False) == b"unchanged"
    assert as_directory("") == "" and as_directory("a") == "a/" and as_directory("a/") == "a/"


def test_custom_resource_properties_are_strings() -> None:
    assert stringified({"Extract": True, "N": 3, "L": [False, {"x": 1.5}], "S": "s"}) == {
        "Extract": "true", "N": "3", "L": ["false", {"x": "1.5"}], "S": "s"
    }
