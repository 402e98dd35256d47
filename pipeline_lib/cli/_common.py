"""What several commands share: the --backend option and the end-of-run report."""
from __future__ import annotations

import argparse

from ..backend import BACKENDS

__all__ = ["add_backend_argument", "print_report"]


def add_backend_argument(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--backend", choices=BACKENDS, default=None, help="default: $PIPELINE_BACKEND or local")
    return p


def print_report(report, endpoint: str | None) -> int:
    """Print a flow.RunReport; the exit code says whether it reconciled."""
    print()
    print(report.render())
    if endpoint:
        print(f"\nThe local cloud keeps running at {endpoint}: explore it with "
              "`make lab` or `eval \"$(python -m pipeline_lib local env)\"`; stop it with "
              "`python -m pipeline_lib local down`.")
    return 0 if report.balanced else 1
