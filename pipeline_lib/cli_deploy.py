"""`python -m pipeline_lib deploy [--context k=v ...]` and `python -m pipeline_lib destroy`."""
from __future__ import annotations

import argparse
import sys

from . import deploy, synth
from .backend import BACKENDS


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "deploy",
        help="deploy the stack (local: into the local cloud; aws: cdk deploy) and print its outputs",
    )
    p.add_argument("--context", "-c", action="append", default=[], metavar="KEY=VALUE",
                   help="CDK context for the app, e.g. --context items=1000 (repeatable)")
    _common(p)
    p.add_argument("--out", default=None, help=f"cloud assembly directory (default {deploy.DEFAULT_OUT_DIR})")
    p.add_argument("--no-synth", action="store_true",
                   help="deploy the assembly already in --out instead of synthesizing (local backend)")
    p.set_defaults(func=_deploy)
    _common(subparsers.add_parser("destroy", help="delete the stack (its buckets are emptied first)")).set_defaults(
        func=_destroy
    )


def _common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--backend", choices=BACKENDS, default=None, help="default: $PIPELINE_BACKEND or local")
    p.add_argument("--stack-name", default=deploy.STACK_NAME)
    p.add_argument("--no-progress", action="store_true", help="no progress bar or messages")
    return p


def format_outputs(outputs: dict[str, str]) -> str:
    if not outputs:
        return "(no outputs)"
    width = max(len(k) for k in outputs)
    return "\n".join(f"{key:<{width}}  {value}" for key, value in sorted(outputs.items()))


def _deploy(args: argparse.Namespace) -> int:
    from .cli_synth import context_of

    context = context_of(args)
    try:
        outputs = deploy.deploy(
            backend=args.backend, stack_name=args.stack_name, context=context, out_dir=args.out,
            progress=not args.no_progress, synthesize=not args.no_synth,
        )
    except (deploy.DeployError, synth.SynthError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_outputs(outputs))
    return 0


def _destroy(args: argparse.Namespace) -> int:
    try:
        deploy.destroy(backend=args.backend, stack_name=args.stack_name, progress=not args.no_progress)
    except deploy.DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
