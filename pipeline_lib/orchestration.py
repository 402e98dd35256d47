"""Run the stack's Step Functions flow (seed → wait for delivery → crawl) and watch it."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3


class ExecutionFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class ExecutionResult:
    arn: str
    status: str
    output: Any
    seconds: float
    states: list[str]


def run_state_machine(
    state_machine_arn: str,
    execution_input: dict[str, Any] | None = None,
    boto3_session: boto3.Session | None = None,
    timeout: float = 1800.0,
    poll: float = 0.5,
    progress: bool = True,
) -> ExecutionResult:
    """Start an execution and wait for it; raise ExecutionFailed with the error and cause."""
    session = boto3_session or boto3.Session()
    sfn = session.client("stepfunctions")
    started = time.monotonic()
    arn = sfn.start_execution(
        stateMachineArn=state_machine_arn,
        name=f"run-{uuid.uuid4().hex[:12]}",
        input=json.dumps(execution_input or {}),
    )["executionArn"]
    seen: list[str] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        # disable=None: a bar on a terminal or in a notebook, silence in logs and CI.
        bar = tqdm(desc="state machine", unit=" states", bar_format="{desc}: {n} states | {postfix}", disable=None)
    try:
        while True:
            described = sfn.describe_execution(executionArn=arn)
            for event in _state_entries(sfn, arn, len(seen)):
                seen.append(event)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(event)
            status = described["status"]
            if status != "RUNNING":
                break
            if time.monotonic() - started > timeout:
                sfn.stop_execution(executionArn=arn, error="Timeout", cause=f"no result after {timeout:.0f}s")
                raise ExecutionFailed(f"execution {arn} still running after {timeout:.0f}s; stopped it")
            time.sleep(poll)
    finally:
        if bar is not None:
            bar.close()
    seconds = time.monotonic() - started
    if status != "SUCCEEDED":
        raise ExecutionFailed(
            f"execution {status}: {described.get('error', '')} {described.get('cause', '')}".strip()
        )
    output = json.loads(described.get("output") or "null")
    return ExecutionResult(arn, status, output, seconds, seen)


def _state_entries(sfn, execution_arn: str, already: int) -> list[str]:
    names: list[str] = []
    paginator = sfn.get_paginator("get_execution_history")
    for page in paginator.paginate(executionArn=execution_arn):
        for event in page["events"]:
            details = event.get("stateEnteredEventDetails")
            if details:
                names.append(details["name"])
    return names[already:]
