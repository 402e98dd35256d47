"""The flow: the stack's Step Functions state machine (seed → wait for delivery → crawl) run and
watched, and the whole job once (`run`: the deployed flow plus the reconciliation of what landed;
`deploy_and_run`: deploy first), as the `run` and `demo` commands do it.

Backend-neutral: it calls AWS APIs through a boto3 session; `backend.connect()` decides where
they go.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import boto3

from . import lake
from .backend import connect, current_backend
from .backend import session as default_session

__all__ = [
    "AthenaCount", "CrawlFailed", "ExecutionFailed", "ExecutionResult", "RunReport", "athena_count",
    "catalog_partitions", "crawl",
    "deploy_and_run", "run", "run_state_machine", "run_with_data",
]


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
    timeout: float = 1800.0,
    poll: float = 0.5,
    progress: bool = True,
    *,
    boto3_session: boto3.Session | None = None,
) -> ExecutionResult:
    """Start an execution and wait for it; raise ExecutionFailed with the error and cause."""
    sfn = (boto3_session or default_session()).client("stepfunctions")
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


@dataclass(frozen=True)
class AthenaCount:
    """`SELECT count(*)` of the lake table through Athena: the answer and what the query scanned."""

    sql: str
    rows: int
    scanned_bytes: int | None
    seconds: float


def athena_count(database: str, table: str, workgroup: str | None = None, *,
                 boto3_session: boto3.Session | None = None) -> AthenaCount:
    """Count the table's rows with Athena (what a reader of the lake sees, crawled partitions only)."""
    from .query import run_query

    sql = f'SELECT count(*) AS "rows" FROM "{database}"."{table}"'
    mark = time.monotonic()
    result = run_query(sql, database=database, workgroup=workgroup, boto3_session=boto3_session)
    return AthenaCount(sql, int(result.frame["rows"].iloc[0]), result.statistics.data_scanned_bytes,
                       time.monotonic() - mark)


@dataclass
class RunReport:
    backend: str
    outputs: dict[str, str]
    changes_written: int
    before: lake.Reconciliation
    after: lake.Reconciliation
    partitions_in_catalog: int
    seconds: dict[str, float]
    athena: AthenaCount | None = None  # None: not queried (the reconciliation then stops at S3)
    data: Any = None  # the data.PreparedData of `run_with_data`
    report_path: str | None = None  # the HTML report, when one was written
    flow_started_at: float | None = None  # epoch seconds when the flow started (before the first write)
    flow_finished_at: float | None = None  # epoch seconds when the flow (its crawl included) ended

    @property
    def athena_matches(self) -> bool:
        """Athena counts every row in the lake: all partitions were crawled, none is unreadable."""
        return self.athena is None or self.athena.rows == self.after.rows_in_lake

    @property
    def rows_added(self) -> int:
        return self.after.rows_in_lake - self.before.rows_in_lake

    @property
    def errors_added(self) -> int:
        return self.after.error_records - self.before.error_records

    @property
    def balanced(self) -> bool:
        return self.rows_added + self.errors_added == self.changes_written and self.athena_matches

    def render(self) -> str:
        """The timings, then the summary a person reads in five seconds (counts in and out,
        partitions, Athena's answer and what it scanned, the verdict, the report file)."""
        width = max(len(k) for k in self.seconds)
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted((self.after.errors_by_kind - self.before.errors_by_kind).items()))
        lines = [
            f"backend: {self.backend}",
            "timings:",
            *[f"  {name:<{width}}  {secs:7.1f} s" for name, secs in self.seconds.items()],
            "",
            "=" * 72,
            f"in   {self.changes_written:>10,}  changes written to DynamoDB",
            f"out  {self.rows_added:>10,}  rows added to the lake, in {len(self.after.rows_by_day)} day partitions "
            f"({self.partitions_in_catalog} in the Glue catalog)",
            f"     {self.errors_added:>10,}  error records added" + (f" ({kinds})" if kinds else ""),
        ]
        if self.athena is not None:
            lines.append(f"Athena {self.athena.rows:>8,}  rows: {self.athena.sql}  "
                         f"(scanned {_size(self.athena.scanned_bytes)}, {self.athena.seconds:.1f} s)")
        lines.append(("OK    " if self.balanced else "LOST  ") + "reconciled: " + self._verdict())
        if self.report_path:
            lines.append(f"report      {self.report_path}")
        lines.append("=" * 72)
        return "\n".join(lines)

    def _verdict(self) -> str:
        missing = self.changes_written - self.rows_added - self.errors_added
        problems = []
        if missing:
            problems.append(f"MISMATCH of {missing} change(s) between DynamoDB and the lake")
        if not self.athena_matches:
            problems.append(f"Athena sees {self.athena.rows:,} rows, the lake's files hold {self.after.rows_in_lake:,}")
        if problems:
            return "; ".join(problems)
        tail = " and Athena counts every row" if self.athena is not None else ""
        return "every change is a row or an error record" + tail


def _size(n: int | None) -> str:
    if n is None:
        return "? bytes"
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def _count_lines(bucket: str, keys: list[str], session: boto3.Session) -> int:
    """Non-blank lines of the objects: the changes of the data set and change set files."""
    s3 = session.client("s3")
    total = 0
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        total += sum(1 for line in body.iter_lines() if line.strip())
    return total


class CrawlFailed(RuntimeError):
    """The crawler's last crawl did not succeed (or did not end in time)."""


def crawl(crawler_name: str, timeout: float = 600.0, poll: float = 1.0, *,
          boto3_session: boto3.Session | None = None) -> dict[str, Any]:
    """Run the crawler once (e.g. after a redrive wrote new partitions) and wait until it is READY
    again; its LastCrawl. Raises CrawlFailed unless the crawl SUCCEEDED."""
    glue = (boto3_session or default_session()).client("glue")
    before = glue.get_crawler(Name=crawler_name)["Crawler"].get("LastCrawl", {}).get("StartTime")
    glue.start_crawler(Name=crawler_name)
    deadline = time.monotonic() + timeout
    while True:
        crawler = glue.get_crawler(Name=crawler_name)["Crawler"]
        last = crawler.get("LastCrawl") or {}
        if crawler["State"] == "READY" and last.get("StartTime") != before:
            break
        if time.monotonic() > deadline:
            raise CrawlFailed(f"crawler {crawler_name} is still {crawler['State']} after {timeout:.0f} s")
        time.sleep(poll)
    if last.get("Status") != "SUCCEEDED":
        raise CrawlFailed(f"crawler {crawler_name}: last crawl {last.get('Status')}: {last.get('ErrorMessage', '')}; "
                          f"see its log group {last.get('LogGroup', '/aws-glue/crawlers')}")
    return last


def catalog_partitions(database: str, table: str, *, boto3_session: boto3.Session | None = None) -> int:
    """How many partitions the Glue table has in the catalog."""
    glue = (boto3_session or default_session()).client("glue")
    return sum(len(page["Partitions"]) for page in
               glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table))


def deploy_and_run(items: int | None = None, poll_seconds: int = 2, backend: str | None = None,
                   progress: bool = True, say: Callable[[str], None] = print, *,
                   boto3_session: boto3.Session | None = None) -> RunReport:
    """Deploy the stack (the data set sized `items`, the app's default without), then `run` it."""
    from . import deploy

    timings: dict[str, float] = {}
    started = time.monotonic()
    session = boto3_session or connect(backend)
    timings["start the backend"] = time.monotonic() - started

    # The change set scales with the data set (the app's defaults are sized for 10,000 items).
    context: dict[str, Any] = (
        {"items": str(items), "updates": str(max(1, items // 20)), "deletes": str(max(1, items // 100))} if items else {}
    )
    mark = time.monotonic()
    say("deploying the stack (synth, assets, CloudFormation)...")
    outputs = deploy.deploy(backend=backend, context=context or None, progress=progress, boto3_session=session)
    timings["deploy"] = time.monotonic() - mark

    return _run(session, outputs, poll_seconds, current_backend(backend), progress, say, timings, started)


def run(outputs: dict[str, str] | None = None, poll_seconds: int = 2, backend: str | None = None,
        progress: bool = True, say: Callable[[str], None] = print, *,
        boto3_session: boto3.Session | None = None) -> RunReport:
    """Run the deployed stack's flow once (seed → wait for delivery → crawl) and reconcile what
    landed against the changes written. `outputs` default to the deployed stack's; `backend`
    only labels the report (the session decides where the calls go)."""
    from .stack import outputs as stack_outputs

    started = time.monotonic()
    session = boto3_session or default_session(backend)
    outputs = outputs if outputs is not None else stack_outputs(boto3_session=session)
    return _run(session, outputs, poll_seconds, current_backend(backend), progress, say, {}, started)


def _run(session: boto3.Session, outputs: dict[str, str], poll_seconds: int, backend: str, progress: bool,
         say: Callable[[str], None], timings: dict[str, float], started: float) -> RunReport:
    changes = _count_lines(outputs["RawBucketName"], [outputs["DataSetKey"], outputs["ChangeSetKey"]], session)
    before = lake.reconcile(0, outputs["LakeBucketName"], outputs["LakePrefix"], outputs["ErrorPrefix"],
                            boto3_session=session)

    mark = time.monotonic()
    started_at = time.time()
    say(f"running the state machine: seed {changes:,} changes -> wait for delivery -> crawl...")
    run_state_machine(outputs["StateMachineArn"], {"pollSeconds": poll_seconds}, progress=progress,
                      boto3_session=session)
    timings["seed, deliver, crawl"] = time.monotonic() - mark
    finished_at = time.time()

    after = lake.reconcile(changes, outputs["LakeBucketName"], outputs["LakePrefix"], outputs["ErrorPrefix"],
                           boto3_session=session)
    partitions = catalog_partitions(outputs["GlueDatabaseName"], outputs["GlueTableName"], boto3_session=session)
    say("counting the table's rows with Athena...")
    count = athena_count(outputs["GlueDatabaseName"], outputs["GlueTableName"], outputs.get("AthenaWorkGroupName"),
                         boto3_session=session)
    timings["Athena count"] = count.seconds
    timings["total"] = time.monotonic() - started
    return RunReport(backend, outputs, changes, before, after, partitions, timings, athena=count,
                     flow_started_at=started_at, flow_finished_at=finished_at)


def run_with_data(
    path: str | Path,
    pk: str,
    sk: str,
    *,
    created_at: str | None = None,
    created_at_range: tuple[str, str] | None = None,
    table: str | None = None,
    poll_seconds: int = 2,
    backend: str | None = None,
    out_dir: str | Path | None = None,
    progress: bool = True,
    say: Callable[[str], None] = print,
    boto3_session: boto3.Session | None = None,
) -> RunReport:
    """Your own data through the whole pipeline: read the CSV / JSON-lines / Parquet file at
    `path`, infer the lake schema (`data.prepare_data`; keys from the templates, e.g.
    pk='STATE#{State}', sk='COUNTY#{County}'), deploy the stack with that schema and data set, run
    the flow (seed, deliver, crawl), count with Athena and reconcile. The report's `data` is the
    PreparedData (schema, columns, key columns).

    The file is checked completely before anything is deployed: a bad file raises
    data.DataError and changes nothing. The stack is updated in place: its table gets the new
    schema (the lake keeps objects of earlier runs; the report counts what this run added)."""
    from . import deploy
    from .data import prepare_data, write_data_set

    timings: dict[str, float] = {}
    started = time.monotonic()
    prepared = prepare_data(path, pk, sk, created_at=created_at, created_at_range=created_at_range, table=table)
    session = boto3_session or connect(backend)
    folder = write_data_set(prepared, _data_set_root())
    say(f"{prepared.rows:,} rows of {path} -> table {prepared.schema.table} "
        f"({len(prepared.schema.columns)} columns; created_at: {prepared.created_at}); data set in {folder}")
    mark = time.monotonic()
    say("deploying the stack with that schema (synth, assets, CloudFormation)...")
    context = {"dataset_dir": str(folder), "schema": str(folder / "schema.json")}
    outputs = deploy.deploy(backend=backend, context=context, out_dir=out_dir, progress=progress, boto3_session=session)
    timings["deploy"] = time.monotonic() - mark
    report = _run(session, outputs, poll_seconds, current_backend(backend), progress, say, timings, started)
    report.data = prepared
    return report


def _data_set_root() -> Path:
    """Where prepared data sets go: build/byod/ beside the CDK app (git-ignored)."""
    from .deploy import find_app_dir

    return find_app_dir().parent / "build" / "byod"
