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
    except Exception as exc:  # only botocore's set-up errors are the user's to fix; others propagate
        hint = _aws_setup_error(exc)
        if hint is None:
            raise
        print(f"error: {hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _aws_setup_error(exc: Exception) -> str | None:
    """What to do when the aws backend has no credentials or region (botocore says only what is missing)."""
    from botocore.exceptions import NoCredentialsError, NoRegionError, PartialCredentialsError

    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return (f"the aws backend found no usable AWS credentials ({exc}). Configure them (AWS_PROFILE, "
                "`aws configure`, `aws sso login`, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or use the "
                "local backend (unset PIPELINE_BACKEND).")
    if isinstance(exc, NoRegionError):
        return ("the aws backend found no AWS region. Set AWS_REGION (or AWS_DEFAULT_REGION, or a region "
                "in your profile), or use the local backend (unset PIPELINE_BACKEND).")
    return None


if __name__ == "__main__":
    sys.exit(main())
