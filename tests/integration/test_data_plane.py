"""The data plane end to end, against the CdcWorkbench stack deployed into the local cloud:
DynamoDB -> Kinesis -> Firehose (enricher, dynamic partitions, Parquet) -> S3 -> Glue crawler,
and the Step Functions flow that drives it.

The lake and the table are shared with other tests, so every test counts only what it wrote:
its items carry a unique customer-id tag (`c-<tag>-000001`) and a createdAt window of its own.
The engine-level cases (Direct PUT with jq keys, the active-partition limit, malformed Lambda
answers) are in test_firehose_engine.py and are not repeated here.
"""
from __future__ import annotations

import copy
import io
import json
import random
import re
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pipeline_lib import data, flow, lake
from pipeline_lib.localcloud import lifecycle
from pipeline_lib.schema import canonical_type, from_arrow
from polling import wait_for  # tests/polling.py

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ENRICHER_SOURCE = ROOT / "pipeline_lib" / "lambdas" / "enricher.py"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
STAMP = r"(?P<stamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})"
RECORD_KEYS = {"awsRegion", "eventID", "eventName", "userIdentity", "recordFormat", "tableName", "eventSource", "dynamodb"}
PROCESSING_FAILED_FIELDS = {
    "attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp", "rawData", "lambdaARN",
}
ROW_COLUMNS = ["customer_id", "order_id", "cdc_operation", "status", "total", "created_at"]


# -- the deployed stack ------------------------------------------------------------------------
@dataclass
class Stack:
    outputs: dict[str, str]
    session: boto3.Session
    endpoint: str

    def __getitem__(self, name: str) -> str:
        return self.outputs[name]

    def client(self, service: str):
        return self.session.client(service)

    @property
    def bucket(self) -> str:
        return self.outputs["LakeBucketName"]


@pytest.fixture(scope="module")
def stack(deployed_stack, local_cloud, boto_session) -> Stack:
    return Stack(deployed_stack, boto_session, local_cloud.endpoint)


def flush(stack: Stack) -> dict[str, Any]:
    """Everything written so far is in S3 (forwarder, then Firehose), or the test fails here."""
    report = lifecycle.flush(stack.endpoint, timeout=120)
    assert report["dynamodb_kinesis"]["drained"], report["dynamodb_kinesis"]
    engine = report["firehose"][stack["DeliveryStreamName"]]
    assert engine["flushed"] and engine["failure"] is None, engine
    return report


# -- data sets of a test's own -----------------------------------------------------------------
Key = tuple[str, str]


def new_tag() -> str:
    return uuid.uuid4().hex[:10]


def relabel(requests: Iterable[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """The generator's requests with customer ids `c-<tag>-NNNNNN`: keys no other test writes."""
    out = []
    for request in requests:
        request = copy.deepcopy(request)
        body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
        body["PK"]["S"] = body["PK"]["S"].replace("#c-", f"#c-{tag}-", 1)
        if "customerId" in body:
            body["customerId"]["S"] = body["customerId"]["S"].replace("c-", f"c-{tag}-", 1)
        out.append(request)
    return out


def free_window(stack: Stack, days: int) -> date:
    """A createdAt window none of whose days has a folder in the lake yet."""
    taken = day_folders(stack)
    rng = random.Random(uuid.uuid4().int)
    for _ in range(100):
        start = date(2040, 1, 1) + timedelta(days=rng.randrange(365 * 50))
        if not {start + timedelta(days=i) for i in range(days)} & taken:
            return start
    raise AssertionError("no free createdAt window found")


def seed(stack: Stack, requests: list[dict[str, Any]]) -> None:
    """Write with the project's seeder (the Lambda's engine): order per key kept."""
    result = data.seed_file([json.dumps(r) for r in requests], stack["TableName"], progress=False,
                            boto3_session=stack.session)
    assert (result.written, result.failed) == (len(requests), 0)


def key_of(request: dict[str, Any]) -> Key:
    body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
    return body["PK"]["S"], body["SK"]["S"]


@dataclass(frozen=True)
class Change:
    """One change record DynamoDB sends for a request: the operation and the item image it carries."""

    operation: str
    key: Key
    image: dict[str, Any]

    @property
    def bad(self) -> bool:
        return data.is_bad_item(self.image)

    def row(self) -> tuple:
        """(customer_id, order_id, cdc_operation, status, total) the lake row must carry."""
        image = self.image
        total = image.get("total", {}).get("N")
        return (
            image["customerId"]["S"],
            image.get("orderId", {}).get("S"),
            self.operation,
            image.get("status", {}).get("S"),
            Decimal(total) if total is not None else None,
        )


def expected_changes(requests: Iterable[dict[str, Any]], existing: dict[Key, dict] | None = None) -> list[Change]:
    """The changes the requests cause, in order: a put of a new key is an INSERT, of an existing
    one a MODIFY (new image), a delete of an existing key a REMOVE (old image)."""
    items = dict(existing or {})
    out = []
    for request in requests:
        key = key_of(request)
        if "PutRequest" in request:
            item = request["PutRequest"]["Item"]
            out.append(Change("MODIFY" if key in items else "INSERT", key, item))
            items[key] = item
        elif key in items:
            out.append(Change("REMOVE", key, items.pop(key)))
    return out


# -- reading the lake ---------------------------------------------------------------------------
def lake_rows(stack: Stack, tag: str) -> list[tuple[str, dict]]:
    """(object key, row) of every lake row of the tag's customers."""
    out = []
    for obj in lake.parquet_objects(stack.bucket, stack["LakePrefix"], ROW_COLUMNS, boto3_session=stack.session):
        table = obj.table.filter(pc.starts_with(obj.table["customer_id"], f"c-{tag}-"))
        out.extend((obj.key, row) for row in table.to_pylist())
    return out


def row_tuple(row: dict) -> tuple:
    return (row["customer_id"], row["order_id"], row["cdc_operation"], row["status"], row["total"])


def tagged_errors(stack: Stack, tag: str) -> list[dict]:
    def mine(record: dict) -> bool:
        change = lake.raw_change(record)
        keys = (change or {}).get("dynamodb", {}).get("Keys", {})
        return keys.get("PK", {}).get("S", "").startswith(f"CUSTOMER#c-{tag}-")

    return lake.error_records(stack.bucket, stack["ErrorPrefix"], mine, boto3_session=stack.session)


def day_folders(stack: Stack) -> set[date]:
    s3 = stack.client("s3")
    days = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix=stack["LakePrefix"]):
        for obj in page.get("Contents", []):
            match = lake.PARTITION.search(obj["Key"])
            if match:
                days.add(date(*map(int, match.groups())))
    return days


def normalized(image: dict[str, Any]) -> Any:
    """A DynamoDB image compared by value: N as decimals, sets unordered."""
    def value(v: dict[str, Any]) -> Any:
        ((kind, inner),) = v.items()
        if kind == "N":
            return ("N", Decimal(inner))
        if kind in ("SS", "NS", "BS"):
            return (kind, frozenset(Decimal(x) if kind == "NS" else x for x in inner))
        if kind == "M":
            return ("M", normalized(inner))
        if kind == "L":
            return ("L", tuple(value(x) for x in inner))
        return (kind, inner)

    return {name: value(v) for name, v in image.items()}


# -- the Step Functions flow --------------------------------------------------------------------
# First in the module: records this module wrote just before the seed but that Firehose reads inside
# the monitor's window count as read without counting as incoming (the monitor's remaining limit),
# so they could make it call the stream drained early.
def read_data_set(stack: Stack) -> list[dict[str, Any]]:
    s3 = stack.client("s3")
    requests = []
    for key in (stack["DataSetKey"], stack["ChangeSetKey"]):
        body = s3.get_object(Bucket=stack["RawBucketName"], Key=key)["Body"].read().decode()
        requests.extend(json.loads(line) for line in body.splitlines() if line.strip())
    return requests


def table_items(stack: Stack, keys: set[Key]) -> dict[Key, dict]:
    """The items of the table with one of `keys`."""
    found = {}
    for page in stack.client("dynamodb").get_paginator("scan").paginate(TableName=stack["TableName"]):
        for item in page["Items"]:
            key = (item["PK"]["S"], item["SK"]["S"])
            if key in keys:
                found[key] = item
    return found


def test_state_machine_seeds_delivers_crawls_and_the_lake_reads_back(stack):
    """Seed -> wait for delivery -> crawl: the seeder wrote the deployed data set, the monitor saw
    every change delivered, the crawler registered the partitions, awswrangler reads the rows."""
    import awswrangler as wr

    requests = read_data_set(stack)
    keys = {key_of(r) for r in requests}
    before = table_items(stack, keys)  # another run may have seeded the data set already
    changes = expected_changes(requests, before)
    started = datetime.now(timezone.utc).replace(microsecond=0)

    run = flow.run_state_machine(stack["StateMachineArn"], {"pollSeconds": 1}, timeout=120, poll=0.2,
                                 progress=False, boto3_session=stack.session)

    assert run.status == "SUCCEEDED"
    assert run.output["written"] == len(requests)
    delivery = run.output["delivery"]
    assert delivery["drained"] and delivery["expected"] == len(requests)
    # The stream's own IncomingRecords (AWS/Kinesis, published by the local cloud's Kinesis on every
    # put) counted the seed's changes in the monitor's window; Firehose read and delivered them all.
    assert delivery["incoming"] >= len(requests)
    assert delivery["read"] >= delivery["incoming"] and delivery["delivered"] >= delivery["read"]
    assert [s for s in ("Seed", "CheckDelivery", "StartCrawler", "GetCrawler", "Done") if s not in run.states] == []
    # The seeder really ran: the table holds exactly the data set's surviving items.
    last = {key_of(r): "PutRequest" in r for r in requests}
    assert set(table_items(stack, keys)) == {key for key, put in last.items() if put}
    # The crawler ran, after the delivery, and succeeded.
    crawler = stack.client("glue").get_crawler(Name=stack["CrawlerName"])["Crawler"]
    assert crawler["State"] == "READY"
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED" and crawler["LastCrawl"]["StartTime"] >= started
    assert run.output["lastCrawl"]["MessagePrefix"] == crawler["LastCrawl"]["MessagePrefix"]

    # Read back through awswrangler: the table's location and partitions from the Glue catalog.
    frame = wr.s3.read_parquet_table(table=stack["GlueTableName"], database=stack["GlueDatabaseName"],
                                     boto3_session=stack.session)
    customers = {c.image["customerId"]["S"] for c in changes}
    since = started.replace(tzinfo=None) - timedelta(seconds=1)
    ours = frame[frame["customer_id"].isin(customers) & (frame["cdc_event_time"] >= since)]
    records = ours[["customer_id", "order_id", "cdc_operation", "status", "total"]].astype(object).to_dict("records")
    got = Counter(tuple(None if pd.isna(v) else v for v in r.values()) for r in records)
    assert got == Counter(c.row() for c in changes)
    partitions = wr.catalog.get_partitions(database=stack["GlueDatabaseName"], table=stack["GlueTableName"],
                                           boto3_session=stack.session)
    registered = {tuple(values) for values in partitions.values()}
    days = {(f"{t:%Y}", f"{t:%m}", f"{t:%d}") for t in ours["created_at"]}
    assert days and days <= registered


# -- every change is a row or an error record --------------------------------------------------
@dataclass
class Batch:
    tag: str
    requests: list[dict[str, Any]]
    changes: list[Change]
    started_ms: int
    flushed_ms: int
    stream_version: str
    engine_before: dict[str, Any]
    engine_after: dict[str, Any]


@pytest.fixture(scope="module")
def batch(stack) -> Batch:
    """N fresh items (some with a missing or unparsable createdAt), then updates and deletes
    (two of the deletes hit bad items), written to the deployed table and flushed."""
    tag = new_tag()
    start = free_window(stack, days=3)
    items = relabel(data.generate_items(300, seed=11, start=start, days=3, bad=9), tag)
    bad_keys = [key_of(r) for r in items if data.is_bad_item(r["PutRequest"]["Item"])]
    changes = data.generate_changes(items, seed=11, updates=30, deletes=15)
    changes += [{"DeleteRequest": {"Key": {"PK": {"S": pk}, "SK": {"S": sk}}}} for pk, sk in bad_keys[:2]]
    requests = items + changes
    before = flush(stack)["firehose"][stack["DeliveryStreamName"]]
    started_ms = int(time.time() * 1000)
    seed(stack, requests)
    after = flush(stack)["firehose"][stack["DeliveryStreamName"]]
    version = stack.client("firehose").describe_delivery_stream(
        DeliveryStreamName=stack["DeliveryStreamName"])["DeliveryStreamDescription"]["VersionId"]
    return Batch(tag, requests, expected_changes(requests), started_ms, int(time.time() * 1000) + 1, version,
                 before, after)


def test_every_change_is_a_row_under_its_day_or_an_error_record(stack, batch):
    good = [c for c in batch.changes if not c.bad]
    bad = [c for c in batch.changes if c.bad]
    assert len(bad) == 11 and Counter(c.operation for c in bad) == {"INSERT": 9, "REMOVE": 2}
    assert Counter(c.operation for c in good) == {"INSERT": 291, "MODIFY": 30, "REMOVE": 15}

    rows = lake_rows(stack, batch.tag)
    # Each row in the partition of its own createdAt (UTC), as the right operation with its image.
    for key, row in rows:
        created = row["created_at"]
        assert f"year={created:%Y}/month={created:%m}/day={created:%d}/" in key, (key, row)
    assert Counter(row_tuple(row) for _, row in rows) == Counter(c.row() for c in good)
    # Each bad change is one processing-failed record carrying that very change.
    errors = tagged_errors(stack, batch.tag)
    assert Counter(e["kind"] for e in errors) == {"processing-failed": len(bad)}
    raw = Counter((lake.raw_change(e)["eventName"], tuple(lake.raw_change(e)["dynamodb"]["Keys"][k]["S"] for k in ("PK", "SK")))
                  for e in errors)
    assert raw == Counter((c.operation, c.key) for c in bad)

    # Firehose read each change once, and delivered each (rows and error records alike).
    read = batch.engine_after["records_in"] - batch.engine_before["records_in"]
    delivered = batch.engine_after["delivered_records"] - batch.engine_before["delivered_records"]
    assert read == delivered == len(batch.changes)
    assert batch.engine_after["busy_seconds"] > batch.engine_before["busy_seconds"]

    # pipeline_lib.lake's reconciliation agrees, with the same filters.
    summary = lake.reconcile(
        len(batch.changes), stack.bucket, stack["LakePrefix"], stack["ErrorPrefix"], boto3_session=stack.session,
        rows_where=lambda t: pc.starts_with(t["customer_id"], f"c-{batch.tag}-"),
        errors_where=lambda e: (lake.raw_change(e) or {}).get("dynamodb", {}).get("Keys", {}).get("PK", {})
        .get("S", "").startswith(f"CUSTOMER#c-{batch.tag}-"),
    )
    assert summary.balanced, summary.summary()
    assert (summary.rows_in_lake, summary.error_records) == (len(good), len(bad))
    assert len(summary.rows_by_day) == len({c.image["createdAt"]["S"][:10] for c in good})


def test_objects_are_parquet_of_the_glue_columns_named_like_aws_and_errors_carry_the_change(stack, batch):
    glue_table = stack.client("glue").get_table(DatabaseName=stack["GlueDatabaseName"], Name=stack["GlueTableName"])["Table"]
    columns = [(c["Name"], canonical_type(c["Type"])) for c in glue_table["StorageDescriptor"]["Columns"]]
    partition_keys = [p["Name"] for p in glue_table["PartitionKeys"]]
    stream = re.escape(stack["DeliveryStreamName"])
    data_key = re.compile(
        rf"^{re.escape(stack['LakePrefix'])}year=(?P<y>\d{{4}})/month=(?P<m>\d{{2}})/day=(?P<d>\d{{2}})/"
        rf"{stream}-(?P<version>\d+)-{STAMP}-{UUID}\.parquet$")
    window = (batch.started_ms // 1000 * 1000, batch.flushed_ms)

    s3 = stack.client("s3")
    ours = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix=stack["LakePrefix"]):
        for obj in page.get("Contents", []):
            match = data_key.match(obj["Key"])
            assert match, f"{obj['Key']} is not named <prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.parquet"
            body = s3.get_object(Bucket=stack.bucket, Key=obj["Key"])["Body"].read()
            assert body[:4] == body[-4:] == b"PAR1"
            parquet = pq.ParquetFile(io.BytesIO(body))
            assert [(f.name, canonical_type(str(from_arrow(f.type)))) for f in parquet.schema_arrow] == columns
            assert not set(partition_keys) & set(parquet.schema_arrow.names)
            table = parquet.read(columns=["customer_id"])
            if pc.any(pc.starts_with(table["customer_id"], f"c-{batch.tag}-")).as_py():
                ours += 1
                # Named by the stream's version and the arrival of its oldest record (UTC).
                assert match["version"] == batch.stream_version
                stamp = datetime.strptime(match["stamp"], "%Y-%m-%d-%H-%M-%S").replace(tzinfo=timezone.utc)
                assert window[0] <= stamp.timestamp() * 1000 <= window[1]
                assert parquet.metadata.row_group(0).column(0).compression == "SNAPPY"
    assert ours >= 3  # three createdAt days

    enricher_arn = stack.client("lambda").get_function(FunctionName=stack["EnricherFunctionName"])["Configuration"]["FunctionArn"]
    error_key = re.compile(
        rf"^{re.escape(stack['ErrorPrefix'])}processing-failed/year=(?P<y>\d{{4}})/month=(?P<m>\d{{2}})/day=(?P<d>\d{{2}})/"
        rf"{stream}-(?P<version>\d+)-{STAMP}-{UUID}$")
    bad = {(c.operation, c.key): c for c in batch.changes if c.bad}
    errors = tagged_errors(stack, batch.tag)
    assert len(errors) == len(bad)
    for error in errors:
        match = error_key.match(error["key"])
        assert match, error["key"]
        assert match["stamp"][:10] == f"{match['y']}-{match['m']}-{match['d']}"  # !{timestamp:...} is the arrival day
        assert set(error) - {"kind", "key"} == PROCESSING_FAILED_FIELDS
        assert error["errorCode"] == "Lambda.ProcessingFailedStatus" and error["errorMessage"]
        assert error["lambdaARN"] == enricher_arn and error["attemptsMade"] == 1
        assert window[0] <= error["arrivalTimestamp"] <= error["attemptEndingTimestamp"] <= window[1]
        # rawData is the DynamoDB -> Kinesis record of the bad change, as the table sent it.
        record = lake.raw_change(error)
        assert set(record) == RECORD_KEYS
        assert (record["eventSource"], record["recordFormat"], record["tableName"], record["userIdentity"]) == (
            "aws:dynamodb", "application/json", stack["TableName"], None)
        change = bad.pop((record["eventName"], (record["dynamodb"]["Keys"]["PK"]["S"], record["dynamodb"]["Keys"]["SK"]["S"])))
        image, absent = ("OldImage", "NewImage") if change.operation == "REMOVE" else ("NewImage", "OldImage")
        assert absent not in record["dynamodb"]
        assert normalized(record["dynamodb"][image]) == normalized(change.image)
        assert window[0] <= record["dynamodb"]["ApproximateCreationDateTime"] <= window[1]
        assert record["dynamodb"]["SizeBytes"] > 0


# -- the processor's retries, on the deployed stream ---------------------------------------------
FLAKY_HANDLER = '''
import json, os
import enricher

def handler(event, context):
    """Fail the first FAILURES attempts of each batch, then be the enricher."""
    marker = os.path.join(os.environ["ATTEMPTS_DIR"], event["invocationId"])
    with open(marker, "a") as f:
        f.write(".")
    attempt = os.path.getsize(marker)
    print(json.dumps({"invocationId": event["invocationId"], "attempt": attempt}))
    if attempt <= int(os.environ["FAILURES"]):
        raise RuntimeError(f"failing on purpose, attempt {attempt}")
    return enricher.handler(event, context)
'''


def flaky_function(stack: Stack, failures: int, attempts_dir: Path) -> str:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("flaky.py", FLAKY_HANDLER)
        z.writestr("enricher.py", ENRICHER_SOURCE.read_text())
    lam = stack.client("lambda")
    enricher = lam.get_function(FunctionName=stack["EnricherFunctionName"])["Configuration"]
    return lam.create_function(
        FunctionName=f"flaky-{failures}-{new_tag()}", Runtime="python3.12", Role=enricher["Role"],
        Handler="flaky.handler", Code={"ZipFile": archive.getvalue()}, Timeout=30,
        Environment={"Variables": {"FAILURES": str(failures), "ATTEMPTS_DIR": str(attempts_dir)}},
    )["FunctionArn"]


def processing(stream: dict[str, Any]) -> dict[str, Any]:
    return stream["Destinations"][0]["ExtendedS3DestinationDescription"]["ProcessingConfiguration"]


def point_processor_at(stack: Stack, function_arn: str | None, original: dict[str, Any]) -> None:
    """The stream's processor set to `function_arn` (None: back to `original`). The delivery role
    may invoke only the enricher, so it is granted (and afterwards denied again) the new function,
    as one would on AWS."""
    firehose = stack.client("firehose")
    stream = firehose.describe_delivery_stream(DeliveryStreamName=stack["DeliveryStreamName"])["DeliveryStreamDescription"]
    iam = stack.client("iam")
    role = stream["Destinations"][0]["ExtendedS3DestinationDescription"]["RoleARN"].rsplit("/", 1)[-1]
    if function_arn is not None:
        iam.put_role_policy(RoleName=role, PolicyName="TestProcessor", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": function_arn}]}))
    elif "TestProcessor" in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName="TestProcessor")
    config = json.loads(json.dumps(original))
    if function_arn is not None:
        for parameter in config["Processors"][0]["Parameters"]:
            if parameter["ParameterName"] == "LambdaArn":
                parameter["ParameterValue"] = function_arn
    firehose.update_destination(
        DeliveryStreamName=stack["DeliveryStreamName"], CurrentDeliveryStreamVersionId=stream["VersionId"],
        DestinationId=stream["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={"ProcessingConfiguration": config},
    )


def test_processor_retries_then_succeeds_or_sends_the_batch_to_processing_failed(stack, tmp_path):
    """NumberOfRetries=3 on the deployed stream: two failures then success delivers every row;
    a function that always fails gets 4 attempts, then its records are processing-failed."""
    firehose = stack.client("firehose")
    original = processing(firehose.describe_delivery_stream(
        DeliveryStreamName=stack["DeliveryStreamName"])["DeliveryStreamDescription"])
    assert {p["ParameterName"]: p["ParameterValue"] for p in original["Processors"][0]["Parameters"]}["NumberOfRetries"] == "3"
    tag = new_tag()
    items = relabel(data.generate_items(12, seed=5, start=free_window(stack, days=2), days=2), tag)
    recovers, never = flaky_function(stack, 2, tmp_path), flaky_function(stack, 99, tmp_path)
    flush(stack)  # nothing of earlier tests is left for the functions below
    try:
        point_processor_at(stack, recovers, original)
        seed(stack, items[:6])
        flush(stack)
        point_processor_at(stack, never, original)
        seed(stack, items[6:])
        flush(stack)
    finally:
        point_processor_at(stack, None, original)
    restored = firehose.describe_delivery_stream(DeliveryStreamName=stack["DeliveryStreamName"])["DeliveryStreamDescription"]
    assert processing(restored) == original

    attempts = Counter(len(p.read_text()) for p in tmp_path.iterdir())
    assert attempts == {3: 1, 4: 1}  # one batch each: 2 failures + success; 1 + 3 retries
    rows = lake_rows(stack, tag)
    assert Counter(row_tuple(r) for _, r in rows) == Counter(c.row() for c in expected_changes(items[:6]))
    errors = tagged_errors(stack, tag)
    assert sorted(key_of({"DeleteRequest": {"Key": lake.raw_change(e)["dynamodb"]["Keys"]}}) for e in errors) == sorted(
        key_of(r) for r in items[6:])
    for error in errors:
        assert error["kind"] == "processing-failed" and error["attemptsMade"] == 4
        assert error["errorCode"] == "Lambda.FunctionError" and error["lambdaARN"] == never
        assert "failing on purpose" in error["errorMessage"]

    # The function's own CloudWatch log shows the attempts of the recovering batch.
    name = recovers.split(":")[-1]
    events = stack.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    logged = [json.loads(e["message"])["attempt"] for e in events if e["message"].startswith("{\"invocationId\"")]
    assert logged == [1, 2, 3]


# -- the crawler ---------------------------------------------------------------------------------
def crawl(stack: Stack) -> dict[str, Any]:
    """Start the deployed crawler and wait until it is READY again; its description."""
    glue = stack.client("glue")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    glue.start_crawler(Name=stack["CrawlerName"])
    crawler = wait_for(lambda: glue.get_crawler(Name=stack["CrawlerName"])["Crawler"],
                       lambda c: c["State"] == "READY" and c.get("LastCrawl", {}).get("StartTime", before) >= before,
                       timeout=60, what="the crawler READY after this crawl", interval=0.1)
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
    return crawler


def partitions(stack: Stack) -> dict[date, dict[str, Any]]:
    glue = stack.client("glue")
    out = {}
    for page in glue.get_paginator("get_partitions").paginate(DatabaseName=stack["GlueDatabaseName"],
                                                              TableName=stack["GlueTableName"]):
        for partition in page["Partitions"]:
            out[date(*map(int, partition["Values"]))] = partition
    return out


def test_crawl_registers_every_day_then_only_the_new_ones(stack):
    flush(stack)
    crawl(stack)
    first = partitions(stack)
    assert set(first) == day_folders(stack)
    for day, partition in first.items():
        assert partition["StorageDescriptor"]["Location"] == (
            f"s3://{stack.bucket}/{stack['LakePrefix']}year={day:%Y}/month={day:%m}/day={day:%d}/")

    tag = new_tag()
    items = relabel(data.generate_items(24, seed=3, start=free_window(stack, days=3), days=3), tag)
    new_days = {date.fromisoformat(r["PutRequest"]["Item"]["createdAt"]["S"][:10]) for r in items}
    seed(stack, items)
    flush(stack)
    crawl(stack)

    second = partitions(stack)
    assert new_days and not new_days & set(first)
    assert set(second) == set(first) | new_days == day_folders(stack)
    for day, partition in first.items():  # untouched
        assert second[day]["CreationTime"] == partition["CreationTime"]
        assert second[day]["StorageDescriptor"] == partition["StorageDescriptor"]
