"""The aws backend's deploy and destroy: the CDK CLI (`npx aws-cdk@<PINNED_CDK_CLI>`) with the
user's credentials. The CLI is versioned apart from aws-cdk-lib; the pinned one reads aws-cdk-lib
2.275's cloud assembly (schema 55)."""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import boto3

from ..stack import _summary as stack_summary
from . import synth
from .app import find_app_dir
from .buckets import empty_buckets, stack_buckets, stack_resources
from .errors import DeployError

PINNED_CDK_CLI = "2.1147.0"


def cdk_command(action: str, stack_name: str, context: dict[str, Any] | None, extra: list[str],
                app_dir: Path | None = None) -> list[str]:
    """The CDK CLI command line for `action` (deploy|destroy) of the app in `app_dir` (default: found)."""
    app_dir = find_app_dir(app_dir)
    npx = shutil.which("npx")
    if npx is None:
        raise DeployError("the aws backend deploys with the CDK CLI through npx: install Node.js (which has npx)")
    command = [
        npx, "--yes", f"aws-cdk@{PINNED_CDK_CLI}", action, stack_name,
        # The CLI runs --app through a shell; quote only what needs it (it mangles "a" "b").
        "--app", shlex.join([sys.executable, str(app_dir / "app.py")]),
    ]
    for key, value in (context or {}).items():
        command += ["--context", f"{key}={value}"]
    return command + extra


def _run_cdk(command: list[str]) -> None:
    proc = subprocess.run(command, cwd=find_app_dir(), env=synth.jsii_env())
    if proc.returncode != 0:
        raise DeployError(
            f"`{' '.join(command[2:5])}` failed (exit {proc.returncode}); its output is above. "
            "A first deploy to an account/region needs `npx aws-cdk@" + PINNED_CDK_CLI + " bootstrap`."
        )


def _check_aws_environment() -> None:
    # The CDK CLI is a separate process: it reaches whatever the environment points at.
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        raise DeployError(
            f"AWS_ENDPOINT_URL is set ({endpoint}), so AWS clients would reach it instead of AWS; "
            "unset it for the aws backend (`python -m pipeline_lib local env` exports it)"
        )


def deploy_aws(stack_name: str, context: dict[str, Any] | None) -> dict[str, str]:
    _check_aws_environment()
    with tempfile.TemporaryDirectory() as tmp:
        outputs_file = Path(tmp) / "outputs.json"
        _run_cdk(cdk_command("deploy", stack_name, context,
                             ["--require-approval", "never", "--outputs-file", str(outputs_file)]))
        return dict(json.loads(outputs_file.read_text()).get(stack_name, {}))


def destroy_aws(session: boto3.Session, stack_name: str, say: Callable[[str], None]) -> bool:
    _check_aws_environment()
    cfn = session.client("cloudformation")
    summary = stack_summary(cfn, stack_name)
    if summary is None:
        say(f"stack {stack_name} is not deployed")
        return False
    # Quietly: the CDK CLI reports what it deletes.
    empty_buckets(session.client("s3"), stack_buckets(stack_resources(cfn, summary["StackId"])), lambda _m: None)
    _run_cdk(cdk_command("destroy", stack_name, None, ["--force"]))
    return True
