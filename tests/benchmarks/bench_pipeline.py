"""The whole pipeline at scale, measured in one run and printed as ratios (no assertions on time).

DESIGN §5: "a 100k-item run, write to queryable, takes little more than writing the items to
DynamoDB alone; its engines run close to what DuckDB / pyarrow do on the same data".

1. BatchWriteItem of N items (the seeder's engine: 25 a call, 8 in flight) into a table WITHOUT a
   Kinesis destination: the DynamoDB writes alone.
2. The same N items into the deployed stack's table (DynamoDB -> Kinesis -> Firehose -> S3), then
   flush until everything is in S3 (write -> delivered), then a crawl (-> queryable).
3. The Firehose engine's own records/s: records it read over the time its thread spent moving
   records (its `busy_seconds` status), and pyarrow's raw Parquet write of the same rows.

N is 100,000, or BENCH_ITEMS. Run: `make bench` (or `pytest -m benchmark -s tests/benchmarks/bench_pipeline.py`).
"""
from __future__ import annotations

import io
import os
import time
import uuid

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib import data, deploy, lake
from pipeline_lib.lambdas.seeder import seed_requests, seeding_client
from pipeline_lib.localcloud import lifecycle
from polling import wait_for  # tests/polling.py

pytestmark = pytest.mark.benchmark

ITEMS = int(os.environ.get("BENCH_ITEMS", "100000"))
CONCURRENCY = 8  # the seeder's default
SMALL_DATA_SET = {"items": "200", "updates": "20", "deletes": "5"}  # the stack's own data set is not used here


def engine_status(local_cloud: lifecycle.Running, stream_name: str) -> dict:
    return lifecycle.status(local_cloud.record.state_dir)["extensions"]["firehose"][stream_name]


def create_plain_table(session: boto3.Session, like: str) -> str:
    """A table with the deployed table's key schema and billing, without a Kinesis destination."""
    ddb = session.client("dynamodb")
    described = ddb.describe_table(TableName=like)["Table"]
    name = f"bench-plain-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=described["KeySchema"],
                     AttributeDefinitions=described["AttributeDefinitions"])
    return name


def crawl(session: boto3.Session, crawler: str, timeout: float = 600) -> None:
    glue = session.client("glue")
    glue.start_crawler(Name=crawler)
    state = wait_for(lambda: glue.get_crawler(Name=crawler)["Crawler"], lambda c: c["State"] == "READY",
                     timeout=timeout, what=f"crawler {crawler} READY")
    assert state["LastCrawl"]["Status"] == "SUCCEEDED", state["LastCrawl"]


def test_pipeline_write_to_delivered_vs_dynamodb_alone(local_cloud, boto_session, tmp_path_factory):
    outputs = deploy.deploy(backend="local", context=SMALL_DATA_SET, out_dir=tmp_path_factory.mktemp("cdk-out"),
                            boto3_session=boto_session, progress=False)
    items = list(data.generate_items(ITEMS, seed=2026))
    client = seeding_client(boto_session, CONCURRENCY)
    stream = outputs["DeliveryStreamName"]

    # 1. The DynamoDB writes alone.
    plain = create_plain_table(boto_session, outputs["TableName"])
    alone = seed_requests(client, plain, items, concurrency=CONCURRENCY).seconds

    # 2. The same writes through the pipeline, until delivered, then until crawled.
    lifecycle.flush(local_cloud.endpoint, timeout=300)
    before = engine_status(local_cloud, stream)
    earlier = {o.key for o in lake.parquet_objects(outputs["LakeBucketName"], outputs["LakePrefix"], [],
                                                    boto3_session=boto_session)}
    started = time.monotonic()
    written = seed_requests(client, outputs["TableName"], items, concurrency=CONCURRENCY).seconds
    flush_started = time.monotonic()
    report = lifecycle.flush(local_cloud.endpoint, timeout=1800)
    delivered = time.monotonic() - started
    flush_seconds = time.monotonic() - flush_started
    after = report["firehose"][stream]
    assert after["flushed"] and after["failure"] is None, after
    crawl(boto_session, outputs["CrawlerName"])
    queryable = time.monotonic() - started

    # Nothing lost: every item is one row in the objects this run delivered (no bad items here).
    objects = [o for o in lake.parquet_objects(outputs["LakeBucketName"], outputs["LakePrefix"], boto3_session=boto_session)
               if o.key not in earlier]
    rows = pa.concat_tables(o.table for o in objects)
    records = after["records_in"] - before["records_in"]
    assert rows.num_rows == records == ITEMS, (rows.num_rows, records, ITEMS)
    busy = after["busy_seconds"] - before["busy_seconds"]
    in_lambda = after["lambda_seconds"] - before["lambda_seconds"]

    # 3. pyarrow's raw Parquet write of the same rows: one file, and one file per day as Firehose does.
    start = time.perf_counter()
    pq.write_table(rows, io.BytesIO(), compression="snappy")
    pyarrow_one = time.perf_counter() - start
    start = time.perf_counter()
    for obj in objects:
        pq.write_table(obj.table, io.BytesIO(), compression="snappy")
    pyarrow_each = time.perf_counter() - start

    def line(label: str, seconds: float, unit: str = "items/s", base: float | None = alone, count: int = ITEMS) -> str:
        ratio = f"{seconds / base:6.2f}x" if base else ""
        return f"  {label:<46} {seconds:8.2f} s {count / seconds:>11,.0f} {unit:<8} {ratio}"

    print(f"\n[bench] the pipeline with {ITEMS:,} items (BatchWriteItem, 25 a call, {CONCURRENCY} in flight), "
          f"local cloud, time scale {lifecycle.status(local_cloud.record.state_dir).get('time_scale')}:")
    print(f"  {'':<46} {'time':>10} {'rate':>11} {'':<8} vs DynamoDB alone")
    print(line("DynamoDB writes alone (no destination)", alone))
    print(line("DynamoDB writes with the Kinesis destination", written))
    print(line("write -> delivered (flush returned)", delivered))
    print(line("write -> queryable (crawl done)", queryable))
    partitions = len({o.key.rsplit("/", 1)[0] for o in objects})
    print(f"  flush after the last write: {flush_seconds:.2f} s; {len(objects)} Parquet objects in {partitions} partitions")
    print("  Firehose engine (its thread, while the writes ran):")
    print(line("  busy moving records", busy, "records/s", base=None, count=records))
    print(line("  of which in the enricher Lambda", in_lambda, "records/s", base=None, count=records))
    print(line("  the rest (read, route, convert, Parquet, S3)", busy - in_lambda, "records/s", base=None, count=records))
    print(f"  pyarrow, the same {rows.num_rows:,} rows:")
    print(line("  write_table, one file (snappy)", pyarrow_one, "rows/s", base=None))
    print(line(f"  write_table, {len(objects)} files as delivered", pyarrow_each, "rows/s", base=None))
    print(f"  engine records/s / pyarrow rows/s (same objects): {pyarrow_each / busy:.3f} "
          f"(engine without the Lambda: {pyarrow_each / (busy - in_lambda):.3f})")
    print(f"  RATIO write->delivered / DynamoDB writes alone = {delivered / alone:.2f}  "
          f"(write->queryable {queryable / alone:.2f})")
