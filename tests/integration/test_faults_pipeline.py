"""Nothing is lost under injected faults: the deployed pipeline (DynamoDB -> Kinesis -> Firehose
with the enricher -> S3) under each fault and under all of them together.

Every change a test writes must end as a lake row or an error record: counted by DynamoDB eventID
(the lake's cdc_event_id; an error record's rawData carries the change), each change exactly once
unless the fault is one where AWS allows duplicates (a Firehose restart: at-least-once), and the
current-state query (latest change per key, removes dropped) over Athena gives the table's state.
Expected answers come from the requests written (tests/integration/test_data_plane.py's model of
the changes DynamoDB sends), never from the pipeline.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow.compute as pc
import pytest

from pipeline_lib import data, lake
from pipeline_lib.localcloud.faults import client as faults_client
from pipeline_lib.query import run_query

from test_data_plane import (  # tests/integration/test_data_plane.py: the stack and the change model
    Change, Stack, crawl, expected_changes, flush, free_window, key_of, new_tag, relabel, seed,
)

pytestmark = pytest.mark.integration

# With this seed the first draw of every rate below injects (so each scenario injects at least
# once, deterministically), and later draws follow the seed too.
SEED = 1221
COLUMNS = ["customer_id", "order_id", "cdc_operation", "cdc_event_id", "cdc_event_time", "updated_at",
           "status", "total"]


@pytest.fixture(scope="module")
def stack(deployed_stack, local_cloud, boto_session) -> Stack:
    return Stack(deployed_stack, boto_session, local_cloud.endpoint)


@pytest.fixture
def faults(stack):
    """Set the cloud's faults for one test; no faults afterwards, whatever happened."""
    def set_(**settings: Any) -> None:
        faults_client.set_faults(stack.endpoint, {"seed": SEED, **settings}, replace=True)

    try:
        yield set_
    finally:
        faults_client.clear(stack.endpoint)


def enricher(stack: Stack) -> str:
    return stack["EnricherFunctionName"]


def write_changes(stack: Stack, items: int = 60) -> tuple[str, list[Change]]:
    """Fresh tagged items (a few bad ones), then updates and deletes, through the project's seeder
    (which retries throttled and unprocessed writes); the changes DynamoDB sends for them."""
    tag = new_tag()
    start = free_window(stack, days=2)
    puts = relabel(data.generate_items(items, seed=5, start=start, days=2, bad=3), tag)
    requests = puts + data.generate_changes(puts, seed=5, updates=12, deletes=6)
    seed(stack, requests)
    return tag, expected_changes(requests)


def _key(customer_id: str, order_id: str | None) -> tuple[str, str]:
    return f"CUSTOMER#{customer_id}", f"ORDER#{order_id}" if order_id else "PROFILE"


class Landed:
    """What landed for one tag: rows and error records, each keyed by the change's eventID."""

    def __init__(self, stack: Stack, tag: str):
        self.rows: list[dict] = []
        for obj in lake.parquet_objects(stack.bucket, stack["LakePrefix"], COLUMNS, boto3_session=stack.session):
            self.rows += obj.table.filter(pc.starts_with(obj.table["customer_id"], f"c-{tag}-")).to_pylist()

        def mine(record: dict) -> bool:
            keys = (lake.raw_change(record) or {}).get("dynamodb", {}).get("Keys", {})
            return keys.get("PK", {}).get("S", "").startswith(f"CUSTOMER#c-{tag}-")

        self.errors = lake.error_records(stack.bucket, stack["ErrorPrefix"], mine, boto3_session=stack.session)
        self.by_event: dict[str, tuple[str, tuple[str, str]]] = {}
        self.copies: Counter[str] = Counter()
        for row in self.rows:
            self._add(row["cdc_event_id"], row["cdc_operation"], _key(row["customer_id"], row["order_id"]))
        for record in self.errors:
            change = lake.raw_change(record)
            keys = change["dynamodb"]["Keys"]
            self._add(change["eventID"], change["eventName"], (keys["PK"]["S"], keys["SK"]["S"]))

    def _add(self, event_id: str, operation: str, key: tuple[str, str]) -> None:
        assert self.by_event.setdefault(event_id, (operation, key)) == (operation, key), event_id
        self.copies[event_id] += 1

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.copies.values())

    def error_kinds(self) -> Counter:
        return Counter(e["kind"] for e in self.errors)


def reconcile(stack: Stack, tag: str, changes: list[Change], duplicates_allowed: bool) -> Landed:
    """Every change landed (a row or an error record); duplicates only where allowed; printed."""
    landed = Landed(stack, tag)
    assert Counter(landed.by_event.values()) == Counter((c.operation, c.key) for c in changes), \
        "the changes that landed differ from the changes written"
    assert len(landed.by_event) == len(changes)
    bad = [c for c in changes if c.bad]
    assert not {c.key for c in bad} & {_key(r["customer_id"], r["order_id"]) for r in landed.rows}
    if not duplicates_allowed:
        assert landed.duplicates == 0, landed.copies.most_common(3)
    print(f"changes {len(changes)}: rows {len(landed.rows)}, error records {len(landed.errors)} "
          f"({dict(landed.error_kinds())}), duplicates {landed.duplicates}")
    return landed


def injected(stack: Stack) -> dict[str, int]:
    return faults_client.show(stack.endpoint)["injected"]


def current_state_from_the_changes(changes: list[Change]) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """Key -> (status, total) of the last put of every key not removed since (bad items excluded:
    they never reach the lake)."""
    state: dict[tuple[str, str], Any] = {}
    for change in changes:
        if change.bad:
            continue
        if change.operation == "REMOVE":
            state.pop(change.key, None)
        else:
            state[change.key] = (change.image.get("status", {}).get("S"), change.image.get("total", {}).get("N"))
    return state


CURRENT_STATE = """
SELECT customer_id, order_id, status, CAST(total AS varchar) AS total
FROM (
  SELECT *, row_number() OVER (
    PARTITION BY customer_id, order_id
    ORDER BY cdc_event_time DESC, updated_at DESC,
             CASE cdc_operation WHEN 'REMOVE' THEN 2 WHEN 'MODIFY' THEN 1 ELSE 0 END DESC) AS latest
  FROM "{database}"."{table}"
  WHERE customer_id LIKE 'c-{tag}-%'
)
WHERE latest = 1 AND cdc_operation <> 'REMOVE'
"""


def current_state_from_athena(stack: Stack, tag: str) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    crawl(stack)  # registers the tag's new day partitions
    sql = CURRENT_STATE.format(database=stack["GlueDatabaseName"], table=stack["GlueTableName"], tag=tag)
    frame = run_query(sql, workgroup=stack["AthenaWorkGroupName"], boto3_session=stack.session).frame
    out = {}
    for row in frame.itertuples(index=False):
        order = row.order_id if isinstance(row.order_id, str) and row.order_id else None
        status = row.status if isinstance(row.status, str) else None
        total = row.total if isinstance(row.total, str) else None
        out[_key(row.customer_id, order)] = (status, total)
    return out


def _same_totals(state: dict) -> dict:
    """Totals compared as decimals (the lake's decimal(10,2) prints 12.30 where the item says 12.3)."""
    from decimal import Decimal

    return {k: (s, Decimal(t) if t is not None else None) for k, (s, t) in state.items()}


# -- each fault alone ----------------------------------------------------------------------------
def test_dynamodb_throttling_and_unprocessed_items_lose_nothing(stack, faults):
    faults(dynamodb_throttle=0.2, dynamodb_unprocessed=0.2)
    tag, changes = write_changes(stack)
    flush(stack)
    counts = injected(stack)
    assert counts.get("dynamodb_throttle", 0) >= 1 and counts.get("dynamodb_unprocessed", 0) >= 1, counts
    reconcile(stack, tag, changes, duplicates_allowed=False)


def test_kinesis_throttling_of_the_streaming_destination_loses_nothing(stack, faults):
    undeliverable = flush(stack)["dynamodb_kinesis"]["records_undeliverable"]  # earlier tests' (deleted streams)
    faults(kinesis_throttle=0.5)
    tag, changes = write_changes(stack)
    report = flush(stack)
    assert injected(stack).get("kinesis_throttle", 0) >= 1
    assert report["dynamodb_kinesis"]["records_undeliverable"] == undeliverable
    reconcile(stack, tag, changes, duplicates_allowed=False)


@pytest.mark.parametrize("fault", ["lambda_error", "lambda_timeout"])
def test_enricher_errors_and_timeouts_are_retried_or_become_error_records(stack, faults, fault):
    faults(**{fault: 0.5, "lambda_match": enricher(stack)})
    tag, changes = write_changes(stack)
    flush(stack)
    assert injected(stack).get(fault, 0) >= 1
    landed = reconcile(stack, tag, changes, duplicates_allowed=False)
    # A batch whose four attempts all failed is in processing-failed with Firehose's error code.
    codes = Counter(e.get("errorCode") for e in landed.errors)
    assert set(codes) <= {"Lambda.FunctionError", "Lambda.ProcessingFailedStatus"}, codes


def test_s3_put_failures_are_retried_until_delivered(stack, faults):
    faults(s3_put_error=0.4)
    tag, changes = write_changes(stack)
    flush(stack)
    assert injected(stack).get("s3_put_error", 0) >= 1
    landed = reconcile(stack, tag, changes, duplicates_allowed=False)
    assert "s3-delivery-failed" not in landed.error_kinds()  # retries within the retry duration won


def test_s3_failing_past_the_retry_duration_sends_the_records_to_the_error_prefix(stack, faults):
    """Every PutObject under the lake prefix fails: after the stack's RetryOptions (300 s, scaled)
    the records go to the error prefix, the bad ones stay processing-failed; nothing is lost."""
    faults(s3_put_error=1.0, s3_match=f"{stack.bucket}/{stack['LakePrefix']}")
    tag, changes = write_changes(stack, items=30)
    flush(stack)
    landed = reconcile(stack, tag, changes, duplicates_allowed=False)
    good = [c for c in changes if not c.bad]
    assert landed.rows == []
    assert landed.error_kinds() == {"s3-delivery-failed": len(good), "processing-failed": len(changes) - len(good)}
    failed = [e for e in landed.errors if e["kind"] == "s3-delivery-failed"]
    assert {e["errorCode"] for e in failed} == {"S3.InternalError"}
    assert min(e["attemptsMade"] for e in failed) >= 2


def test_a_firehose_crash_mid_batch_restarts_and_duplicates_vanish_in_the_current_state(stack, faults):
    faults(firehose_crash=0.4)
    tag, changes = write_changes(stack)
    report = flush(stack)
    assert injected(stack).get("firehose_crash", 0) >= 1
    assert report["firehose"][stack["DeliveryStreamName"]]["restarts"] >= 1
    reconcile(stack, tag, changes, duplicates_allowed=True)  # at-least-once: duplicates allowed
    assert _same_totals(current_state_from_athena(stack, tag)) == _same_totals(current_state_from_the_changes(changes))


# -- all together ------------------------------------------------------------------------------
def test_all_faults_together_lose_nothing_and_the_current_state_is_the_tables(stack, faults):
    faults(dynamodb_throttle=0.2, dynamodb_unprocessed=0.2, kinesis_throttle=0.5, lambda_error=0.5,
           lambda_timeout=0.3, lambda_match=enricher(stack), s3_put_error=0.4, firehose_crash=0.4)
    tag, changes = write_changes(stack)
    flush(stack)
    counts = injected(stack)
    assert set(counts) == {"dynamodb_throttle", "dynamodb_unprocessed", "kinesis_throttle", "lambda_error",
                           "lambda_timeout", "s3_put_error", "firehose_crash"}, counts
    faults_client.clear(stack.endpoint)  # the crawl and the query run without faults
    reconcile(stack, tag, changes, duplicates_allowed=True)
    expected = current_state_from_the_changes(changes)
    assert _same_totals(current_state_from_athena(stack, tag)) == _same_totals(expected)
    # ... which is what DynamoDB holds for the tag's good keys.
    table = stack.client("dynamodb")
    held = {key_of({"PutRequest": {"Item": item}}) for page in table.get_paginator("scan").paginate(
        TableName=stack["TableName"], FilterExpression="begins_with(PK, :p)",
        ExpressionAttributeValues={":p": {"S": f"CUSTOMER#c-{tag}-"}}) for item in page["Items"]}
    assert set(expected) == {k for k in held if not k[1].startswith("ORDER#o-bad-")}
