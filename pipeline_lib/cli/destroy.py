"""`python -m pipeline_lib destroy`: delete the stack (its buckets emptied first)."""
from __future__ import annotations

import argparse
import sys

from ._common import add_backend_argument

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..stack import STACK_NAME

    p = subparsers.add_parser("destroy", help="delete the stack (its buckets are emptied first)")
    add_backend_argument(p)
    p.add_argument("--stack-name", default=STACK_NAME)
    p.add_argument("--no-progress", action="store_true", help="no progress bar or messages")
    p.set_defaults(func=_destroy)


def _destroy(args: argparse.Namespace) -> int:
    from .. import deploy
    from ..backend import BackendError

    try:
        deploy.destroy(backend=args.backend, stack_name=args.stack_name, progress=not args.no_progress)
    except (deploy.DeployError, BackendError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
