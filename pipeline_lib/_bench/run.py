"""The pipeline at scale, measured side by side in one run (`python -m pipeline_lib bench`).

Everything runs against a private local cloud (a fresh state dir, a free port) with the real
stack deployed, so the memory figure is that run's alone. The figures are ratios of things
measured in the same run on the same machine: absolute rates on a shared laptop are noise.
"""
from __future__ import annotations

import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

__all__ = ["BenchResult", "run_bench"]

SEED = 2026
CONCURRENCY = 8  # the seeder's default
DEPLOY_CONTEXT = {"items": "200", "updates": "20", "deletes": "5"}  # the stack's own data set is not used
REFERENCE_ITEMS = 10_000  # seeder vs boto3's batch_writer: enough calls to be a rate, not a start-up


@dataclass
class BenchResult:
    figures: dict[str, Any]
    lines: list[str] = field(default_factory=list)  # the human-readable report
    balanced: bool = False


def _bad_items(items: int) -> int:
    """A few items with a bad createdAt, so error records are part of the reconciliation."""
    return max(1, items // 2000)


class _Tenths:
    """Times when the cumulative count crosses each tenth of `total` (for the last/first rate)."""

    def __init__(self, total: int):
        self.total, self.done = total, 0
        self.marks: list[float] = [time.monotonic()]

    def __call__(self, count: int) -> None:
        self.done += count
        while len(self.marks) <= 10 and self.done >= self.total * len(self.marks) / 10:
            self.marks.append(time.monotonic())

    def last_over_first(self) -> float | None:
        if len(self.marks) < 11:
            return None
        first, last = self.marks[1] - self.marks[0], self.marks[10] - self.marks[9]
        return round(first / last, 3) if last > 0 else None


@contextmanager
def _private_cloud(time_scale: float | None) -> Iterator[tuple[Any, Any]]:
    """A fresh local cloud of its own; (Running, boto3 Session reaching it)."""
    from .. import backend
    from ..localcloud import lifecycle

    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as state_dir:
        saved = os.environ.pop("AWS_ENDPOINT_URL", None)  # the session must reach this cloud, not a shell's
        running = lifecycle.up(port=0, state_dir=state_dir, time_scale=time_scale, timeout=120)
        try:
            yield running, backend.connect("local", state_dir=state_dir)
        finally:
            lifecycle.down(state_dir)
            _reap_or_kill(running.record.pid)
            if saved is not None:
                os.environ["AWS_ENDPOINT_URL"] = saved


def _reap_or_kill(pid: int, timeout: float = 30.0) -> None:
    """Make sure the bench's own cloud is gone before anything else is measured (a cloud still
    shutting down would share the cores with the stock-moto reference)."""
    import signal

    from ..localcloud.lifecycle import pid_alive

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:  # not our child: its liveness is all we can see
            if not pid_alive(pid):
                return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _progress(total: int, description: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=description, unit="item", disable=not enabled, file=sys.stderr,
                mininterval=0.5, leave=False)


def _plain_table(session, like: str) -> str:
    """A table with `like`'s key schema, without a Kinesis destination."""
    ddb = session.client("dynamodb")
    described = ddb.describe_table(TableName=like)["Table"]
    name = f"bench-plain-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=described["KeySchema"],
                     AttributeDefinitions=described["AttributeDefinitions"])
    return name


def _seed(session, table: str, items: list[dict], description: str, progress: bool) -> tuple[float, _Tenths]:
    from ..lambdas.seeder import seed_requests, seeding_client

    tenths = _Tenths(len(items))
    with _progress(len(items), description, progress) as bar:
        def on_progress(count: int) -> None:
            tenths(count)
            bar.update(count)

        result = seed_requests(seeding_client(session, CONCURRENCY), table, items, concurrency=CONCURRENCY,
                               on_progress=on_progress)
    if result.written != len(items):
        raise RuntimeError(f"{table}: {result.written} of {len(items)} written ({result.to_dict()})")
    return result.seconds, tenths


def _batch_writer_seconds(session, table: str, items: list[dict]) -> float:
    """boto3's Table.batch_writer (one thread, 25 a call, its own UnprocessedItems retry)."""
    from boto3.dynamodb.types import TypeDeserializer

    deserialize = TypeDeserializer().deserialize
    plain = [{k: deserialize(v) for k, v in r["PutRequest"]["Item"].items()} for r in items]
    resource_table = session.resource("dynamodb").Table(table)
    started = time.monotonic()
    with resource_table.batch_writer() as writer:
        for item in plain:
            writer.put_item(Item=item)
    return time.monotonic() - started


def _moto_reference(items: int, bad: int) -> float:
    """Stock moto's items/s for the same writes (its own process)."""
    out = subprocess.run(
        [sys.executable, "-m", "pipeline_lib._bench.moto_reference", "--items", str(items), "--seed", str(SEED),
         "--bad", str(bad), "--concurrency", str(CONCURRENCY)],
        check=True, capture_output=True, text=True)
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    return answer["items"] / answer["seconds"]


def _crawl(session, crawler: str, timeout: float = 1800) -> None:
    glue = session.client("glue")
    glue.start_crawler(Name=crawler)
    deadline = time.monotonic() + timeout
    while True:
        state = glue.get_crawler(Name=crawler)["Crawler"]
        if state["State"] == "READY" and state.get("LastCrawl"):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"crawler {crawler} not READY after {timeout:.0f}s")
        time.sleep(0.2)
    if state["LastCrawl"]["Status"] != "SUCCEEDED":
        raise RuntimeError(f"crawler {crawler}: {state['LastCrawl']}")


def _engine_status(state_dir: str, stream: str) -> dict:
    from ..localcloud import lifecycle

    return lifecycle.status(state_dir)["extensions"]["firehose"][stream]


def _download_lake(session, bucket: str, prefix: str, root: Path) -> list[tuple[str, bytes]]:
    """Every Parquet object under `prefix`, also written below `root` with its key's folders."""
    s3 = session.client("s3")
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            path = root / obj["Key"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
            out.append((obj["Key"], body))
    return out


def _best(measure: Callable[[], tuple[float, Any]], repeat: int = 3) -> tuple[float, Any]:
    return min((measure() for _ in range(repeat)), key=lambda r: r[0])


def _athena_seconds(session, sql: str, database: str, output: str) -> tuple[float, list[tuple]]:
    athena = session.client("athena")
    started = time.monotonic()
    qid = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": database},
                                       ResultConfiguration={"OutputLocation": output})["QueryExecutionId"]
    while True:
        status = athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            break
        time.sleep(0.005)
    if status["State"] != "SUCCEEDED":
        raise RuntimeError(f"Athena query failed: {status}")
    rows = [tuple(c.get("VarCharValue") for c in r["Data"])
            for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid)
            for r in page["ResultSet"]["Rows"]]
    return time.monotonic() - started, sorted(rows[1:])


def _aws_objects_per_partition(hints: dict, partitions: dict[str, int], seconds: float) -> float:
    """What AWS's buffering hints would give for the same run: a partition's buffer is delivered
    when it holds SizeInMBs or IntervalInSeconds after its first record, so over `seconds` of
    steady arrivals a partition gets max(ceil(seconds / interval), ceil(bytes / size)) objects
    (bytes: the partition's Parquet bytes, a lower bound of the buffered JSON)."""
    size = hints.get("SizeInMBs", 5) * 2**20
    interval = hints.get("IntervalInSeconds", 300)
    per = [max(math.ceil(seconds / interval), math.ceil(nbytes / size), 1) for nbytes in partitions.values()]
    return round(sum(per) / len(per), 2) if per else 0.0


@dataclass
class _Run:
    """One bench run against its private cloud: what every step needs, and what they measured."""

    items: int
    session: Any
    running: Any  # lifecycle.Running
    outputs: dict[str, str]
    work: Path
    requests: list[dict]
    progress: bool
    rss: Any  # rss.RssSampler
    figures: dict[str, Any]
    rss_at: dict[str, int] = field(default_factory=dict)

    @property
    def stream(self) -> str:
        return self.outputs["DeliveryStreamName"]


@dataclass
class _Pipeline:
    written: float  # seconds of the seeder's writes
    delivered: float  # writes started -> flushed
    queryable: float  # writes started -> crawled
    before: dict  # the engine's status before the writes
    after: dict  # and after the crawl


@dataclass
class _Engine:
    records: int
    busy: float
    in_lambda: float
    pyarrow_rate: float


@dataclass
class _Query:
    where: str
    athena_s: float
    duck_s: float


def _writes_alone(run: _Run) -> float:
    """1. The DynamoDB writes alone (no destination); their seconds."""
    plain = _plain_table(run.session, run.outputs["TableName"])
    alone, tenths = _seed(run.session, plain, run.requests, "DynamoDB alone", run.progress)
    # Dropped once measured: the memory figure is the pipeline's, not the pipeline's plus a copy.
    run.session.client("dynamodb").delete_table(TableName=plain)
    run.rss_at["writes_alone"] = run.rss.sample()
    run.figures["write_items_per_s"] = round(run.items / alone, 1)
    run.figures["write_rate_last_over_first"] = tenths.last_over_first()
    return alone


def _through_the_pipeline(run: _Run, alone: float) -> _Pipeline:
    """2. The same writes through the pipeline, until delivered, then until crawled."""
    from ..localcloud import lifecycle

    state_dir = run.running.record.state_dir
    before = _engine_status(state_dir, run.stream)
    started = time.monotonic()
    written, tenths = _seed(run.session, run.outputs["TableName"], run.requests, "DynamoDB -> lake", run.progress)
    run.rss_at["pipeline_writes"] = run.rss.sample()
    report = lifecycle.flush(run.running.endpoint, timeout=3600)
    delivered = time.monotonic() - started
    run.rss_at["delivered"] = run.rss.sample()
    flushed = report["firehose"][run.stream]
    if flushed.get("failure"):
        raise RuntimeError(f"the delivery stream failed: {flushed['failure']}")
    _crawl(run.session, run.outputs["CrawlerName"])
    queryable = time.monotonic() - started
    run.rss_at["crawled"] = run.rss.sample()
    after = _engine_status(state_dir, run.stream)
    items, figures = run.items, run.figures
    figures["pipeline_write_items_per_s"] = round(items / written, 1)
    figures["pipeline_write_rate_last_over_first"] = tenths.last_over_first()
    figures["e2e_over_write"] = round(queryable / alone, 3)
    figures["e2e_items_per_s"] = round(items / queryable, 1)
    figures["delivered_over_write"] = round(delivered / alone, 3)
    return _Pipeline(written, delivered, queryable, before, after)


def _reconcile(run: _Run, bad: int) -> tuple[Any, bool]:
    """Nothing lost: rows + error records = items written. (the reconciliation, balanced)"""
    from .. import lake

    outputs = run.outputs
    reconciliation = lake.reconcile(run.items, outputs["LakeBucketName"], outputs["LakePrefix"],
                                    outputs["ErrorPrefix"], boto3_session=run.session)
    run.figures["rows_in_lake"] = reconciliation.rows_in_lake
    run.figures["error_records"] = reconciliation.error_records
    run.figures["error_records_expected"] = bad
    return reconciliation, reconciliation.balanced and reconciliation.error_records == bad


def _engine_vs_pyarrow(run: _Run, objects: list[tuple[str, bytes]], before: dict, after: dict) -> _Engine:
    """3. The Firehose engine against pyarrow writing the same rows as the same objects."""
    import pyarrow.parquet as pq

    figures = run.figures
    records = after["records_in"] - before["records_in"]
    busy = after["busy_seconds"] - before["busy_seconds"]
    in_lambda = after["lambda_seconds"] - before["lambda_seconds"]
    tables = [pq.read_table(io.BytesIO(body)) for _, body in objects]
    t0 = time.perf_counter()
    for table in tables:
        pq.write_table(table, io.BytesIO(), compression="snappy")
    pyarrow_seconds = time.perf_counter() - t0
    pyarrow_rate = sum(t.num_rows for t in tables) / pyarrow_seconds
    figures["engine_records_per_s"] = round(records / busy, 1) if busy else None
    # Where the engine's busy time went: waiting for the Lambda processor, for record format
    # conversion and Parquet writing (in the conversion workers), and the CPU conversion took there.
    figures["engine_busy_seconds"] = round(busy, 2)
    figures["engine_lambda_seconds"] = round(in_lambda, 2)
    for name in ("conversion_seconds", "conversion_cpu_seconds", "parquet_seconds"):
        if name in after:
            figures[f"engine_{name}"] = round(after[name] - before.get(name, 0.0), 2)
    figures["engine_without_lambda_records_per_s"] = round(records / (busy - in_lambda), 1) if busy > in_lambda else None
    figures["pyarrow_rows_per_s"] = round(pyarrow_rate, 1)
    figures["engine_over_pyarrow"] = round(records / busy / pyarrow_rate, 4) if busy else None
    return _Engine(records, busy, in_lambda, pyarrow_rate)


def _objects_per_partition(run: _Run, objects: list[tuple[str, bytes]], written: float) -> tuple[dict[str, int], dict]:
    """Objects per partition, and what AWS's buffering hints would give for the same run.
    (Parquet bytes by partition, the hints)"""
    by_partition: dict[str, int] = {}
    count_by_partition: dict[str, int] = {}
    for key, body in objects:
        part = key.rsplit("/", 1)[0]
        by_partition[part] = by_partition.get(part, 0) + len(body)
        count_by_partition[part] = count_by_partition.get(part, 0) + 1
    hints = (run.session.client("firehose").describe_delivery_stream(DeliveryStreamName=run.stream)
             ["DeliveryStreamDescription"]["Destinations"][0]["ExtendedS3DestinationDescription"]["BufferingHints"])
    figures = run.figures
    figures["objects"] = len(objects)
    figures["partitions"] = len(by_partition)
    figures["objects_per_partition"] = round(len(objects) / max(1, len(by_partition)), 2)
    figures["aws_objects_per_partition"] = _aws_objects_per_partition(hints, by_partition, written)
    figures["buffering_hints"] = hints
    return by_partition, hints


def _athena_vs_duckdb(run: _Run, by_partition: dict[str, int]) -> _Query:
    """4. A partition-filtered aggregate: local Athena vs DuckDB on the same files on local disk."""
    import duckdb

    outputs = run.outputs
    biggest = max(by_partition, key=lambda p: by_partition[p])
    parts = dict(seg.split("=", 1) for seg in biggest.split("/") if "=" in seg)
    where = " AND ".join(f"{k} = '{v}'" for k, v in parts.items())
    sql_athena = (f'SELECT cdc_operation, count(*) AS n, sum(loyalty_points) AS points '
                  f'FROM "{outputs["GlueTableName"]}" WHERE {where} GROUP BY cdc_operation')
    output = f"s3://{outputs['LakeBucketName']}/bench-athena-results/"
    _athena_seconds(run.session, "SELECT 1", outputs["GlueDatabaseName"], output)  # warm-up
    athena_s, athena_rows = _best(lambda: _athena_seconds(run.session, sql_athena, outputs["GlueDatabaseName"], output))
    files = str(run.work / "lake" / outputs["LakePrefix"].strip("/") / "**" / "*.parquet")
    duck = duckdb.connect()

    def run_duckdb() -> tuple[float, list[tuple]]:
        t = time.monotonic()
        rows = duck.sql(
            f"SELECT cdc_operation, count(*), sum(loyalty_points) FROM read_parquet('{files}', "
            f"hive_partitioning=true, hive_types_autocast=false) WHERE {where} GROUP BY cdc_operation").fetchall()
        return time.monotonic() - t, sorted(tuple(None if v is None else str(v) for v in r) for r in rows)

    duck_s, duck_rows = _best(run_duckdb)
    if athena_rows != duck_rows:
        raise RuntimeError(f"local Athena and DuckDB disagree on {where}: {athena_rows} vs {duck_rows}")
    run.figures["athena_over_duckdb"] = round(athena_s / duck_s, 2)
    return _Query(where, athena_s, duck_s)


def _seeder_vs_batch_writer(run: _Run) -> tuple[int, float, float]:
    """5. The seeder over boto3's batch_writer, on the same cloud (plain tables).
    (items, seeder seconds, batch_writer seconds)"""
    sample = run.requests[:min(run.items, REFERENCE_ITEMS)]
    like = run.outputs["TableName"]
    seeder_table, writer_table = _plain_table(run.session, like), _plain_table(run.session, like)
    seeder_s, _ = _seed(run.session, seeder_table, sample, "seeder", False)
    writer_s = _batch_writer_seconds(run.session, writer_table, sample)
    for table in (seeder_table, writer_table):
        run.session.client("dynamodb").delete_table(TableName=table)
    run.figures["seeder_over_batch_writer"] = round(writer_s / seeder_s, 2)
    return len(sample), seeder_s, writer_s


def _cloud_figures(run: _Run) -> None:
    """The cloud's memory (peak, and after each step: where the peak comes from) and settings."""
    from ..localcloud import lifecycle

    figures = run.figures
    figures["peak_rss_mb"] = run.rss.peak_mb
    figures["peak_rss_server_process_mb"] = run.rss.process_peak_mb()
    figures["rss_mb_after"] = {step: round(value / 2**20, 1) for step, value in run.rss_at.items()}
    status = lifecycle.status(run.running.record.state_dir)
    figures["time_scale"] = status.get("time_scale")
    figures["buffering"] = status.get("buffering")


def _against_moto(figures: dict[str, Any], items: int, bad: int, say: Callable[[str], Any]) -> None:
    """6. Stock moto's DynamoDB, in process, the same writes (after the cloud is down: no contention)."""
    say(f"[bench] stock moto 5.2.5 in process, the same {items:,} writes")
    moto_rate = _moto_reference(items, bad)
    figures["moto_write_items_per_s"] = round(moto_rate, 1)
    figures["write_over_moto"] = round(figures["write_items_per_s"] / moto_rate, 2)
    figures["e2e_over_moto"] = round(figures["e2e_items_per_s"] / moto_rate, 2)


def _report(figures: dict[str, Any], bad: int, hints: dict, alone: float, piped: _Pipeline, engine: _Engine,
            query: _Query, writers: tuple[int, float, float], reconciliation: Any, balanced: bool) -> list[str]:
    items = figures["items"]
    written, delivered, queryable = piped.written, piped.delivered, piped.queryable
    sample, seeder_s, writer_s = writers
    return [
        f"items {items:,} ({bad} bad), {CONCURRENCY} writers, time scale {figures['time_scale']}, "
        f"buffering {figures['buffering']}, "
        f"buffering hints {hints}",
        f"DynamoDB writes alone           {alone:8.2f} s {figures['write_items_per_s']:>10,.0f} items/s "
        f"(last tenth / first tenth {figures['write_rate_last_over_first']})",
        f"  with the Kinesis destination  {written:8.2f} s {figures['pipeline_write_items_per_s']:>10,.0f} items/s",
        f"  write -> delivered (flush)    {delivered:8.2f} s {items / delivered:>10,.0f} items/s",
        f"  write -> queryable (crawl)    {queryable:8.2f} s {figures['e2e_items_per_s']:>10,.0f} items/s "
        f"= {figures['e2e_over_write']:.2f}x the writes alone",
        f"Firehose engine: {engine.records:,} records, busy {engine.busy:.2f} s (Lambda {engine.in_lambda:.2f} s) -> "
        f"{figures['engine_records_per_s']} records/s; pyarrow {engine.pyarrow_rate:,.0f} rows/s "
        f"-> engine/pyarrow {figures['engine_over_pyarrow']}",
        f"lake: {figures['objects']} objects in {figures['partitions']} partitions = "
        f"{figures['objects_per_partition']} per partition (AWS's hints would give ~{figures['aws_objects_per_partition']})",
        f"Athena / DuckDB (partition-filtered aggregate, {query.where}): {query.athena_s * 1000:.0f} ms / "
        f"{query.duck_s * 1000:.0f} ms = {figures['athena_over_duckdb']}",
        f"seeder / batch_writer ({sample:,} items): {seeder_s:.2f} s vs {writer_s:.2f} s "
        f"-> {figures['seeder_over_batch_writer']}x",
        f"peak RSS of the local cloud and its workers: {figures['peak_rss_mb']} MB "
        f"(the server process alone: {figures['peak_rss_server_process_mb']} MB)",
        f"stock moto in process: {figures['moto_write_items_per_s']} items/s",
        f"reconciliation: {reconciliation.summary()}; error records expected {bad}"
        + ("" if balanced else "  <-- DOES NOT BALANCE"),
    ]


def run_bench(items: int, *, progress: bool = True, moto_reference: bool = True,
              time_scale: float | None = None, say: Callable[[str], Any] = print) -> BenchResult:
    from .. import data, deploy
    from .rss import RssSampler

    bad = _bad_items(items)
    figures: dict[str, Any] = {"items": items}
    with _private_cloud(time_scale) as (running, session), tempfile.TemporaryDirectory(prefix="bench-") as work:
        with RssSampler(running.record.pid) as rss:
            say(f"[bench] local cloud {running.endpoint} (pid {running.record.pid}); deploying the stack")
            outputs = deploy.deploy(backend="local", context=DEPLOY_CONTEXT, out_dir=Path(work) / "cdk.out",
                                    boto3_session=session, progress=False)
            say(f"[bench] generating {items:,} items ({bad} with a bad createdAt)")
            run = _Run(items, session, running, outputs, Path(work), list(data.generate_items(items, seed=SEED, bad=bad)),
                       progress, rss, figures)
            alone = _writes_alone(run)
            piped = _through_the_pipeline(run, alone)
            reconciliation, balanced = _reconcile(run, bad)
            objects = _download_lake(session, outputs["LakeBucketName"], outputs["LakePrefix"], run.work / "lake")
            engine = _engine_vs_pyarrow(run, objects, piped.before, piped.after)
            by_partition, hints = _objects_per_partition(run, objects, piped.written)
            query = _athena_vs_duckdb(run, by_partition)
            run.rss_at["queried"] = rss.sample()
            del objects
            writers = _seeder_vs_batch_writer(run)
        _cloud_figures(run)
    run.requests = []  # dropped before the reference (as the cloud's memory is)
    if moto_reference:
        _against_moto(figures, items, bad, say)
    else:
        figures["moto_write_items_per_s"] = None
    figures["balanced"] = balanced
    lines = _report(figures, bad, hints, alone, piped, engine, query, writers, reconciliation, balanced)
    return BenchResult(figures, lines, balanced)
