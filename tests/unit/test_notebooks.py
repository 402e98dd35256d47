"""The walkthrough's shape (its execution is `pytest --nbmake notebooks`): nine or more notebooks
numbered in order, each with a title, a plot and a summary, committed without outputs, and none
deciding what to do by the backend it runs on."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# A condition on the backend: `if backend.current_backend() == ...`, `if os.environ["PIPELINE_BACKEND"]`,
# `... if endpoint_url(session) else ...`.
BRANCH_ON_BACKEND = re.compile(r"\b(if|elif|while)\b[^\n]*(current_backend|PIPELINE_BACKEND|endpoint_url|localcloud)")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def test_at_least_nine_notebooks_numbered_in_order() -> None:
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(1, len(numbers) + 1)), [p.name for p in NOTEBOOKS]
    assert len(numbers) >= 9


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_title_a_plot_and_a_summary(path: Path) -> None:
    cells = _cells(path)
    number = int(path.name[:2])
    assert cells[0]["cell_type"] == "markdown" and _source(cells[0]).startswith(f"# {number} · ")
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    assert "plt.show()" in code, f"{path.name} has no plot"
    assert any(c["cell_type"] == "markdown" and _source(c).startswith("## Summary") for c in cells[-2:])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_outputs_and_no_branch_on_the_backend(path: Path) -> None:
    for cell in _cells(path):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, f"{path.name} has outputs"
            assert not BRANCH_ON_BACKEND.search(_source(cell)), _source(cell)


def test_only_the_last_notebook_destroys_the_stack() -> None:
    destroying = [p.name for p in NOTEBOOKS
                  if any("deploy.destroy(" in _source(c) for c in _cells(p) if c["cell_type"] == "code")]
    assert destroying == [NOTEBOOKS[-1].name]
