"""Deploy and destroy the CdcWorkbench stack.

local backend: synthesize infra/ (see `synth`), do what `cdk bootstrap` would (the assets
bucket, the bootstrap version parameter), publish the file assets as the CDK CLI does (directories
zipped deterministically, files as they are), then create or update the stack in the local cloud
from exactly the synthesized template (by TemplateURL when it is over CloudFormation's 51,200-byte
TemplateBody limit), following the stack events, and return the stack outputs.

aws backend: the CDK CLI (`npx aws-cdk@<PINNED_CDK_CLI> deploy|destroy`) with the user's
credentials. The CLI is versioned apart from aws-cdk-lib; the pinned one reads aws-cdk-lib
2.275's cloud assembly (schema 55).

destroy empties the stack's buckets first (all object versions), on both backends: they are
RemovalPolicy.DESTROY without CDK's auto-delete custom resource.

One local deploy at a time uses a cloud assembly directory: synth, asset publication and the
stack operation run holding `<out_dir>/.lock` (flock); a second deploy into the same directory
says so and waits.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable

import boto3

from ._deploy.app import APP_DIR_VARIABLE, AppNotFound, default_out_dir, find_app_dir
from ._deploy.cdk_cli import PINNED_CDK_CLI, deploy_aws, destroy_aws
from ._deploy.errors import DeployError
from ._deploy.local import deploy_local, destroy_local
from ._deploy.lock import assembly_lock
from ._deploy.synth import SynthError, parse_context, synth, template_paths
from .backend import connect, current_backend
from .backend import session as default_session
from .stack import STACK_NAME

__all__ = [
    "APP_DIR_VARIABLE", "AppNotFound", "DeployError", "PINNED_CDK_CLI", "STACK_NAME", "SynthError",
    "default_out_dir", "deploy", "destroy", "find_app_dir", "parse_context", "synth", "template_paths",
]


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr)  # stdout stays for results (the CLI prints the outputs there)


def _quiet(_message: str) -> None:
    pass


def deploy(backend: str | None = None, stack_name: str = STACK_NAME, context: dict[str, Any] | None = None,
           out_dir: str | Path | None = None, progress: bool = True, say: Callable[[str], None] | None = None,
           synthesize: bool = True, *, boto3_session: boto3.Session | None = None) -> dict[str, str]:
    """Deploy the stack on the backend; return its outputs. `synthesize=False` deploys the cloud
    assembly already in `out_dir` (local backend), as `cdk deploy --app cdk.out` would.
    `out_dir` defaults to cdk.out beside the CDK app (which synth and deploy need: see
    `find_app_dir`). A given `boto3_session` must be one of the local backend."""
    say = say or (_to_stderr if progress else _quiet)
    if current_backend(backend) == "aws":
        if not synthesize:
            raise DeployError("deploying an existing assembly is for the local backend; on aws the CDK CLI synthesizes")
        return deploy_aws(stack_name, context)
    session = boto3_session or connect("local")
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    # A wait is worth knowing about even when progress is off: it would look like a hang.
    with assembly_lock(out, say if say is not _quiet else _to_stderr):
        return deploy_local(session, stack_name, context, out, progress, say, synthesize)


def destroy(backend: str | None = None, stack_name: str = STACK_NAME, progress: bool = True,
            say: Callable[[str], None] | None = None, *, boto3_session: boto3.Session | None = None) -> bool:
    """Delete the stack (its buckets emptied first); False when it was not deployed."""
    say = say or (_to_stderr if progress else _quiet)
    name = current_backend(backend)
    session = boto3_session or default_session(name)
    if name == "aws":
        return destroy_aws(session, stack_name, say)
    return destroy_local(session, stack_name, progress, say)
