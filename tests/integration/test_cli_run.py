"""`python -m pipeline_lib run` as a user runs it: the deployed stack's flow, reconciled."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline_lib.localcloud import lifecycle

pytestmark = pytest.mark.integration


def run_cli(endpoint: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **lifecycle.client_env(endpoint), "PIPELINE_BACKEND": "local"}
    return subprocess.run([sys.executable, "-m", "pipeline_lib", "run", *args],
                          capture_output=True, text=True, env=env, timeout=600)


def test_run_without_a_stack_says_to_deploy(tmp_path: Path) -> None:
    state = str(tmp_path / "empty-cloud")
    running = lifecycle.up(port=0, state_dir=state)
    try:
        result = run_cli(running.endpoint)
    finally:
        lifecycle.down(state)
    assert result.returncode == 2
    assert "not deployed; run `python -m pipeline_lib deploy` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_seeds_delivers_crawls_and_reconciles(deployed_stack, local_cloud) -> None:
    result = run_cli(local_cloud.endpoint, "--poll-seconds", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reconciled: every change is a row or an error record" in result.stdout
    written = next(line for line in result.stdout.splitlines() if line.startswith("in "))
    assert int(written.split()[1].replace(",", "")) > 0
