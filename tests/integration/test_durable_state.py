"""Durable local state: `local down` then `local up` on the same state dir brings the cloud
back (stack, table and items, stream records and sequence numbers, lake objects and versions,
catalog, crawler, functions, state machine executions, Athena history); delivery resumes exactly;
snapshots; a state that cannot be loaded is refused; `kill -9` loses at most the save interval.

The tests share one cloud of their own (the session's shared cloud is never stopped) and run in
file order: each leaves the cloud up with the stack deployed.
"""
from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pyarrow.compute as pc
import pytest

from pipeline_lib import data, deploy, flow, lake, query
from pipeline_lib.localcloud import lifecycle, snapshot
from pipeline_lib.localcloud.state.keeper import current_path
from polling import wait_for  # tests/polling.py

pytestmark = pytest.mark.integration

INTERVAL = "1"  # seconds between periodic saves of this module's cloud


class Cloud:
    def __init__(self, state_dir: Path):
        self.state_dir = str(state_dir)
        self.port: int | None = None
        self.outputs: dict[str, str] = {}

    def up(self) -> lifecycle.Running:
        saved = os.environ.get("PIPELINE_STATE_INTERVAL")
        os.environ["PIPELINE_STATE_INTERVAL"] = INTERVAL
        try:
            running = lifecycle.up(port=self.port if self.port is not None else 0, state_dir=self.state_dir)
        finally:
            if saved is None:
                os.environ.pop("PIPELINE_STATE_INTERVAL", None)
            else:
                os.environ["PIPELINE_STATE_INTERVAL"] = saved
        self.port = running.record.port
        os.environ["AWS_ENDPOINT_URL"] = running.endpoint
        return running

    def down(self) -> None:
        assert lifecycle.down(self.state_dir)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def session(self) -> boto3.Session:
        return boto3.Session(region_name="us-east-1")

    def client(self, service: str):
        return self.session.client(service)

    def state(self) -> dict:
        return lifecycle.status(self.state_dir)["state"]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, local_cloud, deploy_context, deployed_assembly) -> Iterator[Cloud]:
    """This module's cloud with the stack deployed and its flow run once (data delivered, the
    table crawled). AWS clients of this process reach it while the module runs."""
    saved = os.environ.get("AWS_ENDPOINT_URL")
    made = Cloud(tmp_path_factory.mktemp("durable-state"))
    made.up()
    try:
        made.outputs = deploy.deploy(backend="local", context=deploy_context, out_dir=deployed_assembly,
                                     boto3_session=made.session, progress=False)
        report = flow.run(made.outputs, poll_seconds=1, progress=False, boto3_session=made.session, say=lambda _m: None)
        assert report.balanced, report.render()
        yield made
    finally:
        lifecycle.down(made.state_dir)
        if saved is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = saved


# -- what the cloud holds, read through the AWS APIs ---------------------------------------------
def holdings(cloud: Cloud) -> dict:
    out = cloud.outputs
    ddb, s3, kinesis, glue = (cloud.client(s) for s in ("dynamodb", "s3", "kinesis", "glue"))
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=out["TableName"]):
        items.extend(page["Items"])
    shards = {}
    for shard in kinesis.list_shards(StreamARN=out["StreamArn"])["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamARN=out["StreamArn"], ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = []
        while iterator:
            got = kinesis.get_records(StreamARN=out["StreamArn"], ShardIterator=iterator, Limit=10_000)
            records.extend((r["SequenceNumber"], r["Data"]) for r in got["Records"])
            iterator = got["NextShardIterator"] if got["MillisBehindLatest"] > 0 or got["Records"] else None
        shards[shard["ShardId"]] = records
    versions = {}
    for bucket in (out["LakeBucketName"], out["RawBucketName"]):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for v in page.get("Versions", []):
                versions[(bucket, v["Key"], v["VersionId"])] = (v["ETag"], v["Size"])
    partitions = sorted(tuple(p["Values"]) for page in glue.get_paginator("get_partitions").paginate(
        DatabaseName=out["GlueDatabaseName"], TableName=out["GlueTableName"]) for p in page["Partitions"])
    crawler = glue.get_crawler(Name=out["CrawlerName"])["Crawler"]
    sfn = cloud.client("stepfunctions")
    executions = sorted((e["executionArn"], e["status"]) for e in
                        sfn.list_executions(stateMachineArn=out["StateMachineArn"])["executions"])
    functions = {f["FunctionName"]: f["CodeSha256"] for f in cloud.client("lambda").list_functions()["Functions"]}
    stack = cloud.client("cloudformation").describe_stacks(StackName="CdcWorkbench")["Stacks"][0]
    return {
        "stack": (stack["StackStatus"], sorted((o["OutputKey"], o["OutputValue"]) for o in stack["Outputs"])),
        "items": sorted(json.dumps(i, sort_keys=True) for i in items),
        "shards": shards,
        "versions": versions,
        "table": glue.get_table(DatabaseName=out["GlueDatabaseName"], Name=out["GlueTableName"])["Table"]["StorageDescriptor"]["Columns"],
        "partitions": partitions,
        "crawler": (crawler["State"], crawler.get("LastCrawl", {}).get("Status")),
        "executions": executions,
        "functions": functions,
    }


def athena_count(cloud: Cloud) -> int:
    out = cloud.outputs
    result = query.run_query(f'SELECT count(*) AS n FROM "{out["GlueTableName"]}"', database=out["GlueDatabaseName"],
                             workgroup=out["AthenaWorkGroupName"], boto3_session=cloud.session)
    return int(result.frame["n"][0])


def lake_rows(cloud: Cloud) -> int:
    """Rows in the lake's Parquet objects, counted from the objects' own footers."""
    return sum(o.table.num_rows for o in lake.parquet_objects(
        cloud.outputs["LakeBucketName"], cloud.outputs["LakePrefix"], ["customer_id"], boto3_session=cloud.session))


def history(cloud: Cloud) -> list[str]:
    return cloud.client("athena").list_query_executions(WorkGroup=cloud.outputs["AthenaWorkGroupName"])["QueryExecutionIds"]


# -- changes of one test, tagged -------------------------------------------------------------------
def tagged_requests(cloud: Cloud, count: int) -> tuple[str, list[dict]]:
    """`count` new orders of customers tagged with a fresh tag (PutRequests of new keys)."""
    tag = uuid.uuid4().hex[:8]
    body = cloud.client("s3").get_object(Bucket=cloud.outputs["RawBucketName"], Key=cloud.outputs["DataSetKey"])["Body"].read()
    requests = []
    for line in body.decode().splitlines():
        request = json.loads(line)
        item = request.get("PutRequest", {}).get("Item")
        if not item or "orderId" not in item or data.is_bad_item(item):
            continue
        item["PK"]["S"] = item["PK"]["S"].replace("CUSTOMER#c-", f"CUSTOMER#c-{tag}-", 1)
        item["customerId"]["S"] = item["customerId"]["S"].replace("c-", f"c-{tag}-", 1)
        requests.append(request)
        if len(requests) == count:
            break
    assert len(requests) == count, "the deployed data set has too few orders"
    return tag, requests


def write(cloud: Cloud, requests: list[dict]) -> None:
    ddb = cloud.client("dynamodb")
    for start in range(0, len(requests), 25):
        chunk = requests[start:start + 25]
        answer = ddb.batch_write_item(RequestItems={cloud.outputs["TableName"]: chunk})
        assert not answer.get("UnprocessedItems"), answer


def landed(cloud: Cloud, tag: str) -> tuple[list[str], int]:
    """(cdc_event_id of every lake row of the tag, error records of the tag)."""
    ids = []
    for obj in lake.parquet_objects(cloud.outputs["LakeBucketName"], cloud.outputs["LakePrefix"],
                                    ["customer_id", "cdc_event_id"], boto3_session=cloud.session):
        table = obj.table.filter(pc.starts_with(obj.table["customer_id"], f"c-{tag}-"))
        ids.extend(table["cdc_event_id"].to_pylist())

    def mine(record: dict) -> bool:
        keys = (lake.raw_change(record) or {}).get("dynamodb", {}).get("Keys", {})
        return keys.get("PK", {}).get("S", "").startswith(f"CUSTOMER#c-{tag}-")

    errors = lake.error_records(cloud.outputs["LakeBucketName"], cloud.outputs["ErrorPrefix"], mine,
                                boto3_session=cloud.session)
    return ids, len(errors)


def flushed(cloud: Cloud) -> None:
    report = lifecycle.flush(cloud.endpoint, timeout=120)
    engine = report["firehose"][cloud.outputs["DeliveryStreamName"]]
    assert report["dynamodb_kinesis"]["drained"] and engine["flushed"] and engine["failure"] is None, report


# -- the tests ---------------------------------------------------------------------------------------
def test_down_up_keeps_the_deployed_stack_its_data_and_a_queryable_table(cloud):
    rows = lake_rows(cloud)
    assert athena_count(cloud) == rows > 0
    before, queries = holdings(cloud), history(cloud)
    assert queries and before["partitions"] and before["executions"]

    cloud.down()
    cloud.up()

    after = holdings(cloud)
    for part in before:
        assert after[part] == before[part], part
    assert history(cloud) == queries  # Athena's history, newest first
    assert athena_count(cloud) == rows
    # The functions run again (workers restart): the flow seeds, delivers and crawls once more.
    report = flow.run(cloud.outputs, poll_seconds=1, progress=False, boto3_session=cloud.session, say=lambda _m: None)
    assert report.balanced, report.render()


def test_delivery_in_flight_at_down_completes_after_up_exactly(cloud):
    tag, requests = tagged_requests(cloud, 60)
    write(cloud, requests)
    cloud.down()  # right after the writes were acknowledged: changes are queued, streaming, buffered
    cloud.up()
    flushed(cloud)
    ids, errors = landed(cloud, tag)
    assert len(ids) + errors == len(requests)
    assert len(set(ids)) == len(ids)  # none twice


def test_snapshot_save_list_load_returns_to_the_saved_state(cloud):
    saved = snapshot.save("just-deployed", cloud.state_dir)
    assert saved["bytes"] > 0
    assert "just-deployed" in [s["name"] for s in snapshot.snapshots(cloud.state_dir)]
    before = holdings(cloud)

    tag, requests = tagged_requests(cloud, 10)
    write(cloud, requests)
    flushed(cloud)
    assert holdings(cloud)["items"] != before["items"]

    pid = lifecycle.find(cloud.state_dir).record.pid
    started = time.monotonic()
    running = snapshot.load("just-deployed", cloud.state_dir)
    took = time.monotonic() - started
    assert running.record.port == cloud.port
    assert lifecycle.find(cloud.state_dir).record.pid == pid  # loaded in place: the same process
    print(f"snapshot saved in {saved['seconds']:.2f}s ({saved['bytes']:,} bytes), loaded in place in {took:.2f}s")
    assert holdings(cloud) == before, f"loaded in {took:.1f}s"
    assert landed(cloud, tag) == ([], 0)

    with pytest.raises(lifecycle.LocalCloudError, match="no snapshot named 'missing'"):
        snapshot.load("missing", cloud.state_dir)
    assert lifecycle.find(cloud.state_dir) is not None  # a refused load stops nothing


WAIT_MACHINE = {
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Pass", "Result": {"step": "started"}, "ResultPath": "$.first", "Next": "Hold"},
        "Hold": {"Type": "Wait", "Seconds": 4, "Next": "Finish"},
        "Finish": {"Type": "Pass", "Result": "finished", "ResultPath": "$.last", "End": True},
    },
}


def events_of(sfn, arn: str) -> list[dict]:
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def test_work_running_at_a_save_continues_after_the_load(cloud):
    """An execution in its Wait state, a crawl and an Athena query, all running when a snapshot
    is taken without a flush, finish after that snapshot is loaded (in place)."""
    out = cloud.outputs
    sfn, glue, athena = cloud.client("stepfunctions"), cloud.client("glue"), cloud.client("athena")
    role = sfn.describe_state_machine(stateMachineArn=out["StateMachineArn"])["roleArn"]
    machine = sfn.create_state_machine(name=f"hold-{uuid.uuid4().hex[:6]}", definition=json.dumps(WAIT_MACHINE),
                                       roleArn=role)["stateMachineArn"]
    rows = lake_rows(cloud)
    # rows³ joined rows, each hashed (a bare count(*) of a cross join is answered without
    # enumerating it): seconds of work, still running at the save; a SHA-256 in hex is always 64
    # characters, so the answer is rows³, computed here.
    table = f'"{out["GlueDatabaseName"]}"."{out["GlueTableName"]}"'
    query = athena.start_query_execution(
        QueryString=f"SELECT count(*) AS n FROM {table} a CROSS JOIN {table} b CROSS JOIN {table} c "
                    "WHERE length(to_hex(sha256(to_utf8(a.customer_id || b.customer_id || c.customer_id)))) = 64",
        WorkGroup=out["AthenaWorkGroupName"])["QueryExecutionId"]
    glue.start_crawler(Name=out["CrawlerName"])
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"order": 7}))["executionArn"]
    wait_for(lambda: any(e["type"] == "WaitStateEntered" for e in events_of(sfn, execution)), timeout=30,
             what="the execution to enter its Wait state")

    snapshot.save("mid-flight", cloud.state_dir, flush=False)
    # Each was unfinished when the save was taken if it still is now (states only move forward).
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    assert glue.get_crawler(Name=out["CrawlerName"])["Crawler"]["State"] == "RUNNING"
    assert athena.get_query_execution(QueryExecutionId=query)["QueryExecution"]["Status"]["State"] in ("QUEUED", "RUNNING")

    snapshot.load("mid-flight", cloud.state_dir)

    wait_for(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING", timeout=60,
             what="the resumed execution to end")
    described = sfn.describe_execution(executionArn=execution)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == {"order": 7, "first": {"step": "started"}, "last": "finished"}
    events = events_of(sfn, execution)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))  # one history, ids in sequence
    kinds = [e["type"] for e in events]
    assert kinds.count("ExecutionStarted") == 1 and kinds.count("PassStateExited") == 2  # Start ran once
    assert kinds[-1] == "ExecutionSucceeded"

    wait_for(lambda: glue.get_crawler(Name=out["CrawlerName"])["Crawler"]["State"] == "READY", timeout=60,
             what="the resumed crawl to end")
    assert glue.get_crawler(Name=out["CrawlerName"])["Crawler"]["LastCrawl"]["Status"] == "SUCCEEDED"

    wait_for(lambda: athena.get_query_execution(QueryExecutionId=query)["QueryExecution"]["Status"]["State"]
             not in ("QUEUED", "RUNNING"), timeout=120, what="the resumed query to end")
    status = athena.get_query_execution(QueryExecutionId=query)["QueryExecution"]["Status"]
    assert status["State"] == "SUCCEEDED", status
    result = athena.get_query_results(QueryExecutionId=query)["ResultSet"]["Rows"]
    assert int(result[1]["Data"][0]["VarCharValue"]) == rows ** 3


def test_a_state_that_cannot_be_loaded_is_refused_and_nothing_starts(cloud, tmp_path):
    cloud.down()
    path = current_path(cloud.state_dir)
    good = path.read_bytes()
    try:
        damaged = bytearray(good)
        damaged[len(damaged) // 2] ^= 0xFF
        path.write_bytes(bytes(damaged))
        with pytest.raises(lifecycle.LocalCloudError, match="is damaged"):
            cloud.up()
        assert path.read_bytes() == bytes(damaged)  # refused, not overwritten by an empty cloud
    finally:
        path.write_bytes(good)
    cloud.up()
    assert holdings(cloud)["stack"][0] == "CREATE_COMPLETE"


def test_kill_9_loses_at_most_the_last_save_interval(cloud):
    tag, requests = tagged_requests(cloud, 40)
    write(cloud, requests)
    acknowledged = time.time()
    # The documented window: what was acknowledged before a save that started after it survives.
    wait_for(lambda: (cloud.state().get("last_save") or {}).get("started_at", 0) > acknowledged,
             timeout=60, what="a periodic save after the writes")
    os.kill(lifecycle.StateDir(cloud.state_dir).read_record().pid, signal.SIGKILL)
    wait_for(lambda: not lifecycle.server_holds_lock(lifecycle.StateDir(cloud.state_dir)), timeout=30,
             what="the killed cloud to exit")
    cloud.up()
    keys = {(r["PutRequest"]["Item"]["PK"]["S"], r["PutRequest"]["Item"]["SK"]["S"]) for r in requests}
    ddb = cloud.client("dynamodb")
    found = {(k[0], k[1]) for k in keys
             if "Item" in ddb.get_item(TableName=cloud.outputs["TableName"], Key={"PK": {"S": k[0]}, "SK": {"S": k[1]}})}
    assert found == keys  # every acknowledged write before the save is in the table
    flushed(cloud)
    ids, errors = landed(cloud, tag)
    # at-least-once after a crash: a change may land twice, none is missing
    assert len(set(ids)) + errors == len(requests)
