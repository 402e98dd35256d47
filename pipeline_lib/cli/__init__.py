"""`python -m pipeline_lib` — the workbench's command line.

One module per command in this package, each exposing `add_parser(subparsers)`, which registers
the command and sets `func` (handler taking the parsed args, returning an exit code). The
`workbench` console script and `python -m pipeline_lib` both run `main`.
"""
from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["UsageError", "build_parser", "main"]

SUBCOMMAND_MODULES = tuple(
    f"{__name__}.{command}" for command in ("generate", "synth", "local", "deploy", "destroy", "run", "demo", "bench")
)


class UsageError(Exception):
    """A problem with what the user asked for; printed without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline_lib",
        description="Workbench for the DynamoDB -> Kinesis -> Firehose -> S3 -> Glue -> Athena lake.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
