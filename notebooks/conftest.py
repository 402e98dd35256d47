"""Run the walkthrough notebooks as tests (`pytest --nbmake notebooks`) against a local cloud of
their own, which is stopped when the session ends.

Notebook kernels inherit this process's environment when they start. While a notebook runs, the
environment says: the local backend (PIPELINE_BACKEND=local), this session's cloud (its state dir
in PIPELINE_STATE_DIR), and nothing else: no AWS_ENDPOINT_URL of another fixture's cloud (the
integration tests set one for their session), no profile or credentials of the developer's
(a session from `backend.connect()` carries dummy ones of its own). The environment is restored after each notebook.

The notebooks' kernelspec is `python3`. JUPYTER_PATH puts this environment's kernelspecs (ipykernel
installs `python3` there) first, so a user-level `python3` (`ipykernel install --user`) cannot
swap the interpreter even with JUPYTER_PREFER_ENV_PATH=0; jupyter_client runs a kernelspec whose
command is `python` with this interpreter.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from pipeline_lib.localcloud import lifecycle

CLEARED = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")


class NotebookCloud:
    """One local cloud for all notebooks of the session, started before the first one runs."""

    def __init__(self) -> None:
        self.state_dir: str | None = None
        self._saved: dict[str, str | None] = {}

    def environment(self) -> dict[str, str | None]:
        """What the kernels see (None: unset)."""
        kernels = str(Path(sys.prefix) / "share" / "jupyter")
        jupyter_path = os.pathsep.join(p for p in (kernels, os.environ.get("JUPYTER_PATH")) if p)
        return {
            "PIPELINE_BACKEND": "local",
            "PIPELINE_STATE_DIR": self.state_dir,
            "JUPYTER_PATH": jupyter_path,
            "JUPYTER_PLATFORM_DIRS": "1",  # jupyter_core's own future default; silences its warning
            **{name: None for name in CLEARED},
        }

    def enter(self, config: pytest.Config) -> None:
        starting = self.state_dir is None
        if starting:
            self.state_dir = tempfile.mkdtemp(prefix="walkthrough-cloud-")
            config.add_cleanup(self.stop)
        wanted = self.environment()
        self._saved = {name: os.environ.get(name) for name in wanted}
        _apply(wanted)
        if starting:
            # After _apply: the cloud inherits the cleaned environment too (a profile that does not
            # exist would stop it). port=0: a free port, so a developer's cloud on 4566 is untouched.
            lifecycle.up(port=0, state_dir=self.state_dir)

    def leave(self) -> None:
        _apply(self._saved)
        self._saved = {}

    def stop(self) -> None:
        if self.state_dir is not None:
            lifecycle.down(self.state_dir)
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None


def _apply(values: dict[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


_cloud = NotebookCloud()


def _is_notebook(item: pytest.Item) -> bool:
    return item.path.suffix == ".ipynb"


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _is_notebook(item):
        _cloud.enter(item.config)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if _is_notebook(item):
        _cloud.leave()
