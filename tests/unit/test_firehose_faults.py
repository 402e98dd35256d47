"""The delivery engine under S3 failures and crashes, driven with stand-in services: S3 errors
retried as the Firehose developer guide says ("Handle data delivery failures": with dynamic
partitioning for RetryOptions.DurationInSeconds, then the error prefix; otherwise up to 24 hours,
then lost), and a crash restarted from the committed checkpoint losing nothing."""
from __future__ import annotations

import base64
import json
import threading
from collections import Counter

import pytest

from pipeline_lib.localcloud.firehose.config import LambdaProcessor, StreamConfig
from pipeline_lib.localcloud.firehose.engine import DeliveryEngine
from pipeline_lib.localcloud.firehose.records import InRecord, Services
from pipeline_lib.localcloud.faults import InjectedS3Error

SHARD = "shardId-000000000000"


class ShardSource:
    """A one-shard Kinesis-like source: records 1..n, read after `positions[SHARD]`."""

    def __init__(self, payloads: list[bytes], positions: dict[str, str] | None = None):
        self.payloads = payloads
        self.positions = dict(positions or {SHARD: "0"})

    def poll(self, limit: int) -> list[InRecord]:
        after = int(self.positions[SHARD])
        out = [InRecord(f"{seq}", self.payloads[seq - 1], 1_700_000_000_000, SHARD, "pk", str(seq))
               for seq in range(after + 1, min(len(self.payloads), after + limit) + 1)]
        if out:
            self.positions[SHARD] = out[-1].sequence_number
        return out

    def lag_ms(self) -> int:
        return 0


def enricher_standin(function_arn: str, payload: bytes) -> tuple[bytes, None]:
    """Answers Ok for every record, partition key `day` from the record's text."""
    event = json.loads(payload)
    records = [{"recordId": r["recordId"], "result": "Ok", "data": r["data"],
                "metadata": {"partitionKeys": {"day": json.loads(base64.b64decode(r["data"]))["day"]}}}
               for r in event["records"]]
    return json.dumps({"records": records}).encode(), None


def config(dynamic: bool = True, retry_seconds: float | None = 10.0) -> StreamConfig:
    return StreamConfig(
        name="faulty", arn="arn:aws:firehose:us-east-1:123456789012:deliverystream/faulty", version=1,
        source_stream_arn="arn:aws:kinesis:us-east-1:123456789012:stream/src", bucket="lake",
        prefix="data/day=!{partitionKeyFromLambda:day}/" if dynamic else "data/",
        error_prefix="errors/!{firehose:error-output-type}/",
        buffer_bytes=64 * 1024 * 1024, buffer_seconds=60, compression="UNCOMPRESSED", file_extension=None,
        lambda_processor=LambdaProcessor(arn="arn:aws:lambda:us-east-1:123456789012:function:f"),
        metadata_query=None, append_delimiter=True, deaggregate=None, dynamic_partitioning=dynamic,
        conversion=None, log_group=None, log_stream=None, s3_retry_seconds=retry_seconds if dynamic else None,
    )


class Bucket:
    """put_object that fails as `fails(key, attempt)` says; keeps what was written."""

    def __init__(self, fails=lambda key, attempt: False):
        self.objects: dict[str, bytes] = {}
        self.attempts: Counter[str] = Counter()
        self.fails = fails
        self.lock = threading.Lock()

    def put(self, bucket: str, key: str, body: bytes) -> None:
        with self.lock:
            self.attempts[key.rsplit("/", 1)[0]] += 1
            if self.fails(key, self.attempts[key.rsplit("/", 1)[0]]):
                raise InjectedS3Error()
            self.objects[key] = body

    def lines(self, prefix: str) -> list[bytes]:
        return [line for key, body in self.objects.items() if key.startswith(prefix) for line in body.splitlines()]


def services(bucket: Bucket, scale: float = 0.001, crash_point=lambda: False, restart=None) -> Services:
    return Services(put_object=bucket.put, invoke_lambda=enricher_standin, converter_for=lambda c: None,
                    publish_metrics=lambda ns, data: None, log_event=lambda c, m: None,
                    scaled=lambda s: s * scale, region="us-east-1", crash_point=crash_point, restart=restart)


def payloads(n: int, days: int = 3) -> list[bytes]:
    return [json.dumps({"id": i, "day": f"{1 + i % days:02d}"}).encode() for i in range(n)]


def run(engine: DeliveryEngine) -> bool:
    engine.start()
    try:
        return engine.flush(timeout=30)
    finally:
        engine.stop()


def test_failed_puts_are_retried_until_s3_takes_the_object() -> None:
    bucket = Bucket(fails=lambda key, attempt: attempt <= 2)  # each object's first two attempts fail
    data = payloads(30)
    # A 3600 s retry duration at scale 0.001 (3.6 s, retries every 5 ms): the third attempt comes
    # well within it on a loaded machine (with 10 s, 10 ms, it sometimes did not: s3-delivery-failed).
    engine = DeliveryEngine(config(retry_seconds=3600), ShardSource(data), services(bucket))
    assert run(engine)
    assert sorted(bucket.lines("data/")) == sorted(data)
    assert engine.s3_failures == 2 * 3  # three day prefixes, two failures each
    assert bucket.lines("errors/") == []
    assert engine.held_records() == [] and engine.committed_positions() == {SHARD: "30"}


def test_failures_past_the_retry_duration_go_to_the_error_prefix_with_the_record() -> None:
    bucket = Bucket(fails=lambda key, attempt: key.startswith("data/day=02/"))
    data = payloads(30)
    # A 10 s retry duration at scale 0.1: 1 s, retries every 0.5 s (wide enough margins for a loaded machine).
    engine = DeliveryEngine(config(retry_seconds=10), ShardSource(data), services(bucket, scale=0.1))
    assert run(engine)
    delivered = bucket.lines("data/")
    errors = [json.loads(line) for line in bucket.lines("errors/s3-delivery-failed/")]
    assert sorted(delivered) == sorted(d for d in data if json.loads(d)["day"] != "02")
    assert sorted(base64.b64decode(e["rawData"]) for e in errors) == sorted(d for d in data if json.loads(d)["day"] == "02")
    # Retried every 5 s (scaled) over the 10 s duration: the first attempt and at least one retry,
    # never more than the duration allows.
    assert {e["errorCode"] for e in errors} == {"S3.InternalError"}
    assert {e["errorMessage"] for e in errors} == {"We encountered an internal error. Please try again."}
    assert 2 <= min(e["attemptsMade"] for e in errors) and max(e["attemptsMade"] for e in errors) <= 3
    assert set(errors[0]) == {"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage",
                              "attemptEndingTimestamp", "rawData"}
    assert engine.held_records() == []


def test_without_dynamic_partitioning_failures_last_24_hours_then_the_data_is_lost_and_counted() -> None:
    bucket = Bucket(fails=lambda key, attempt: key.startswith("data/"))
    engine = DeliveryEngine(config(dynamic=False), ShardSource(payloads(5)), services(bucket, scale=1e-5))
    assert run(engine)  # 24 h at 1e-5 is under a second
    assert bucket.lines("data/") == [] and bucket.lines("errors/") == []
    assert engine.lost_records == 5 and engine.status()["lost_records"] == 5
    assert 1 < engine.s3_failures <= 24 * 3600 // 5 + 1  # at most one attempt every 5 s (scaled)


def test_a_crash_mid_batch_restarts_from_the_checkpoint_and_loses_nothing() -> None:
    """Crash before the second of three objects: the successor (a new engine from the crashed
    one's committed checkpoint, as the Firehose extension starts it) delivers every record; what
    the first object held beyond the checkpoint is delivered twice (at-least-once), nothing else is."""
    bucket = Bucket()
    data = payloads(30)
    objects = Counter()
    successors: list[DeliveryEngine] = []

    def crash_point() -> bool:
        objects["n"] += 1
        return objects["n"] == 2

    def restart(crashed: DeliveryEngine) -> None:
        successors.append(DeliveryEngine(crashed.config, ShardSource(data, crashed.committed_positions()),
                                         crashed.services, metrics=crashed.metrics))

    engine = DeliveryEngine(config(), ShardSource(data), services(bucket, crash_point=crash_point, restart=restart))
    assert not run(engine)  # the flush ends with the crash
    assert engine.crashed and len(successors) == 1
    first = bucket.lines("data/")
    assert 0 < len(first) < len(data)
    # The first object (day 01: records 1, 4, 7, ...) is in S3; record 2 (day 02) is the oldest
    # still held, so a reader resumes after 1.
    assert sorted(first) == sorted(d for d in data if json.loads(d)["day"] == "01")
    assert engine.committed_positions() == {SHARD: "1"}
    assert run(successors[0])
    delivered = Counter(bucket.lines("data/"))
    assert set(delivered) == set(data)
    assert sorted(line for line, n in delivered.items() if n == 2) == sorted(set(first) - {data[0]})
    assert max(delivered.values()) == 2


def test_the_checkpoint_moves_only_past_records_that_are_in_s3() -> None:
    bucket = Bucket()
    data = payloads(10)
    engine = DeliveryEngine(config(), ShardSource(data), services(bucket))
    assert run(engine)
    assert engine.committed_positions() == {SHARD: "10"}
    held = ShardSource(data).poll(4)
    engine._held.update({id(r): r for r in held[1:]})  # records 2..4 in a buffer not yet written
    assert engine.committed_positions() == {SHARD: "1"}
