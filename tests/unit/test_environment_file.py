"""environment.yml (conda users) must name exactly the dependencies pyproject.toml names."""
from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _normalise(spec: str) -> str:
    return spec.replace(" ", "").lower()


def test_environment_yml_names_the_same_dependencies_as_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_normalise(s) for s in project["dependencies"]}
    for extra in ("dev", "lab"):
        wanted |= {_normalise(s) for s in project["optional-dependencies"][extra]}

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {_normalise(s) for s in pip_section if not s.startswith("-e")}

    assert listed == wanted, (
        f"only in pyproject: {sorted(wanted - listed)}; only in environment.yml: {sorted(listed - wanted)}"
    )
    assert any(s.startswith("-e") for s in pip_section), "environment.yml must install the project itself"
