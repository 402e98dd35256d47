"""The deployed stack: its name and its outputs (the names every notebook and script needs).

The one place stack outputs are read: `outputs()` for callers, `_summary` / `_outputs_of` for the
deployment internals that already hold a CloudFormation client.
"""
from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

__all__ = ["STACK_NAME", "StackNotDeployed", "outputs"]

STACK_NAME = "CdcWorkbench"  # the one definition: infra/, synth and deploy import it


class StackNotDeployed(RuntimeError):
    """The stack asked for does not exist on the backend."""


def outputs(stack_name: str = STACK_NAME, *, boto3_session: boto3.Session | None = None) -> dict[str, str]:
    """OutputKey -> OutputValue of the deployed stack; StackNotDeployed when there is none."""
    from .backend import session

    cfn = (boto3_session or session()).client("cloudformation")
    summary = _summary(cfn, stack_name)
    if summary is None:
        raise StackNotDeployed(f"stack {stack_name} is not deployed; run `python -m pipeline_lib deploy` first")
    return _outputs_of(summary)


def _summary(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    """describe_stacks' entry for the stack (a name or an id), or None when there is none."""
    try:
        return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def _outputs_of(summary: dict[str, Any] | None) -> dict[str, str]:
    """OutputKey -> OutputValue of a stack summary (none for None)."""
    return {o["OutputKey"]: o["OutputValue"] for o in (summary or {}).get("Outputs") or []}
