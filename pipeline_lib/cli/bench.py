"""`python -m pipeline_lib bench`: the pipeline at scale, measured side by side in one run.

Prints a report, then as its LAST line one JSON object of the figures (ratios are the point:
absolute rates on a shared machine are noise). Exits 1 if rows + error records do not balance
the items written.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["add_parser"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bench", help="measure the pipeline at scale (a private local cloud); last line JSON")
    p.add_argument("--items", type=int, default=100_000, help="items to write (default 100,000)")
    p.add_argument("--json", action="store_true", help="print only the JSON line (no report, no progress bars)")
    p.add_argument("--no-moto-reference", action="store_true",
                   help="skip the stock-moto reference run (moto_write_items_per_s becomes null)")
    p.add_argument("--time-scale", type=float, default=None,
                   help="the local cloud's PIPELINE_TIME_SCALE for this run (default: the environment's, else 0.05)")
    p.add_argument("--buffering", choices=("scaled", "aws"), default=None,
                   help="Firehose buffer intervals of the bench's cloud: on the time scale (scaled, short latency, "
                        "many small objects) or as configured (aws, AWS-like object sizes); default: "
                        "$PIPELINE_FIREHOSE_BUFFERING, else scaled")
    p.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    from .._bench.run import run_bench
    from . import UsageError

    if args.items < 20:
        raise UsageError("--items must be at least 20 (the data set needs customers and orders)")
    quiet = args.json

    def say(text: str) -> None:
        if not quiet:
            print(text, file=sys.stderr, flush=True)

    if args.buffering:
        os.environ["PIPELINE_FIREHOSE_BUFFERING"] = args.buffering  # the cloud the bench starts inherits it
    result = run_bench(args.items, progress=not quiet, moto_reference=not args.no_moto_reference,
                       time_scale=args.time_scale, say=say)
    if not quiet:
        print("\n".join(result.lines))
    print(json.dumps(result.figures, sort_keys=True), flush=True)
    return 0 if result.balanced else 1
