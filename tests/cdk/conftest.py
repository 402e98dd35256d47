"""Synthesize the app ONCE per session (jsii start-up is slow) with a tiny data set."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline_lib._deploy import synth as synth_mod

ROOT = Path(__file__).resolve().parents[2]
# `infra` is not an installed package; tests import it from the repository root (never infra/
# itself, whose constructs/ folder would shadow the `constructs` library).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# aws_cdk is also imported in-process (assertions, nag tests): silence jsii's Node banners first.
for _key in ("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION",
             "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION"):
    os.environ.setdefault(_key, synth_mod.jsii_env({})[_key])

TEST_CONTEXT = {"items": 50, "seed": 42, "updates": 5, "deletes": 2}
_timings: dict[str, float] = {}


@dataclass(frozen=True)
class Assembly:
    out_dir: Path
    template_path: Path
    template: dict[str, Any]
    context: dict[str, Any]


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Assembly:
    out = tmp_path_factory.mktemp("cdk.out")
    began = time.perf_counter()
    template_path = synth_mod.synth(out, TEST_CONTEXT)
    _timings["synth (subprocess, tiny data set)"] = time.perf_counter() - began
    return Assembly(out, template_path, synth_mod.load_template(template_path), dict(TEST_CONTEXT))


@pytest.fixture(scope="session")
def template(assembly: Assembly) -> dict[str, Any]:
    return assembly.template


@pytest.fixture(scope="session")
def cdk_template(assembly: Assembly):
    """The template as aws_cdk.assertions.Template (starts jsii in this process)."""
    from aws_cdk.assertions import Template

    began = time.perf_counter()
    t = Template.from_json(assembly.template)
    _timings["Template.from_json (in-process jsii)"] = time.perf_counter() - began
    return t


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for label, seconds in _timings.items():
        terminalreporter.write_line(f"cdk: {label}: {seconds:.1f} s")
