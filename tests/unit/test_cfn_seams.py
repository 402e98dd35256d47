"""The CloudFormation extension's seams on moto (with the S3 seams stacks rely on): checked against
moto's attributes, installed once however often install runs, and working in-process (moto's
decorator mode)."""
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
from pipeline_lib.localcloud.cloud import LocalCloud
from pipeline_lib.localcloud.glue.cloudformation import Table

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
    (responses.CloudFormationResponse, "process_cfn_response"),
]
S3_PATCHED = [(FakeBucket, "get_permission")]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> LocalCloud:
    """Every service package's extension (the registry collects their resource types), not started."""
    return LocalCloud("127.0.0.1", 1, str(tmp_path_factory.mktemp("cfn-state")))


def cfn_seams(cloud: LocalCloud) -> seam.SeamSet:
    return cloud.extension("cfn").seams  # type: ignore[attr-defined]


def _install(cloud: LocalCloud) -> None:
    cloud.extension("s3").install()
    cloud.extension("cfn").install()


@pytest.fixture
def installed(cloud: LocalCloud) -> Iterator[None]:
    _install(cloud)
    try:
        yield
    finally:
        cfn_seams(cloud).restore()
        cloud.extension("s3").seams.restore()  # type: ignore[attr-defined]


def test_install_patches_each_seam_once(installed, cloud) -> None:
    originals = {(owner, name): seam.original(owner, name) for owner, name in PATCHED + S3_PATCHED}
    patched = {(owner, name): vars(owner)[name] if isinstance(owner, type) else getattr(owner, name)
               for owner, name in PATCHED + S3_PATCHED}
    assert all(seam.is_patched(owner, name) for owner, name in PATCHED + S3_PATCHED)
    _install(cloud)  # again: still moto's originals underneath, one layer of ours
    for owner, name in PATCHED + S3_PATCHED:
        assert seam.original(owner, name) is originals[(owner, name)]
        current = vars(owner)[name] if isinstance(owner, type) else getattr(owner, name)
        assert current is not originals[(owner, name)]
        assert type(current) is type(patched[(owner, name)])
    assert parsing.resource_class_from_type("AWS::Glue::Table") is Table
    assert parsing.resource_class_from_type("AWS::SQS::Queue") is seam.original(parsing, "resource_class_from_type")("AWS::SQS::Queue")
    assert parsing.resource_class_from_type("AWS::AppRunner::Service") is UnsupportedResource
    assert parsing.resource_class_from_type("AWS::CloudFormation::WaitConditionHandle") is UnsupportedResource
    custom = parsing.resource_class_from_type("Custom::Anything")
    assert issubclass(custom, lambda_backed.LambdaBackedResource) and custom.responses is cloud.extension("cfn").responses
    assert parsing.resource_name_property_from_type("AWS::KinesisFirehose::DeliveryStream") == "DeliveryStreamName"


def test_uninstall_restores_moto(cloud) -> None:
    moto_lookup = seam.original(parsing, "resource_class_from_type")
    _install(cloud)
    cfn_seams(cloud).restore()
    cloud.extension("s3").seams.restore()  # type: ignore[attr-defined]
    assert parsing.resource_class_from_type is moto_lookup
    assert not any(seam.is_patched(owner, name) for owner, name in PATCHED + S3_PATCHED)


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


def test_installed_moto_matches_every_cfn_seam(cloud) -> None:
    """Fails when a moto upgrade changes anything the extension patches, calls or reads (no patching here)."""
    cfn_seams(cloud).check()
    assert len([d for d in cfn_seams(cloud).describe() if d.startswith("replace")]) == len(PATCHED)
    # moto's private ResourceMap/Stack state that stack.py reads is declared too
    assert "reads moto.cloudformation.parsing.ResourceMap._parsed_resources" in cfn_seams(cloud).describe()


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
