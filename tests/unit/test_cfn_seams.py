"""The CloudFormation extension's seams on moto: checked against moto's attributes, installed once
however often install runs, and working in-process (moto's decorator mode)."""
from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation import models, parsing, responses
from moto.s3.models import FakeBucket

from pipeline_lib.localcloud.cfn import lambda_backed, registry, s3, seams, stack
from pipeline_lib.localcloud.cfn.base import UnsupportedResource
from pipeline_lib.localcloud.cfn.glue import Table

PATCHED = [
    (parsing, "resource_class_from_type"),
    (parsing, "resource_name_property_from_type"),
    (parsing, "parse_and_create_resource"),
    (parsing.ResourceMap, "parse_ssm_parameter"),
    (parsing.ResourceMap, "load"),
    (models.Stack, "create_resources"),
    (models.Stack, "update"),
    (models.Stack, "delete"),
    (models.Stack, "stack_resources"),
    (models.Stack, "outputs"),
    (models.CloudFormationBackend, "delete_stack"),
    (FakeBucket, "get_permission"),
    (responses.CloudFormationResponse, "process_cfn_response"),
]


def _install() -> None:
    registry.install()
    stack.install()
    s3.install()
    lambda_backed.install()


@pytest.fixture
def installed() -> Iterator[None]:
    _install()
    try:
        yield
    finally:
        seams.unpatch_all()


def test_install_patches_each_seam_once(installed) -> None:
    originals = {(owner, name): seams.original(owner, name) for owner, name in PATCHED}
    patched = {(owner, name): vars(owner)[name] if isinstance(owner, type) else getattr(owner, name)
               for owner, name in PATCHED}
    assert all(seams.patched(owner, name) for owner, name in PATCHED)
    _install()  # again: still moto's originals underneath, one layer of ours
    for owner, name in PATCHED:
        assert seams.original(owner, name) is originals[(owner, name)]
        current = vars(owner)[name] if isinstance(owner, type) else getattr(owner, name)
        assert current is not originals[(owner, name)]
        assert type(current) is type(patched[(owner, name)])
    assert parsing.resource_class_from_type("AWS::Glue::Table") is Table
    assert parsing.resource_class_from_type("AWS::SQS::Queue") is seams.original(parsing, "resource_class_from_type")("AWS::SQS::Queue")
    assert parsing.resource_class_from_type("AWS::AppRunner::Service") is UnsupportedResource
    assert parsing.resource_class_from_type("AWS::CloudFormation::WaitConditionHandle") is UnsupportedResource
    assert parsing.resource_class_from_type("Custom::Anything") is lambda_backed.LambdaBackedResource
    assert parsing.resource_name_property_from_type("AWS::KinesisFirehose::DeliveryStream") == "DeliveryStreamName"


def test_uninstall_restores_moto() -> None:
    moto_lookup = seams.original(parsing, "resource_class_from_type")
    _install()
    seams.unpatch_all()
    assert parsing.resource_class_from_type is moto_lookup
    assert not any(seams.patched(owner, name) for owner, name in PATCHED)


def test_a_changed_moto_is_refused_naming_its_version() -> None:
    class Fake:
        def method(self, a, b):  # noqa: ANN001, ANN201
            return a, b

    seams.check(Fake, "method", ("a", "b"))
    with pytest.raises(seams.SeamChanged, match=r"moto \d+\.\d+\.\d+.*takes \('a', 'b'\), expected \('x',\)"):
        seams.check(Fake, "method", ("x",))
    with pytest.raises(seams.SeamChanged, match="has no .*Fake.gone"):
        seams.patch(Fake, "gone", lambda original: original)


@mock_aws
def test_in_process_stack_fails_naming_the_unsupported_type(installed) -> None:
    cf = boto3.client("cloudformation", region_name="us-east-1")
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"},
                              "Thing": {"Type": "AWS::AppRunner::Service", "DependsOn": "Queue"}}}
    cf.create_stack(StackName="s", TemplateBody=json.dumps(template))
    assert cf.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [e for e in cf.describe_stack_events(StackName="s")["StackEvents"] if e["ResourceStatus"] == "CREATE_FAILED"]
    assert "AWS::AppRunner::Service" in failed[0]["ResourceStatusReason"]
    assert boto3.client("sqs", region_name="us-east-1").list_queues().get("QueueUrls", []) == []  # rolled back
