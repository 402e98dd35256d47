"""Every file of the Lambda asset folder runs as deployed (the folder as is, one handler file
each): it imports the standard library only, plus boto3 where the Lambda runtime provides it, and
nothing relative."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import pipeline_lib.lambdas

LAMBDAS = Path(pipeline_lib.lambdas.__file__).parent
# Beyond the standard library: what each file may import.
ALLOWED = {
    "enricher": set(),  # a Firehose transformation: no AWS calls
    "seeder": {"boto3", "botocore"},
    "delivery_monitor": {"boto3", "botocore"},
}


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_the_lambda_file_is_self_contained(module: str) -> None:
    tree = ast.parse((LAMBDAS / f"{module}.py").read_text())
    roots = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    roots |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    foreign = roots - set(sys.stdlib_module_names) - ALLOWED[module]
    assert not foreign, foreign
    assert not any(isinstance(node, ast.ImportFrom) and node.level for node in ast.walk(tree))


def test_every_lambda_file_is_checked() -> None:
    assert {p.stem for p in LAMBDAS.glob("*.py")} - {"__init__"} == set(ALLOWED)
