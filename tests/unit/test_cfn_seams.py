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

from pipeline_lib.localcloud import seam
from pipeline_lib.localcloud.cfn import lambda_backed
from pipeline_lib.localcloud.cfn.base import UnsupportedResource
from pipeline_lib.localcloud.cfn.glue import Table
from pipeline_lib.localcloud.cfn.seams import cfn_seams

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
    cfn_seams().apply()


@pytest.fixture
def installed() -> Iterator[None]:
    _install()
    try:
        yield
    finally:
        cfn_seams().restore()


def test_install_patches_each_seam_once(installed) -> None:
    originals = {(owner, name): seam.original(owner, name) for owner, name in PATCHED}
    patched = {(owner, name): vars(owner)[name] if isinstance(owner, type) else getattr(owner, name)
               for owner, name in PATCHED}
    assert all(seam.is_patched(owner, name) for owner, name in PATCHED)
    _install()  # again: still moto's originals underneath, one layer of ours
    for owner, name in PATCHED:
        assert seam.original(owner, name) is originals[(owner, name)]
        current = vars(owner)[name] if isinstance(owner, type) else getattr(owner, name)
        assert current is not originals[(owner, name)]
        assert type(current) is type(patched[(owner, name)])
    assert parsing.resource_class_from_type("AWS::Glue::Table") is Table
    assert parsing.resource_class_from_type("AWS::SQS::Queue") is seam.original(parsing, "resource_class_from_type")("AWS::SQS::Queue")
    assert parsing.resource_class_from_type("AWS::AppRunner::Service") is UnsupportedResource
    assert parsing.resource_class_from_type("AWS::CloudFormation::WaitConditionHandle") is UnsupportedResource
    assert parsing.resource_class_from_type("Custom::Anything") is lambda_backed.LambdaBackedResource
    assert parsing.resource_name_property_from_type("AWS::KinesisFirehose::DeliveryStream") == "DeliveryStreamName"


def test_uninstall_restores_moto() -> None:
    moto_lookup = seam.original(parsing, "resource_class_from_type")
    _install()
    cfn_seams().restore()
    assert parsing.resource_class_from_type is moto_lookup
    assert not any(seam.is_patched(owner, name) for owner, name in PATCHED)


def test_a_changed_moto_is_refused_naming_its_version() -> None:
    class Fake:
        def method(self, a, b):  # noqa: ANN001, ANN201
            return a, b

    def seams_for(name: str, params: tuple[str, ...]) -> seam.SeamSet:
        found = seam.SeamSet("test")
        found.replace(Fake, name, params, lambda original: original)
        return found

    seams_for("method", ("self", "a", "b")).check()
    with pytest.raises(seam.SeamError, match=r"moto \d+\.\d+\.\d+.*takes \('self', 'a', 'b'\), the seam expects \('self', 'x'\)"):
        seams_for("method", ("self", "x")).check()
    with pytest.raises(seam.SeamError, match=r"moto \d+\.\d+\.\d+.*Fake\.gone no longer exists"):
        seams_for("gone", ("self",)).apply()
    # Module-level functions (parsing.resource_class_from_type is one) are checked the same way.
    module_seams = seam.SeamSet("test")
    module_seams.expect(parsing, "resource_class_from_type", ("resource_type", "strict"))
    with pytest.raises(seam.SeamError, match=r"parsing\.resource_class_from_type takes \('resource_type',\)"):
        module_seams.check()


def test_installed_moto_matches_every_cfn_seam() -> None:
    """Fails when a moto upgrade changes anything the extension patches or calls (no patching here)."""
    cfn_seams().check()
    assert len([d for d in cfn_seams().describe() if d.startswith("replace")]) == len(PATCHED)


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
