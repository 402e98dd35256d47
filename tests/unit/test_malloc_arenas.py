"""The server's glibc arena limit (localcloud/malloc.py): set unless the environment says."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = "from pipeline_lib.localcloud.malloc import limit_arenas; print(limit_arenas())"


def _run(env_extra: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env_extra
    return subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_limit_is_set_on_glibc():
    assert _run({}) == "True"


def test_the_environments_setting_wins():
    assert _run({"MALLOC_ARENA_MAX": "4"}) == "False"
