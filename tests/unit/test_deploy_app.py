"""Where synth and deploy find the CDK app, and what they say when there is none."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline_lib import deploy

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_finds_its_infra_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(deploy.APP_DIR_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)  # from anywhere: the checkout holding the package
    assert deploy.find_app_dir() == ROOT / "infra"
    assert deploy.default_out_dir() == ROOT / "cdk.out"


def test_the_variable_names_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(deploy.APP_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(deploy.AppNotFound, match=f"no CDK app at {tmp_path / 'app.py'}"):
        deploy.find_app_dir()
    (tmp_path / "app.py").write_text("")
    assert deploy.find_app_dir() == tmp_path
    assert deploy.default_out_dir() == tmp_path.parent / "cdk.out"


def test_an_explicit_directory_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(deploy.APP_DIR_VARIABLE, str(ROOT / "infra"))
    with pytest.raises(deploy.AppNotFound):
        deploy.find_app_dir(tmp_path)


def test_synth_without_an_app_is_a_synth_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(deploy.APP_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(deploy.SynthError, match="no CDK app"):
        deploy.synth(tmp_path / "out")
