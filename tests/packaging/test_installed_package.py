"""`pip install .` (not editable) into a fresh virtual environment, then, from a directory far
from the checkout: import pipeline_lib, generate a data set, read the lake schema, run the CLI.
Nothing the library needs at run time may come from the repository."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[2]

# Runs in the installed copy, with /tmp-like cwd; prints what the test checks.
PROBE = r"""
import json, sys
from pathlib import Path

import pipeline_lib
from pipeline_lib import data, deploy, schema

out = Path(sys.argv[1])
summary = data.generate_files(40, 7, out / "items.jsonl", changes_out=out / "changes.jsonl",
                              updates=4, deletes=2, progress=False)
lake_schema = data.load_schema()
lambdas = Path(pipeline_lib.__file__).parent / "lambdas"
try:
    deploy.find_app_dir()
    app = "found"
except deploy.AppNotFound as exc:
    app = str(exc)
print(json.dumps({
    "package": pipeline_lib.__file__,
    "schema_path": str(schema.DEFAULT_SCHEMA_PATH),
    "table": lake_schema.table,
    "columns": [c.name for c in lake_schema.columns],
    "partition_keys": [c.name for c in lake_schema.partition_keys],
    "items": summary.items, "updates": summary.updates, "deletes": summary.deletes,
    "lambdas": sorted(p.name for p in lambdas.glob("*.py")),
    "app": app,
}))
"""


def _build_env() -> Path:
    """A venv with this interpreter's packages visible (appended by a .pth: they come after the
    venv's own site-packages, and their own .pth files, e.g. an editable pipeline_lib, are not run)."""
    return Path(sysconfig.get_paths()["purelib"])


def _has_recent_setuptools() -> bool:
    try:
        from importlib.metadata import version

        return int(version("setuptools").split(".")[0]) >= 77
    except Exception:  # not installed, or an odd version string
        return False


def test_pip_install_then_use_from_anywhere(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a copy: building in the checkout would leave build/ and egg-info there
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "pipeline_lib", source / "pipeline_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "_dependencies.pth").write_text(f"{_build_env()}\n")

    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV")}
    # Offline when the build backend is at hand (the dev extra installs it); else pip fetches it.
    offline = ["--no-build-isolation", "--no-index"] if _has_recent_setuptools() else []
    install = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--quiet", *offline, str(source)],
        capture_output=True, text=True, env=clean, cwd=tmp_path, timeout=180,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = subprocess.run([python, "-c", PROBE, str(elsewhere)], capture_output=True, text=True,
                           env=clean, cwd=elsewhere, timeout=120)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)

    assert Path(found["package"]).is_relative_to(site), f"imported {found['package']}, not the installed copy"
    assert Path(found["schema_path"]).is_relative_to(site)
    # The schema as shipped is the repository's, read independently here.
    expected = json.loads((ROOT / "pipeline_lib" / "data" / "schema.json").read_text())
    assert found["table"] == expected["table"]
    assert found["columns"] == [c["name"] for c in expected["columns"]]
    assert found["partition_keys"] == [c["name"] for c in expected["partition_keys"]]
    assert (found["items"], found["updates"], found["deletes"]) == (40, 4, 2)
    lines = (elsewhere / "items.jsonl").read_text().splitlines()
    assert len(lines) == 40 and all("PutRequest" in json.loads(line) for line in lines)
    assert len((elsewhere / "changes.jsonl").read_text().splitlines()) == 6
    assert {"enricher.py", "seeder.py", "delivery_monitor.py"} <= set(found["lambdas"])
    # No infra/ beside an installed package: deploy says what it needs instead of failing later.
    assert "need a checkout" in found["app"] and "PIPELINE_INFRA_DIR" in found["app"]

    # The console script and `python -m` both run the CLI.
    cli = subprocess.run([env_dir / "bin" / "workbench", "generate", "--items", "5", "--out", "x.jsonl",
                          "--no-progress"], capture_output=True, text=True, env=clean, cwd=elsewhere, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert len((elsewhere / "x.jsonl").read_text().splitlines()) == 5
    module = subprocess.run([python, "-m", "pipeline_lib", "--help"], capture_output=True, text=True,
                            env=clean, cwd=elsewhere, timeout=60)
    assert module.returncode == 0 and "generate" in module.stdout, module.stderr
