"""pipeline_lib._deploy.synth helpers, the data set context, and the synth CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.dataset_files import DatasetParams, ensure_dataset
from pipeline_lib._deploy import synth as synth_mod


def test_parse_context():
    assert synth_mod.parse_context(["items=100", "seed=7", "note=a=b"]) == {"items": "100", "seed": "7", "note": "a=b"}
    assert synth_mod.parse_context(None) == {}
    with pytest.raises(ValueError, match="key=value"):
        synth_mod.parse_context(["items"])


def test_app_context_merges_like_the_cdk_cli(tmp_path):
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "x", "context": {"items": 10, "seed": 1, "flag": True}}))
    (tmp_path / "cdk.context.json").write_text(json.dumps({"seed": 2}))
    assert synth_mod.app_context(tmp_path, {"items": "5"}) == {"items": "5", "seed": 2, "flag": True}
    (tmp_path / "cdk.json").write_text("{not json")
    with pytest.raises(synth_mod.SynthError, match="not valid JSON"):
        synth_mod.app_context(tmp_path)


def test_the_real_cdk_json_sets_the_data_set_defaults():
    context = synth_mod.app_context()
    assert DatasetParams.from_context(context.get) == DatasetParams(items=10_000, seed=42, updates=500, deletes=100)


@pytest.mark.cdk
def test_jsii_env_silences_the_node_banner_for_this_node_major():
    import subprocess

    major = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    major = major.lstrip("v").split(".")[0]
    env = synth_mod.jsii_env({})
    assert major in env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"].split(",")


@pytest.mark.parametrize(
    "context, message",
    [
        ({"items": "abc"}, "not a whole number"),
        ({"items": 0}, "at least 1 item"),
        ({"seed": -1}, "whole number >= 0"),
        ({"deletes": 1.5}, "whole number >= 0"),
        ({"updates": True}, "whole number >= 0"),
    ],
)
def test_dataset_params_reject_bad_context(context, message):
    with pytest.raises(ValueError, match=message):
        DatasetParams.from_context(context.get)


def test_dataset_params_accept_cli_strings():
    params = DatasetParams.from_context({"items": "30", "seed": "7", "updates": "3", "deletes": "1"}.get)
    assert params == DatasetParams(items=30, seed=7, updates=3, deletes=1)


def test_ensure_dataset_is_deterministic_and_cached(tmp_path):
    params = DatasetParams(items=30, seed=7, updates=3, deletes=1)
    first = ensure_dataset(tmp_path / "a", params)
    second = ensure_dataset(tmp_path / "b", params)
    for name in ("items.jsonl", "changes.jsonl"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert len((first / "changes.jsonl").read_text().splitlines()) == 4
    stamp = (first / "items.jsonl").stat().st_mtime_ns
    assert ensure_dataset(tmp_path / "a", params) == first
    assert (first / "items.jsonl").stat().st_mtime_ns == stamp, "an existing data set is reused"
    assert [p.name for p in (tmp_path / "a").iterdir()] == [first.name], "no staging folder left behind"


def test_ensure_dataset_replaces_files_of_an_older_generator(tmp_path):
    params = DatasetParams(items=10, seed=1, updates=0, deletes=0)
    stale = tmp_path / f"{params.stem}-genoldversion"
    stale.mkdir()
    (stale / "items.jsonl").write_text("old\n")
    other = tmp_path / "seed9-items10-updates0-deletes0-genoldversion"
    other.mkdir()
    fresh = ensure_dataset(tmp_path, params)
    assert fresh != stale and not stale.exists(), "a changed generator must not reuse old files"
    assert other.exists(), "files of other values are kept"


@pytest.mark.cdk
def test_asset_manifest_lists_file_assets(assembly):
    assets = synth_mod.asset_manifest(assembly.out_dir, account="123456789012", region="eu-west-1")
    assert {a.packaging for a in assets} <= {"zip", "file"}
    assert all(a.bucket_name == "cdk-hnb659fds-assets-123456789012-eu-west-1" for a in assets)
    assert all(a.source_path.exists() for a in assets)
    template_keys = json.dumps(assembly.template)
    code_assets = [a for a in assets if a.source_path != assembly.template_path]
    assert len(code_assets) == 4  # lambdas folder, data set, BucketDeployment handler, its AWS CLI layer
    assert all(a.object_key in template_keys for a in code_assets)
    unsubstituted = synth_mod.asset_manifest(assembly.out_dir)
    assert all("${AWS::AccountId}" in a.bucket_name for a in unsubstituted)


@pytest.mark.cdk
def test_template_paths(assembly):
    assert synth_mod.template_paths(assembly.out_dir) == {"CdcWorkbench": assembly.template_path}


@pytest.mark.cdk
def test_synth_failure_carries_the_app_error(tmp_path):
    with pytest.raises(synth_mod.SynthError) as info:
        synth_mod.synth(tmp_path, {"items": "many"})
    assert "context items='many' is not a whole number" in str(info.value)


def test_synth_without_an_app_is_a_clear_error(tmp_path):
    with pytest.raises(synth_mod.SynthError, match="no CDK app"):
        synth_mod.synth(tmp_path / "out", app_dir=tmp_path)


def test_reading_a_missing_assembly_says_to_synthesize(tmp_path):
    with pytest.raises(synth_mod.SynthError, match="synthesize first"):
        synth_mod.template_paths(tmp_path)


def test_cli_registers_synth():
    from pipeline_lib.cli import build_parser

    args = build_parser().parse_args(["synth", "--out", "x", "--context", "items=5"])
    assert args.out == "x" and args.context == ["items=5"] and args.func.__module__ == "pipeline_lib.cli.synth"


def test_cli_reports_bad_context_without_traceback(capsys):
    from pipeline_lib.cli import main

    assert main(["synth", "--out", "x", "--context", "items"]) == 2
    assert "not key=value" in capsys.readouterr().err
