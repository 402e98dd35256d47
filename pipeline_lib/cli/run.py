"""`python -m pipeline_lib run`: the deployed stack's flow once (seed, deliver, crawl), reconciled."""
from __future__ import annotations

import argparse

from ._common import add_backend_argument, print_report

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("run", help="run the deployed stack's flow once (seed, deliver, crawl) and reconcile")
    p.add_argument("--poll-seconds", type=int, default=2, help="how often the state machine polls")
    add_backend_argument(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .. import flow
    from ..backend import connect, endpoint_url
    from ..stack import StackNotDeployed, outputs

    session = connect(args.backend)
    try:
        stack = outputs(boto3_session=session)
    except StackNotDeployed as exc:
        from . import UsageError

        raise UsageError(str(exc)) from None
    report = flow.run(stack, args.poll_seconds, args.backend, boto3_session=session)
    return print_report(report, endpoint_url(session))
