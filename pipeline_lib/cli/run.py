"""`python -m pipeline_lib run`: the deployed stack's flow once (seed, deliver, crawl), reconciled;
with `--data FILE --pk TEMPLATE --sk TEMPLATE`, your own data: the schema inferred, the stack
deployed with it, then the same flow."""
from __future__ import annotations

import argparse

from ._common import add_backend_argument, print_report

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="run the deployed stack's flow once (seed, deliver, crawl) and reconcile; "
        "--data FILE runs your own data",
        description="Without --data: run the deployed stack's flow once. With --data: infer the lake "
        "schema from a CSV / JSON-lines / Parquet file, deploy the stack with it, seed, deliver, crawl, "
        "query with Athena and reconcile. Example: run --data counties.csv --pk 'STATE#{State}' "
        "--sk 'COUNTY#{County}' --created-at Founded",
    )
    p.add_argument("--poll-seconds", type=int, default=2, help="how often the state machine polls")
    p.add_argument("--data", metavar="FILE", help="your data: .csv (UTF-8, header row), .jsonl or .parquet")
    p.add_argument("--pk", metavar="TEMPLATE", help="partition key template, columns in braces: 'STATE#{State}'")
    p.add_argument("--sk", metavar="TEMPLATE", help="sort key template: 'COUNTY#{County}'")
    p.add_argument("--table", help="lake table name (default: the file's name, made Athena-safe)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--created-at", metavar="COLUMN", help="the date/time column that partitions the rows")
    when.add_argument("--created-at-range", nargs=2, metavar=("START", "END"),
                      help="spread the rows' created_at evenly from START to END (dates or ISO date-times)")
    add_backend_argument(p)
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from . import UsageError
    from .. import flow
    from ..backend import connect, endpoint_url
    from ..stack import StackNotDeployed, outputs

    if args.data is None:
        for flag in ("pk", "sk", "table", "created_at", "created_at_range"):
            if getattr(args, flag) is not None:
                raise UsageError(f"--{flag.replace('_', '-')} goes with --data FILE")
    else:
        return _run_with_data(args)
    session = connect(args.backend)
    try:
        stack = outputs(boto3_session=session)
    except StackNotDeployed as exc:
        raise UsageError(str(exc)) from None
    report = flow.run(stack, args.poll_seconds, args.backend, boto3_session=session)
    return print_report(report, endpoint_url(session))


def _run_with_data(args: argparse.Namespace) -> int:
    from . import UsageError
    from .. import flow
    from ..backend import connect, endpoint_url
    from ..data import DataError, prepare_data

    if not args.pk or not args.sk:
        raise UsageError("--data needs --pk and --sk key templates, e.g. --pk 'STATE#{State}' --sk 'COUNTY#{County}'")
    created_range = tuple(args.created_at_range) if args.created_at_range else None
    try:  # check the whole file before starting or deploying anything
        prepare_data(args.data, args.pk, args.sk, created_at=args.created_at, created_at_range=created_range,
                     table=args.table)
    except DataError as exc:
        raise UsageError(f"{exc}") from None
    session = connect(args.backend)
    report = flow.run_with_data(args.data, args.pk, args.sk, created_at=args.created_at,
                                created_at_range=created_range, table=args.table,
                                poll_seconds=args.poll_seconds, backend=args.backend, boto3_session=session)
    return print_report(report, endpoint_url(session))
