"""`python -m pipeline_lib generate`: write the data set (and change set) as JSON lines."""

from __future__ import annotations

import argparse
import re
from datetime import date
from decimal import Decimal

from .. import data

__all__ = ["GenerateUsageError", "add_parser", "format_summary", "handle", "resolve_count"]

_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


class GenerateUsageError(ValueError):
    """A bad combination of `generate` arguments (printed as `error: ...`, exit code 2)."""


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _count_or_percent(text: str) -> str:
    """A count (`50`) or a percentage (`10%`); resolved once the data set's layout is known."""
    m = _PERCENT.match(text)
    if m:
        if Decimal(m.group(1)) > 100:
            raise argparse.ArgumentTypeError(f"a percentage must be at most 100%, got {text!r}")
        return text.strip()
    _count(text)
    return text.strip()


def _start(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-08-03 (YYYY-MM-DD), got {text!r}") from None


def resolve_count(spec: str | int, pool: int) -> int:
    """`50` -> 50; `10%` -> 10% of `pool`, rounded half up."""
    if isinstance(spec, int):
        return spec
    m = _PERCENT.match(spec)
    if not m:
        return int(spec)
    return int(Decimal(m.group(1)) * pool / 100 + Decimal("0.5"))


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "generate",
        help="write a deterministic e-commerce data set (and change set) as BatchWriteItem JSON lines",
        description=(
            "Write N DynamoDB WriteRequests (customers and their orders) as JSON lines, and optionally "
            "a change set of order status updates and deletes. The same arguments give byte-identical files."
        ),
    )
    parser.add_argument("--items", type=_count, default=1000, metavar="N", help="lines in the data set (default 1000)")
    parser.add_argument("--seed", type=int, default=42, metavar="S", help="random seed (default 42)")
    parser.add_argument("--out", required=True, metavar="FILE", help="data set file to write (JSON lines)")
    parser.add_argument("--changes-out", metavar="FILE", help="change set file to write (JSON lines)")
    parser.add_argument(
        "--updates", type=_count_or_percent, default="0", metavar="U",
        help="status updates of orders: a count, or a percentage of the orders still PENDING/PAID/SHIPPED (e.g. 10%%)",
    )
    parser.add_argument(
        "--deletes", type=_count_or_percent, default="0", metavar="D",
        help="deletes: a count, or a percentage of the valid items (customers and orders)",
    )
    parser.add_argument(
        "--start", type=_start, default=None, metavar="YYYY-MM-DD",
        help=f"first day of the createdAt window (default: the window ends {data.DEFAULT_LAST_DAY})",
    )
    parser.add_argument(
        "--days", type=_positive, default=data.DEFAULT_DAYS, metavar="D",
        help=f"days in the createdAt window, one lake partition each (default {data.DEFAULT_DAYS})",
    )
    parser.add_argument(
        "--bad", type=_count, default=0, metavar="K",
        help="of the N items, K orders with a missing or unparsable createdAt, for fault tests (default 0)",
    )
    parser.add_argument(
        "--allow-partition-overflow", action="store_true",
        help=f"allow more than {data.FIREHOSE_ACTIVE_PARTITION_LIMIT} days (to provoke activePartitionExceeded)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=handle)
    return parser


def handle(args: argparse.Namespace) -> int:
    """Run `generate`; errors in what was asked raise a UsageError (printed by the CLI)."""
    try:
        return _handle(args)
    except (GenerateUsageError, ValueError) as exc:
        from . import UsageError

        raise UsageError(str(exc)) from None


def _handle(args: argparse.Namespace) -> int:
    limit = data.FIREHOSE_ACTIVE_PARTITION_LIMIT
    if args.days > limit and not args.allow_partition_overflow:
        raise GenerateUsageError(
            f"--days {args.days} makes {args.days} daily partitions; Firehose allows {limit} active "
            "partitions per delivery stream by default and fails the rest with activePartitionExceeded. "
            f"Use --days {limit} or fewer, or add --allow-partition-overflow to provoke that on purpose."
        )
    if args.bad > args.items:
        raise GenerateUsageError(
            f"--bad {args.bad} is more than --items {args.items}; bad items are counted in --items"
        )
    if args.changes_out and args.changes_out == args.out:
        raise GenerateUsageError("--changes-out must differ from --out")

    # Percentages need the layout (how many orders are open, how many items are valid).
    plan = data.plan_dataset(args.items, args.seed, args.bad)
    updates = resolve_count(args.updates, len(plan.open_order_positions()) if "%" in args.updates else 0)
    deletes = resolve_count(args.deletes, plan.n - plan.other - updates)
    if (updates or deletes) and not args.changes_out:
        raise GenerateUsageError("--updates/--deletes write a change set: add --changes-out FILE")

    summary = data.generate_files(
        args.items, args.seed, args.out,
        changes_out=args.changes_out, updates=updates, deletes=deletes,
        start=args.start, days=args.days, bad=args.bad, progress=not args.no_progress,
    )
    print(format_summary(summary, args.out, args.changes_out, args.seed))
    return 0


def format_summary(summary: data.GenerateSummary, out: str, changes_out: str | None, seed: int) -> str:
    text = (
        f"wrote {summary.items:,} items ({summary.customers:,} customers, {summary.orders:,} orders, "
        f"{summary.bad:,} bad) to {out}"
    )
    if changes_out:
        text += (
            f"; {summary.updates + summary.deletes:,} changes ({summary.updates:,} updates, "
            f"{summary.deletes:,} deletes) to {changes_out}"
        )
    return text + f"; createdAt {summary.window}, seed {seed}, {summary.seconds:.1f} s"
