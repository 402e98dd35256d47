"""Run a CloudFormation stack operation and follow its events until the stack settles."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable

from botocore.exceptions import ClientError

from ..stack import _summary as stack_summary
from .errors import DeployError


def _events(cfn: Any, stack: str) -> list[dict[str, Any]]:
    """The stack's events, oldest first."""
    try:
        pages = cfn.get_paginator("describe_stack_events").paginate(StackName=stack)
        return list(reversed([e for page in pages for e in page["StackEvents"]]))
    except ClientError:
        return []


def failure_reasons(events: list[dict[str, Any]]) -> list[str]:
    """`Logical (Type): reason` for the failed events, resource failures first."""
    failed = [e for e in events if e["ResourceStatus"].endswith("_FAILED")]
    failed.sort(key=lambda e: e.get("ResourceType") == "AWS::CloudFormation::Stack")
    return [
        f"{e['LogicalResourceId']} ({e.get('ResourceType')}): {e.get('ResourceStatusReason') or e['ResourceStatus']}"
        for e in failed
    ]


class _Progress:
    """Follows stack events while an operation runs (a bar when `enabled`)."""

    def __init__(self, total: int, label: str, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=label, unit="resource", leave=True)
        self.done: set[str] = set()

    def update(self, events: list[dict[str, Any]]) -> None:
        for e in events:
            if e.get("ResourceType") == "AWS::CloudFormation::Stack":
                continue
            status = e["ResourceStatus"]
            if status.endswith(("_COMPLETE", "_FAILED", "_SKIPPED")) and e["LogicalResourceId"] not in self.done:
                self.done.add(e["LogicalResourceId"])
                if self.bar is not None:
                    self.bar.update(1)
            if self.bar is not None:
                self.bar.set_postfix_str(f"{e['LogicalResourceId']} {status}"[:60], refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.total = self.bar.n  # an update touches only what changed
            self.bar.refresh()
            self.bar.close()


def run_stack_operation(cfn: Any, stack: str, call: Callable[[], Any], total: int, label: str,
                        progress: bool, poll: float = 0.5, timeout: float = 3600.0) -> tuple[str, list[dict[str, Any]]]:
    """Run `call` (create/update/delete_stack), follow the events it causes, wait for a final
    status; return (status, this operation's events). `stack` is a name or, for deletes, the id."""
    seen = {e["EventId"] for e in _events(cfn, stack)}
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"cfn-{label}", daemon=True)
    bar = _Progress(total, label, progress)
    mine: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        worker.start()
        status = ""
        while True:
            worker.join(poll)  # returns as soon as the call does
            finished = not worker.is_alive()
            new = [e for e in _events(cfn, stack) if e["EventId"] not in seen]
            seen.update(e["EventId"] for e in new)
            mine.extend(new)
            bar.update(new)
            if finished:
                if "error" in box:
                    raise box["error"]
                summary = stack_summary(cfn, stack)
                status = summary["StackStatus"] if summary else "DELETE_COMPLETE"
                if not status.endswith("_IN_PROGRESS"):
                    break
            if time.monotonic() > deadline:
                raise DeployError(f"stack {stack} is still {status or 'in progress'} after {timeout:.0f} s")
            if finished:  # the call returned but the stack works on (as on AWS): poll its status
                time.sleep(poll)
    finally:
        bar.close()
    return status, mine
