"""Where the CDK app (infra/) is. Synth and deploy need it; it is not package data (an installed
pipeline_lib has no infra/), so it is looked for, and its absence is said plainly."""
from __future__ import annotations

import os
from pathlib import Path

from .errors import DeployError

APP_DIR_VARIABLE = "PIPELINE_INFRA_DIR"


class AppNotFound(DeployError):
    """No CDK app where one was looked for; the message says where to get one."""


def _is_app(path: Path) -> bool:
    # Looking around: an infra/ folder counts only with both files of the CDK app.
    return (path / "app.py").is_file() and (path / "cdk.json").is_file()


def find_app_dir(app_dir: str | os.PathLike[str] | None = None) -> Path:
    """`app_dir`, else $PIPELINE_INFRA_DIR, else infra/ of the checkout this package runs from,
    else infra/ in the working directory or one of its parents."""
    if app_dir is not None or os.environ.get(APP_DIR_VARIABLE):
        path = Path(app_dir if app_dir is not None else os.environ[APP_DIR_VARIABLE]).resolve()
        if not (path / "app.py").is_file():
            raise AppNotFound(f"no CDK app at {path / 'app.py'}")
        return path
    package_checkout = Path(__file__).resolve().parents[2]
    cwd = Path.cwd().resolve()
    looked = [package_checkout / "infra", *(p / "infra" for p in (cwd, *cwd.parents))]
    for candidate in looked:
        if _is_app(candidate):
            return candidate
    raise AppNotFound(
        "the CDK app (infra/app.py) is not here: synth and deploy need a checkout of the workbench "
        "repository (pipeline_lib installed from a wheel does not include infra/). Run from the "
        f"checkout, or set {APP_DIR_VARIABLE} to its infra/ folder. Looked in: "
        + ", ".join(str(p) for p in dict.fromkeys(looked))
    )


def default_out_dir(app_dir: str | os.PathLike[str] | None = None) -> Path:
    """cdk.out beside the app (the repository root's, in a checkout)."""
    return find_app_dir(app_dir).parent / "cdk.out"
