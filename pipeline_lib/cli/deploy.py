"""`python -m pipeline_lib deploy [--context k=v ...]`: deploy the stack and print its outputs."""
from __future__ import annotations

import argparse
import sys

from ._common import add_backend_argument

__all__ = ["add_parser", "format_outputs"]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..stack import STACK_NAME

    p = subparsers.add_parser(
        "deploy",
        help="deploy the stack (local: into the local cloud; aws: cdk deploy) and print its outputs",
    )
    p.add_argument("--context", "-c", action="append", default=[], metavar="KEY=VALUE",
                   help="CDK context for the app, e.g. --context items=1000 (repeatable)")
    add_backend_argument(p)
    p.add_argument("--stack-name", default=STACK_NAME)
    p.add_argument("--no-progress", action="store_true", help="no progress bar or messages")
    p.add_argument("--out", default=None, help="cloud assembly directory (default: cdk.out beside infra/)")
    p.add_argument("--no-synth", action="store_true",
                   help="deploy the assembly already in --out instead of synthesizing (local backend)")
    p.set_defaults(func=_deploy)


def format_outputs(outputs: dict[str, str]) -> str:
    if not outputs:
        return "(no outputs)"
    width = max(len(k) for k in outputs)
    return "\n".join(f"{key:<{width}}  {value}" for key, value in sorted(outputs.items()))


def _deploy(args: argparse.Namespace) -> int:
    from .. import deploy
    from ..backend import BackendError
    from .synth import context_of

    context = context_of(args)
    try:
        outputs = deploy.deploy(
            backend=args.backend, stack_name=args.stack_name, context=context, out_dir=args.out,
            progress=not args.no_progress, synthesize=not args.no_synth,
        )
    except (deploy.DeployError, deploy.SynthError, BackendError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_outputs(outputs))
    return 0
