"""`make soak` (SOAK_SECONDS=N, default 180): the pipeline under random faults, then a reconciliation.

Starts its own local cloud (a temporary state dir, a free port), deploys the stack, and until the
time is up writes rounds of fresh items, updates and deletes through the project's seeder while the
faults change every round (a random subset of DynamoDB throttling and unprocessed items, Kinesis
throttling, enricher errors and timeouts, S3 PutObject failures and Firehose crashes, at random
rates, all drawn from --seed). Then it clears the faults, flushes, and counts every change written
against the lake: each change must be a lake row or an error record (by DynamoDB eventID);
duplicates (allowed: Firehose restarts are at-least-once) are counted and reported. Exit code 0
when balanced. Not part of `make test`: it runs for minutes.

    python tests/soak/soak.py --seconds 600 --seed 7
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pyarrow.compute as pc

from pipeline_lib import data, deploy, lake
from pipeline_lib.localcloud import lifecycle
from pipeline_lib.localcloud.faults import client as faults_client

# Attempts per batch the seeder makes: at the highest rates a request fails an attempt about half
# the time (throttled call, or left unprocessed), so the seeder's default 8 gives up on about one
# request in 400 (a soak of thousands of requests would stop on it); 30 make that ~1e-9.
SEED_ATTEMPTS = 30

# Rate ranges a round draws from (upper bounds keep SEED_ATTEMPTS sufficient).
RATE_RANGES = {
    "dynamodb_throttle": 0.3, "dynamodb_unprocessed": 0.3, "kinesis_throttle": 0.6, "lambda_error": 0.5,
    "lambda_timeout": 0.3, "s3_put_error": 0.5,
    # Per object written; each crash re-reads from the checkpoint (at-least-once), so a high rate
    # mostly measures how often the same records are delivered again.
    "firehose_crash": 0.05,
}


def expected_changes(requests: list[dict[str, Any]]) -> Counter:
    """(operation, PK, SK) of the changes DynamoDB sends for `requests` on keys new to the table."""
    items: set[tuple[str, str]] = set()
    out: Counter = Counter()
    for request in requests:
        body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
        key = (body["PK"]["S"], body["SK"]["S"])
        if "PutRequest" in request:
            out[("MODIFY" if key in items else "INSERT", *key)] += 1
            items.add(key)
        elif key in items:
            out[("REMOVE", *key)] += 1
            items.discard(key)
    return out


def tagged(requests: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    """Customer ids `c-<tag>-...`: keys no other round writes."""
    import copy

    out = []
    for request in requests:
        request = copy.deepcopy(request)
        body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
        body["PK"]["S"] = body["PK"]["S"].replace("#c-", f"#c-{tag}-", 1)
        if "customerId" in body:
            body["customerId"]["S"] = body["customerId"]["S"].replace("c-", f"c-{tag}-", 1)
        out.append(request)
    return out


def landed(outputs: dict[str, str], session: boto3.Session, run: str) -> tuple[Counter, Counter, Counter]:
    """(change -> copies by eventID, error kinds, copies per eventID) of this run's customers."""
    by_event: dict[str, tuple[str, str, str]] = {}
    copies: Counter = Counter()
    for obj in lake.parquet_objects(outputs["LakeBucketName"], outputs["LakePrefix"],
                                    ["customer_id", "order_id", "cdc_operation", "cdc_event_id"], boto3_session=session):
        for row in obj.table.filter(pc.starts_with(obj.table["customer_id"], f"c-{run}")).to_pylist():
            sk = f"ORDER#{row['order_id']}" if row["order_id"] else "PROFILE"
            by_event[row["cdc_event_id"]] = (row["cdc_operation"], f"CUSTOMER#{row['customer_id']}", sk)
            copies[row["cdc_event_id"]] += 1

    def mine(record: dict) -> bool:
        keys = (lake.raw_change(record) or {}).get("dynamodb", {}).get("Keys", {})
        return keys.get("PK", {}).get("S", "").startswith(f"CUSTOMER#c-{run}")

    kinds: Counter = Counter()
    for record in lake.error_records(outputs["LakeBucketName"], outputs["ErrorPrefix"], mine, boto3_session=session):
        change = lake.raw_change(record)
        keys = change["dynamodb"]["Keys"]
        by_event[change["eventID"]] = (change["eventName"], keys["PK"]["S"], keys["SK"]["S"])
        copies[change["eventID"]] += 1
        kinds[record["kind"]] += 1
    return Counter(by_event.values()), kinds, copies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 180)))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--items", type=int, default=80, help="items per round (plus updates and deletes)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    run = uuid.uuid4().hex[:4]  # this run's customers: c-<run><round>-...

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        cloud = lifecycle.up(port=0, state_dir=str(Path(tmp) / "state"))
        os.environ.update(lifecycle.client_env(cloud.endpoint))
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(var, None)
        try:
            session = boto3.Session(region_name="us-east-1")
            print(f"local cloud {cloud.endpoint}; deploying ...", flush=True)
            outputs = deploy.deploy(backend="local", context={"items": "50", "updates": "5", "deletes": "2"},
                                    out_dir=Path(tmp) / "cdk.out", boto3_session=session, progress=False)
            expected: Counter = Counter()
            injected: Counter = Counter()
            written = rounds = 0
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline:
                rounds += 1
                chosen = {k: round(rng.uniform(top / 10, top), 3) for k, top in RATE_RANGES.items() if rng.random() < 0.5}
                injected += Counter(faults_client.show(cloud.endpoint)["injected"])  # counts restart with each setting
                settings = {"seed": rng.randrange(1 << 30), "lambda_match": outputs["EnricherFunctionName"], **chosen}
                faults_client.set_faults(cloud.endpoint, settings, replace=True)
                items = tagged(data.generate_items(args.items, seed=rounds, days=3, bad=2), f"{run}{rounds:04d}")
                requests = items + data.generate_changes(items, seed=rounds, updates=args.items // 5,
                                                         deletes=args.items // 10)
                result = data.seed_file([__import__("json").dumps(r) for r in requests], outputs["TableName"],
                                        progress=False, boto3_session=session, max_attempts=SEED_ATTEMPTS)
                if result.failed:
                    print(f"round {rounds}: the seeder gave up on {result.failed} request(s): {result}", flush=True)
                    return 1
                expected += expected_changes(requests)
                written += len(requests)
                print(f"round {rounds}: {len(requests)} requests under {chosen or 'no faults'}", flush=True)
                if rounds % 3 == 0:
                    lifecycle.flush(cloud.endpoint, timeout=300)
            injected += Counter(faults_client.show(cloud.endpoint)["injected"])
            faults_client.clear(cloud.endpoint)
            report = lifecycle.flush(cloud.endpoint, timeout=600)
            engine = report["firehose"][outputs["DeliveryStreamName"]]
            changes, kinds, copies = landed(outputs, session, run)
            duplicates = sum(n - 1 for n in copies.values())
            missing = expected - changes
            unexpected = changes - expected
            rows = sum(copies.values()) - sum(kinds.values())
            print("\n== soak reconciliation ==")
            print(f"rounds {rounds}, requests {written}, changes written {sum(expected.values())}")
            print(f"landed: lake rows {rows}, error records {sum(kinds.values())} {dict(kinds)}, "
                  f"duplicates {duplicates} (at-least-once)")
            print(f"firehose: restarts after crashes {engine.get('restarts')}, records lost {engine.get('lost_records')}")
            print(f"faults injected: {dict(sorted(injected.items()))}")
            balanced = not missing and not unexpected and engine["flushed"]
            print(f"missing {sum(missing.values())}, unexpected {sum(unexpected.values())}: "
                  f"{'BALANCED' if balanced else 'NOT BALANCED'}")
            return 0 if balanced else 1
        finally:
            lifecycle.down(str(Path(tmp) / "state"))


if __name__ == "__main__":
    sys.exit(main())
