"""`python -m pipeline_lib demo` — the whole pipeline once, and what landed."""
from __future__ import annotations

import argparse

from .backend import BACKENDS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="deploy, seed, deliver, crawl, and reconcile what landed")
    p.add_argument("--items", type=int, default=None, help="data set size (default: the app's, 10000)")
    p.add_argument("--poll-seconds", type=int, default=2, help="how often the state machine polls")
    p.add_argument("--backend", choices=BACKENDS, default=None, help="default: $PIPELINE_BACKEND or local")
    p.set_defaults(func=_demo)

    p = subparsers.add_parser("run", help="run the deployed stack's flow once (seed, deliver, crawl) and reconcile")
    p.add_argument("--poll-seconds", type=int, default=2, help="how often the state machine polls")
    p.add_argument("--backend", choices=BACKENDS, default=None, help="default: $PIPELINE_BACKEND or local")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .backend import connect, current_backend
    from .demo import run_pipeline
    from .stack import StackNotDeployed, outputs

    session = connect(args.backend)
    try:
        stack = outputs(session)
    except StackNotDeployed as exc:
        from .cli import UsageError

        raise UsageError(str(exc)) from None
    return _report(run_pipeline(session, stack, args.poll_seconds, current_backend(args.backend)))


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return _report(run_demo(items=args.items, poll_seconds=args.poll_seconds, backend=args.backend))


def _report(report) -> int:
    print()
    print(report.render())
    if report.backend == "local":
        import os

        print(f"\nThe local cloud keeps running at {os.environ.get('AWS_ENDPOINT_URL')}: explore it with "
              "`make lab` or `eval \"$(python -m pipeline_lib local env)\"`; stop it with "
              "`python -m pipeline_lib local down`.")
    return 0 if report.balanced else 1
