"""The main job, end to end: deploy the stack, run the Step Functions flow (seed → wait for
delivery → crawl), and show what landed, reconciled against what was written.

Backend-neutral: it calls AWS APIs through a boto3 session; `backend.connect()` decides where
they go.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import boto3

from . import deploy, lake, orchestration
from .backend import connect, current_backend


@dataclass
class DemoReport:
    backend: str
    outputs: dict[str, str]
    changes_written: int
    before: lake.Reconciliation
    after: lake.Reconciliation
    partitions_in_catalog: int
    seconds: dict[str, float]

    @property
    def rows_added(self) -> int:
        return self.after.rows_in_lake - self.before.rows_in_lake

    @property
    def errors_added(self) -> int:
        return self.after.error_records - self.before.error_records

    @property
    def balanced(self) -> bool:
        return self.rows_added + self.errors_added == self.changes_written

    def render(self) -> str:
        width = max(len(k) for k in self.seconds)
        lines = [
            f"backend: {self.backend}",
            f"changes written to DynamoDB   {self.changes_written:>10,}",
            f"rows added to the lake        {self.rows_added:>10,}  ({len(self.after.rows_by_day)} day partitions)",
            f"error records added           {self.errors_added:>10,}  "
            + (", ".join(f"{k}: {v}" for k, v in sorted((self.after.errors_by_kind - self.before.errors_by_kind).items())) or ""),
            f"partitions in the Glue catalog {self.partitions_in_catalog:>9,}",
            "reconciled: " + ("every change is a row or an error record" if self.balanced else
                              f"MISMATCH of {self.changes_written - self.rows_added - self.errors_added}"),
            "timings:",
            *[f"  {name:<{width}}  {secs:7.1f} s" for name, secs in self.seconds.items()],
        ]
        return "\n".join(lines)


def count_lines(bucket: str, keys: list[str], session: boto3.Session) -> int:
    s3 = session.client("s3")
    total = 0
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        total += sum(1 for line in body.iter_lines() if line.strip())
    return total


def catalog_partitions(database: str, table: str, session: boto3.Session) -> int:
    glue = session.client("glue")
    return sum(len(page["Partitions"]) for page in
               glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table))


def run_demo(items: int | None = None, poll_seconds: int = 2, backend: str | None = None,
             progress: bool = True, say: Callable[[str], None] = print) -> DemoReport:
    timings: dict[str, float] = {}
    started = time.monotonic()
    session = connect(backend)
    timings["start the backend"] = time.monotonic() - started

    # The change set scales with the data set (the app's defaults are sized for 10,000 items).
    context: dict[str, Any] = (
        {"items": str(items), "updates": str(max(1, items // 20)), "deletes": str(max(1, items // 100))} if items else {}
    )
    mark = time.monotonic()
    say("deploying the stack (synth, assets, CloudFormation)...")
    outputs = deploy.deploy(backend=backend, context=context or None, boto3_session=session, progress=progress)
    timings["deploy"] = time.monotonic() - mark

    return run_pipeline(session, outputs, poll_seconds, current_backend(backend), progress, say, timings, started)


def run_pipeline(session: boto3.Session, outputs: dict[str, str], poll_seconds: int = 2, backend: str = "local",
                 progress: bool = True, say: Callable[[str], None] = print,
                 timings: dict[str, float] | None = None, started: float | None = None) -> DemoReport:
    """Run the deployed stack's flow once (seed → wait for delivery → crawl) and reconcile."""
    timings = timings if timings is not None else {}
    started = started if started is not None else time.monotonic()
    changes = count_lines(outputs["RawBucketName"], [outputs["DataSetKey"], outputs["ChangeSetKey"]], session)
    before = lake.reconcile(0, outputs["LakeBucketName"], session, outputs["LakePrefix"], outputs["ErrorPrefix"])

    mark = time.monotonic()
    say(f"running the state machine: seed {changes:,} changes -> wait for delivery -> crawl...")
    orchestration.run_state_machine(outputs["StateMachineArn"], {"pollSeconds": poll_seconds},
                                    boto3_session=session, progress=progress)
    timings["seed, deliver, crawl"] = time.monotonic() - mark

    after = lake.reconcile(changes, outputs["LakeBucketName"], session, outputs["LakePrefix"], outputs["ErrorPrefix"])
    partitions = catalog_partitions(outputs["GlueDatabaseName"], outputs["GlueTableName"], session)
    timings["total"] = time.monotonic() - started
    return DemoReport(backend, outputs, changes, before, after, partitions, timings)
