"""Local Athena over a 1M-row Parquet lake, measured in one run and printed as ratios (no assertions
on time; the answers are checked against DuckDB's).

The lake: N rows (1,000,000, or BENCH_ATHENA_ROWS) in daily partitions (`day=YYYY-MM-DD/`, one
Parquet file each), written once to the local cloud's S3 (with the Glue table and its partitions)
and once to a local directory. Two queries:

- a partition-filtered aggregate (one day, grouped by category);
- a full scan (every row, grouped by category).

For each: local Athena through the API (StartQueryExecution -> GetQueryExecution polled as
awswrangler's wait_query polls, at once and then every second -> SUCCEEDED -> every GetQueryResults
page), DuckDB reading the same Parquet files from local disk (target: local Athena <= 2x DuckDB),
and `wr.s3.read_parquet_table` + pandas. Each is printed cold (its first run: nothing the engine
remembers between queries helps it) and best of REPEAT (BENCH_ATHENA_REPEAT, default 5) more; the
Athena and DuckDB runs alternate, so both see the same load. Every Athena run is a new execution
(no result reuse): the engine reads the objects again each time.

Where the API time goes, for the best run: the three calls a client must make (StartQueryExecution,
GetQueryExecution until the final state, GetQueryResults), the engine's own EngineExecutionTimeInMillis
(from the start of the run to the result files written), and a bare round trip to the same service
(GetWorkGroup, median of 20) for scale; and the CPU each query costs, averaged over CPU_RUNS more
runs: this process's (boto3's own work for the three calls) and the local cloud's (its request
handling and the engine), from /proc, so what no server could save is shown next to DuckDB's time.
Run: `make bench-parts` (or
`pytest -m benchmark -s tests/benchmarks/bench_athena.py`).
"""
from __future__ import annotations

import io
import os
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import awswrangler as wr
import boto3
import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.benchmark

ROWS = int(os.environ.get("BENCH_ATHENA_ROWS", "1000000"))
DAYS = 30
REPEAT = int(os.environ.get("BENCH_ATHENA_REPEAT", "5"))
# awswrangler's default athena_query_wait_polling_delay (awswrangler.athena._utils._QUERY_WAIT_POLLING_DELAY).
POLL_DELAY = 1.0
CPU_RUNS = 30
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
CATEGORIES = np.array(["books", "games", "garden", "music", "tools", "toys"])


def day_table(rng: np.random.Generator, rows: int, offset: int) -> pa.Table:
    return pa.table({
        "id": pa.array(np.arange(offset, offset + rows, dtype=np.int64)),
        "customer": pa.array([f"c-{i:06d}" for i in rng.integers(0, 50_000, rows)]),
        "category": pa.array(CATEGORIES[rng.integers(0, len(CATEGORIES), rows)]),
        "amount": pa.array(np.round(rng.uniform(1, 500, rows), 2)),
        "quantity": pa.array(rng.integers(1, 10, rows, dtype=np.int64)),
    })


@pytest.fixture(scope="module")
def lake(local_cloud, boto_session, tmp_path_factory):
    tag = uuid.uuid4().hex[:8]
    bucket, database, table = f"bench-athena-{tag}", f"bench_{tag}", "sales"
    s3, glue = boto_session.client("s3"), boto_session.client("glue")
    s3.create_bucket(Bucket=bucket)
    glue.create_database(DatabaseInput={"Name": database})
    root = tmp_path_factory.mktemp("athena-lake")
    rng = np.random.default_rng(2026)
    first = date(2026, 1, 1)
    per_day = ROWS // DAYS
    partitions = []
    for d in range(DAYS):
        day = (first + timedelta(days=d)).isoformat()
        rows = per_day if d < DAYS - 1 else ROWS - per_day * (DAYS - 1)
        data = day_table(rng, rows, d * per_day)
        buffer = io.BytesIO()
        pq.write_table(data, buffer, compression="snappy")
        s3.put_object(Bucket=bucket, Key=f"{table}/day={day}/part-0.parquet", Body=buffer.getvalue())
        (root / f"day={day}").mkdir()
        (root / f"day={day}" / "part-0.parquet").write_bytes(buffer.getvalue())
        partitions.append(day)
    descriptor = {
        "Columns": [{"Name": "id", "Type": "bigint"}, {"Name": "customer", "Type": "string"},
                    {"Name": "category", "Type": "string"}, {"Name": "amount", "Type": "double"},
                    {"Name": "quantity", "Type": "bigint"}],
        "Location": f"s3://{bucket}/{table}/",
        "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
        "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
        "SerdeInfo": {"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
    }
    glue.create_table(DatabaseName=database, TableInput={
        "Name": table, "TableType": "EXTERNAL_TABLE", "Parameters": {"classification": "parquet"},
        "PartitionKeys": [{"Name": "day", "Type": "string"}], "StorageDescriptor": descriptor})
    for start in range(0, len(partitions), 100):
        glue.batch_create_partition(DatabaseName=database, TableName=table, PartitionInputList=[
            {"Values": [day], "StorageDescriptor": {**descriptor, "Location": f"s3://{bucket}/{table}/day={day}/"}}
            for day in partitions[start:start + 100]])
    return {"bucket": bucket, "database": database, "table": table, "root": root, "day": partitions[DAYS // 2],
            "session": boto_session}


@dataclass
class AthenaRun:
    seconds: float  # StartQueryExecution sent -> last result page read
    rows: list[list[str]]
    scanned: int  # DataScannedInBytes
    engine_ms: int  # EngineExecutionTimeInMillis
    start_ms: float  # the StartQueryExecution call
    wait_ms: float  # GetQueryExecution calls until the final state
    results_ms: float  # the GetQueryResults pages


def athena_query(session: boto3.Session, sql: str, database: str, output: str, athena=None) -> AthenaRun:
    """One query, timed from StartQueryExecution (the client made before, when not given)."""
    athena = athena or session.client("athena")
    started = time.perf_counter()
    execution_id = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": database},
                                                ResultConfiguration={"OutputLocation": output})["QueryExecutionId"]
    submitted = time.perf_counter()
    # Polled as awswrangler's wait_query polls: at once, then every POLL_DELAY seconds.
    execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    while execution["Status"]["State"] not in ("SUCCEEDED", "FAILED", "CANCELLED"):
        time.sleep(POLL_DELAY)
        execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    finished = time.perf_counter()
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    rows = [[c.get("VarCharValue") for c in r["Data"]]
            for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id)
            for r in page["ResultSet"]["Rows"]]
    done = time.perf_counter()
    stats = execution["Statistics"]
    return AthenaRun(done - started, rows[1:], stats["DataScannedInBytes"], stats["EngineExecutionTimeInMillis"],
                     (submitted - started) * 1000, (finished - submitted) * 1000, (done - finished) * 1000)


def round_trip_ms(session: boto3.Session) -> tuple[float, float]:
    """A bare Athena API round trip (GetWorkGroup) over 20 calls, the fastest and the median: the
    floor of each of the three calls a query needs."""
    athena = session.client("athena")
    athena.get_work_group(WorkGroup="primary")
    times = []
    for _ in range(20):
        started = time.perf_counter()
        athena.get_work_group(WorkGroup="primary")
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of every thread of `pid` (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICK


def cpu_per_query(session: boto3.Session, sql: str, database: str, output: str, server_pid: int) -> tuple[float, float | None]:
    """The client's and the local cloud's CPU milliseconds per query, over CPU_RUNS runs (the cloud's
    from /proc ticks, too coarse for one run)."""
    athena = session.client("athena")
    client, server = time.process_time(), process_cpu_seconds(server_pid)
    for _ in range(CPU_RUNS):
        athena_query(session, sql, database, output, athena)
    client_ms = (time.process_time() - client) * 1000 / CPU_RUNS
    server_now = process_cpu_seconds(server_pid)
    server_ms = None if server is None or server_now is None else (server_now - server) * 1000 / CPU_RUNS
    return client_ms, server_ms


def as_answer(rows) -> list[tuple]:
    return sorted((str(r[0]), int(r[1]), round(float(r[2]), 2)) for r in rows)


def test_local_athena_vs_duckdb_and_wrangler(lake, local_cloud):
    session, day = lake["session"], lake["day"]
    server_pid = local_cloud.record.pid
    output = f"s3://{lake['bucket']}/results/"
    table = lake["table"]
    queries = {
        "partition-filtered aggregate": (
            f"SELECT category, count(*) AS n, sum(amount) AS total FROM {table} WHERE day = '{day}' GROUP BY category",
            f"day = '{day}'", lambda p: p["day"] == day),
        "full scan": (
            f"SELECT category, count(*) AS n, sum(amount) AS total FROM {table} GROUP BY category",
            "true", None),
    }
    duck = duckdb.connect()
    files = str(Path(lake["root"]) / "*" / "*.parquet")
    athena_query(session, "SELECT 1", lake["database"], output)  # warm: engine imports, first connection
    rt, rt_median = round_trip_ms(session)
    lines = [f"[bench] local Athena over a {ROWS:,}-row Parquet lake ({DAYS} daily partitions), cold (first run) "
             f"and best of {REPEAT}; a bare API round trip (GetWorkGroup x 20) fastest {rt:.1f} ms, median "
             f"{rt_median:.1f} ms; load average {os.getloadavg()[0]:.2f}:"]
    for label, (sql, where, partition_filter) in queries.items():
        def run_duckdb():
            started = time.perf_counter()
            result = duck.sql(f"SELECT category, count(*), sum(amount) FROM read_parquet('{files}', hive_partitioning=true) "
                              f"WHERE {where} GROUP BY category").fetchall()
            return time.perf_counter() - started, result

        athena_runs, duck_runs = [], []
        for _ in range(1 + REPEAT):  # alternating; the first of each is the cold one
            athena_runs.append(athena_query(session, sql, lake["database"], output))
            duck_runs.append(run_duckdb())
        cold, (duck_cold, _) = athena_runs[0], duck_runs[0]
        run = min(athena_runs[1:], key=lambda r: r.seconds)
        engine_ms = min(r.engine_ms for r in athena_runs[1:])
        seconds_duckdb, duck_rows = min(duck_runs[1:], key=lambda r: r[0])

        def run_wrangler():
            started = time.perf_counter()
            frame = wr.s3.read_parquet_table(table=table, database=lake["database"], partition_filter=partition_filter,
                                             columns=["category", "amount"], boto3_session=session)
            grouped = frame.groupby("category", observed=True)["amount"].agg(["count", "sum"]).reset_index()
            return time.perf_counter() - started, grouped.values.tolist()

        seconds_wr, wr_rows = min((run_wrangler() for _ in range(1 if partition_filter is None else REPEAT)),
                                  key=lambda r: r[0])
        assert as_answer(run.rows) == as_answer(cold.rows) == as_answer(duck_rows) == as_answer(wr_rows)
        client_ms, server_ms = cpu_per_query(session, sql, lake["database"], output, server_pid)
        server_text = "unknown" if server_ms is None else f"{server_ms:.1f} ms"
        lines.append(
            f"  {label} (scanned {run.scanned:,} B):\n"
            f"    best: local Athena {run.seconds * 1000:.0f} ms, DuckDB on local disk {seconds_duckdb * 1000:.1f} ms "
            f"-> {run.seconds / seconds_duckdb:.2f}x (target <= 2x); the engine alone {engine_ms} ms "
            f"-> {engine_ms / 1000 / seconds_duckdb:.2f}x\n"
            f"    cold: local Athena {cold.seconds * 1000:.0f} ms (engine {cold.engine_ms} ms), DuckDB {duck_cold * 1000:.1f} ms "
            f"-> {cold.seconds / duck_cold:.2f}x (engine {cold.engine_ms / 1000 / duck_cold:.2f}x)\n"
            f"    best run's split: StartQueryExecution {run.start_ms:.1f} ms + GetQueryExecution until SUCCEEDED "
            f"{run.wait_ms:.1f} ms + GetQueryResults {run.results_ms:.1f} ms; three bare round trips take "
            f"{3 * rt:.1f} ms at the fastest, so through the API no better than "
            f"{(3 * rt / 1000 + seconds_duckdb) / seconds_duckdb:.2f}x even with an engine as fast as DuckDB\n"
            f"    CPU per query (mean of {CPU_RUNS}): this client (boto3) {client_ms:.1f} ms = "
            f"{client_ms / 1000 / seconds_duckdb:.2f}x DuckDB's whole query; the local cloud {server_text}\n"
            f"    wr.s3.read_parquet_table + pandas {seconds_wr * 1000:.0f} ms -> local Athena {run.seconds / seconds_wr:.2f}x of it")
    print("\n" + "\n".join(lines))
