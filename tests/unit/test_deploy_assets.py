"""Asset publishing of the local deploy: the manifest read, destinations substituted, directories
zipped the same way every time, and the template passed by body or by URL."""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from pipeline_lib import deploy
from pipeline_lib._deploy import assets, cdk_cli, synth
from pipeline_lib._deploy.events import failure_reasons
from pipeline_lib._deploy.app import find_app_dir
from pipeline_lib.cli.deploy import format_outputs

ACCOUNT, REGION = "123456789012", "eu-west-1"
BUCKET = "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"


def _destination(key: str) -> dict:
    return {
        "d": {
            "bucketName": BUCKET,
            "objectKey": key,
            "assumeRoleArn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-file-publishing-role",
        }
    }


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    """A hand-made cloud assembly: a directory asset, a file asset, the template asset."""
    code = tmp_path / "asset.aaa"
    (code / "pkg").mkdir(parents=True)
    (code / "index.py").write_text("def handler(event, context):\n    return event\n")
    (code / "pkg" / "tool.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(code / "pkg" / "tool.sh", 0o755)
    (tmp_path / "asset.bbb.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    (tmp_path / "Stack.template.json").write_text(json.dumps({"Resources": {}}))
    manifest = {
        "version": "55.0.0",
        "files": {
            "aaa": {"source": {"path": "asset.aaa", "packaging": "zip"}, "destinations": _destination("aaa.zip")},
            "bbb": {"source": {"path": "asset.bbb.zip", "packaging": "file"}, "destinations": _destination("bbb.zip")},
            "ccc": {"source": {"path": "Stack.template.json", "packaging": "file"}, "destinations": _destination("ccc.json")},
        },
        "dockerImages": {},
    }
    (tmp_path / "Stack.assets.json").write_text(json.dumps(manifest))
    return tmp_path


def test_manifest_gives_uploads_with_substituted_destinations(assembly: Path) -> None:
    planned = assets.uploads(synth.asset_manifest(assembly, "Stack", account=ACCOUNT, region=REGION))
    by_key = {u.key: u for u in planned}
    assert set(by_key) == {"aaa.zip", "bbb.zip", "ccc.json"}
    assert {u.bucket for u in planned} == {f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"}
    assert by_key["aaa.zip"].zip_directory and by_key["aaa.zip"].source == (assembly / "asset.aaa").resolve()
    assert not by_key["bbb.zip"].zip_directory
    assert by_key["ccc.json"].source == (assembly / "Stack.template.json").resolve()
    assert assets.assets_bucket(ACCOUNT, REGION) == by_key["aaa.zip"].bucket


def test_unsubstituted_destination_is_refused(assembly: Path) -> None:
    with pytest.raises(deploy.DeployError, match="placeholder"):
        assets.uploads(synth.asset_manifest(assembly, "Stack"))


def test_missing_asset_source_is_refused(assembly: Path) -> None:
    (assembly / "asset.bbb.zip").unlink()
    with pytest.raises(deploy.DeployError, match="asset bbb"):
        assets.uploads(synth.asset_manifest(assembly, "Stack", account=ACCOUNT, region=REGION))


def test_directory_zip_is_deterministic(assembly: Path, tmp_path: Path) -> None:
    source = assembly / "asset.aaa"
    first = assets.zip_directory(source, tmp_path / "one.zip").read_bytes()
    os.utime(source / "index.py", (1_900_000_000, 1_900_000_000))  # a newer mtime changes nothing
    second = assets.zip_directory(source, tmp_path / "two.zip").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["index.py", "pkg/tool.sh"]  # sorted, files only
        assert {i.date_time for i in infos} == {assets.ZIP_DATE}
        assert (infos[1].external_attr >> 16) & 0o777 == 0o755  # executables stay executable
        assert archive.read("index.py") == (source / "index.py").read_bytes()


def test_directory_zip_changes_with_content(assembly: Path, tmp_path: Path) -> None:
    source = assembly / "asset.aaa"
    before = assets.zip_directory(source, tmp_path / "a.zip").read_bytes()
    (source / "index.py").write_text("def handler(event, context):\n    return None\n")
    assert assets.zip_directory(source, tmp_path / "b.zip").read_bytes() != before


def test_small_template_goes_as_body_byte_for_byte(assembly: Path) -> None:
    path = assembly / "Stack.template.json"
    argument = assets.template_argument(path, None, REGION)
    assert argument == {"TemplateBody": path.read_text()}


def test_large_template_goes_by_url_of_its_asset(assembly: Path) -> None:
    path = assembly / "Stack.template.json"
    path.write_text(json.dumps({"Resources": {}, "Description": "x" * assets.TEMPLATE_BODY_LIMIT}))
    planned = assets.uploads(synth.asset_manifest(assembly, "Stack", account=ACCOUNT, region=REGION))
    template_upload = next(u for u in planned if u.source == path.resolve())
    argument = assets.template_argument(path, template_upload, REGION)
    assert argument == {"TemplateURL": f"https://s3.{REGION}.amazonaws.com/{template_upload.bucket}/ccc.json"}
    with pytest.raises(deploy.DeployError, match="51200-byte"):
        assets.template_argument(path, None, REGION)


def test_cdk_command_pins_the_cli_and_passes_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cdk_cli.shutil, "which", lambda name: f"/usr/bin/{name}")
    command = cdk_cli.cdk_command("deploy", "CdcWorkbench", {"items": "100"}, ["--require-approval", "never"])
    assert command[:5] == ["/usr/bin/npx", "--yes", f"aws-cdk@{cdk_cli.PINNED_CDK_CLI}", "deploy", "CdcWorkbench"]
    assert command[command.index("--context") + 1] == "items=100"
    assert str(find_app_dir() / "app.py") in command[command.index("--app") + 1]
    monkeypatch.setattr(cdk_cli.shutil, "which", lambda name: None)
    with pytest.raises(deploy.DeployError, match="npx"):
        cdk_cli.cdk_command("destroy", "CdcWorkbench", None, [])


def test_aws_backend_refuses_a_local_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    with pytest.raises(deploy.DeployError, match="unset it"):
        deploy.deploy(backend="aws")


def test_failure_reasons_put_resources_first() -> None:
    events = [
        {"LogicalResourceId": "S", "ResourceType": "AWS::CloudFormation::Stack", "ResourceStatus": "ROLLBACK_IN_PROGRESS",
         "ResourceStatusReason": "The following resource(s) failed to create: [R]."},
        {"LogicalResourceId": "S", "ResourceType": "AWS::CloudFormation::Stack", "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "stack"},
        {"LogicalResourceId": "R", "ResourceType": "AWS::X::Y", "ResourceStatus": "CREATE_FAILED",
         "ResourceStatusReason": "Resource type AWS::X::Y is not supported"},
        {"LogicalResourceId": "Q", "ResourceType": "AWS::X::Z", "ResourceStatus": "CREATE_COMPLETE"},
    ]
    assert failure_reasons(events) == [
        "R (AWS::X::Y): Resource type AWS::X::Y is not supported",
        "S (AWS::CloudFormation::Stack): stack",
    ]


def test_outputs_table() -> None:
    assert format_outputs({"TableName": "t", "A": "1"}).splitlines() == ["A          1", "TableName  t"]
    assert format_outputs({}) == "(no outputs)"
