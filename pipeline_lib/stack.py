"""The deployed stack's outputs: the names every notebook and script needs."""
from __future__ import annotations

import boto3

STACK_NAME = "CdcWorkbench"


class StackNotDeployed(RuntimeError):
    pass


def outputs(boto3_session: boto3.Session | None = None, stack_name: str = STACK_NAME) -> dict[str, str]:
    session = boto3_session or boto3.Session()
    cfn = session.client("cloudformation")
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except cfn.exceptions.ClientError as exc:
        if "does not exist" in str(exc):
            raise StackNotDeployed(
                f"stack {stack_name} is not deployed; run `python -m pipeline_lib deploy` first"
            ) from None
        raise
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
