"""The deployed stack's outputs: the names every notebook and script needs."""
from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

STACK_NAME = "CdcWorkbench"  # the one definition: infra/, synth and deploy import it


class StackNotDeployed(RuntimeError):
    pass


def stack_summary(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    """describe_stacks' entry for the stack, or None when there is none."""
    try:
        return cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise


def outputs_of(summary: dict[str, Any] | None) -> dict[str, str]:
    """OutputKey -> OutputValue of a stack summary (none for None)."""
    return {o["OutputKey"]: o["OutputValue"] for o in (summary or {}).get("Outputs") or []}


def outputs(boto3_session: boto3.Session | None = None, stack_name: str = STACK_NAME) -> dict[str, str]:
    cfn = (boto3_session or boto3.Session()).client("cloudformation")
    summary = stack_summary(cfn, stack_name)
    if summary is None:
        raise StackNotDeployed(f"stack {stack_name} is not deployed; run `python -m pipeline_lib deploy` first")
    return outputs_of(summary)
