"""`python -m pipeline_lib demo`: deploy, then the whole pipeline once, and what landed."""
from __future__ import annotations

import argparse

from ._common import add_backend_argument, print_report

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="deploy, seed, deliver, crawl, and reconcile what landed")
    p.add_argument("--items", type=int, default=None, help="data set size (default: the app's, 10000)")
    p.add_argument("--poll-seconds", type=int, default=2, help="how often the state machine polls")
    p.add_argument("--report-dir", default="reports", help="where the HTML report goes (default: ./reports)")
    add_backend_argument(p)
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    from .. import flow
    from ..backend import connect, endpoint_url
    from ..report import write_html_report

    session = connect(args.backend)
    report = flow.deploy_and_run(items=args.items, poll_seconds=args.poll_seconds, backend=args.backend,
                                 boto3_session=session)
    report.report_path = str(write_html_report(report, args.report_dir, boto3_session=session))
    return print_report(report, endpoint_url(session))
