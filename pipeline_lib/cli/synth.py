"""`python -m pipeline_lib synth --out DIR [--context key=value ...]`: synthesize infra/."""
from __future__ import annotations

import argparse

from .. import deploy

__all__ = ["add_parser", "context_of", "handler"]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "synth",
        help="synthesize the CDK app (infra/) into a cloud assembly directory",
        description=(
            "Run the CDK app without the CDK CLI and write the cloud assembly (templates, assets, "
            "manifest) to DIR. Prints the template path of each stack."
        ),
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="cloud assembly directory (e.g. cdk.out)")
    parser.add_argument(
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="CDK context, repeatable, e.g. --context items=1000 --context seed=7",
    )
    parser.set_defaults(func=handler)
    return parser


def context_of(args: argparse.Namespace) -> dict[str, str]:
    """The CDK context of the `--context KEY=VALUE` arguments (a bad one is a usage error)."""
    from . import UsageError

    try:
        return deploy.parse_context(args.context)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def handler(args: argparse.Namespace) -> int:
    from . import UsageError

    context = context_of(args)
    try:
        deploy.synth(args.out, context)
    except deploy.SynthError as exc:
        raise UsageError(str(exc)) from None
    for path in deploy.template_paths(args.out).values():
        print(path)
    return 0
