"""The local Athena SQL engine alone (no HTTP, no moto): a 1M-row partitioned Parquet lake held in
the engine's in-memory storage, queried through `Query.run`, against DuckDB reading the same
Parquet files from local disk. Printed as ratios (target <= 2x); no assertions on time.

Run: `pytest -m benchmark -s tests/benchmarks/bench_athena_engine.py` (ROWS=... to change size).
"""
from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib.localcloud.athena.engine.memory import MemoryLake

pytestmark = pytest.mark.benchmark

ROWS = int(os.environ.get("ROWS", "1000000"))
DAYS = 20


def _best(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _lake(tmp: Path) -> MemoryLake:
    rng = np.random.default_rng(7)
    lake = MemoryLake("bench")
    per_day = ROWS // DAYS
    start = dt.date(2024, 1, 1)
    for d in range(DAYS):
        day = (start + dt.timedelta(days=d)).isoformat()
        table = pa.table({
            "id": pa.array(np.arange(d * per_day, (d + 1) * per_day), pa.int64()),
            "customer": pa.array([f"c{i % 1000}" for i in range(per_day)]),
            "amount": pa.array(rng.random(per_day) * 100),
            "qty": pa.array(rng.integers(1, 10, per_day), pa.int32()),
            "ts": pa.array(np.datetime64(day) + rng.integers(0, 86_400_000, per_day).astype("timedelta64[ms]")),
        })
        folder = tmp / f"dt={day}"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-0.parquet")
        lake.put(f"s3://lake/t/dt={day}/part-0.parquet", (folder / "part-0.parquet").read_bytes())
    lake.table("t", [("id", "bigint"), ("customer", "string"), ("amount", "double"), ("qty", "int"),
                     ("ts", "timestamp")], "s3://lake/t/", partition_keys=[("dt", "string")])
    for d in range(DAYS):
        day = (start + dt.timedelta(days=d)).isoformat()
        lake.partition("t", [day], f"s3://lake/t/dt={day}/")
    return lake


QUERIES = {
    "partition-filtered aggregate": (
        "SELECT customer, count(*), sum(amount) FROM t WHERE dt = '2024-01-05' GROUP BY customer",
        "SELECT customer, count(*), sum(amount) FROM read_parquet('{root}/*/*.parquet', hive_partitioning = true) "
        "WHERE dt = '2024-01-05' GROUP BY customer"),
    "full scan aggregate": (
        "SELECT count(*), sum(amount), avg(qty), max(ts), count(DISTINCT customer) FROM t",
        "SELECT count(*), sum(amount), avg(qty), max(ts), count(DISTINCT customer) "
        "FROM read_parquet('{root}/*/*.parquet', hive_partitioning = true)"),
}


def test_engine_against_duckdb_on_local_disk(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    con = duckdb.connect()
    print(f"\n{ROWS:,} rows in {DAYS} partitions")
    for label, (athena_sql, duck_sql) in QUERIES.items():
        ours = lake.query(athena_sql)
        theirs = con.sql(duck_sql.format(root=tmp_path)).fetchall()
        assert ours.table.num_rows == len(theirs)
        t_ours = _best(lambda: lake.query(athena_sql))
        t_duck = _best(lambda: con.sql(duck_sql.format(root=tmp_path)).fetchall())
        print(f"{label:32s} local Athena engine {t_ours * 1000:8.1f} ms   DuckDB on disk {t_duck * 1000:8.1f} ms   "
              f"ratio {t_ours / t_duck:5.2f}x   scanned {ours.data_scanned_bytes:,} B")
