"""The BatchWriteItem seeding engine, against a fake DynamoDB that throttles and drops items."""
from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from pipeline_lib.lambdas import seeder
from pipeline_lib.lambdas.seeder import DataSetError, SeedingError, read_requests, seed_requests

TABLE = "cdc-table"


def put(pk: str, sk: str, seq: int, **attrs: Any) -> dict[str, Any]:
    item = {"PK": {"S": pk}, "SK": {"S": sk}, "seq": {"N": str(seq)}}
    item.update(attrs)
    return {"PutRequest": {"Item": item}}


def delete(pk: str, sk: str) -> dict[str, Any]:
    return {"DeleteRequest": {"Key": {"PK": {"S": pk}, "SK": {"S": sk}}}}


def throttling(code: str = "ThrottlingException", status: int = 400) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "slow down"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "BatchWriteItem")


class FakeDynamoDB:
    """A thread-safe in-memory table whose `decide(call_number, requests)` scripts trouble.

    decide returns "ok", "throttle:<Code>", "unprocessed" (second half handed back; all of a
    one-item call) or an exception to raise. Every applied request is logged per key, so tests can
    check exactly-once and per-key order; batch-shape violations are recorded, not raised.
    """

    def __init__(self, decide=lambda n, requests: "ok", jitter: random.Random | None = None):
        self.decide = decide
        self.jitter = jitter
        self.lock = threading.Lock()
        self.table: dict[tuple[str, str], dict[str, Any]] = {}
        self.applied: list[dict[str, Any]] = []
        self.per_key: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        self.calls: list[list[dict[str, Any]]] = []
        self.violations: list[str] = []

    @staticmethod
    def key(request: dict[str, Any]) -> tuple[str, str]:
        attrs = request["PutRequest"]["Item"] if "PutRequest" in request else request["DeleteRequest"]["Key"]
        return attrs["PK"]["S"], attrs["SK"]["S"]

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
        (table, requests), = RequestItems.items()
        with self.lock:
            number = len(self.calls)
            self.calls.append(list(requests))
            if table != TABLE:
                self.violations.append(f"table {table}")
            if not 1 <= len(requests) <= 25:
                self.violations.append(f"call {number}: {len(requests)} requests")
            keys = [self.key(r) for r in requests]
            if len(set(keys)) != len(keys):
                self.violations.append(f"call {number}: duplicate keys")
            decision = self.decide(number, requests)
        if self.jitter is not None:
            time.sleep(self.jitter.random() / 1000)  # let threads interleave; not hiding any race
        if isinstance(decision, Exception):
            raise decision
        if decision.startswith("throttle"):
            raise throttling(decision.partition(":")[2] or "ThrottlingException")
        keep = requests
        if decision == "unprocessed":
            keep = requests[: len(requests) // 2]
        with self.lock:
            for request in keep:
                key = self.key(request)
                self.applied.append(request)
                self.per_key[key].append(request)
                if "PutRequest" in request:
                    self.table[key] = request["PutRequest"]["Item"]
                else:
                    self.table.pop(key, None)
        left = requests[len(keep):]
        return {"UnprocessedItems": {TABLE: left} if left else {}}


class Recorder:
    def __init__(self) -> None:
        self.delays: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self.lock:
            self.delays.append(seconds)


class TopOfRange(random.Random):
    """Full jitter always drawing the cap: makes the back-off schedule visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


def data_set(n_keys: int = 300, changes: bool = True) -> list[dict[str, Any]]:
    """Puts, then modifies and deletes of some keys, interleaved so one key recurs close by."""
    requests: list[dict[str, Any]] = []
    seq = 0
    for i in range(n_keys):
        requests.append(put(f"C#{i % 40}", f"O#{i}", seq))
        seq += 1
        if changes and i % 7 == 3:
            requests.append(put(f"C#{i % 40}", f"O#{i}", seq, status={"S": "PAID"}))
            seq += 1
        if changes and i % 11 == 5:
            requests.append(delete(f"C#{i % 40}", f"O#{i}"))
    return requests


def sequential_state(requests: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    state: dict[tuple[str, str], dict[str, Any]] = {}
    for request in requests:
        key = FakeDynamoDB.key(request)
        if "PutRequest" in request:
            state[key] = request["PutRequest"]["Item"]
        else:
            state.pop(key, None)
    return state


def first_seen_trouble() -> Any:
    """First call of a request: half unprocessed; second: throttled; third: accepted."""
    seen: Counter[str] = Counter()
    codes = ["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
             "InternalServerError"]

    def decide(number: int, requests: list[dict[str, Any]]) -> str:
        ids = [json.dumps(r, sort_keys=True) for r in requests]
        seen.update(ids)
        attempt = min(seen[i] for i in ids)
        if attempt == 1:
            return "unprocessed"
        if attempt == 2:
            return "throttle:" + codes[number % len(codes)]
        return "ok"

    return decide


def test_everything_is_written_exactly_once_in_per_key_order_despite_trouble() -> None:
    requests = data_set()
    fake = FakeDynamoDB(first_seen_trouble(), jitter=random.Random(1))
    progress: list[int] = []
    sleeper = Recorder()
    result = seed_requests(fake, TABLE, iter(requests), concurrency=8, sleep=sleeper,
                           rng=random.Random(3), on_progress=progress.append)

    assert fake.violations == []
    assert len(fake.applied) == len(requests)  # exactly once: no loss, no duplicate
    assert Counter(json.dumps(r, sort_keys=True) for r in fake.applied) == Counter(
        json.dumps(r, sort_keys=True) for r in requests)
    for key, applied in fake.per_key.items():  # same order per key as in the data set
        assert applied == [r for r in requests if FakeDynamoDB.key(r) == key]
    assert fake.table == sequential_state(requests)

    assert result.written == len(requests) == result.puts + result.deletes == sum(progress)
    assert result.deletes == sum(1 for r in requests if "DeleteRequest" in r)
    assert result.failed == 0
    assert result.calls == len(fake.calls) and result.retries == result.calls - result.batches
    assert result.throttled > 0 and result.unprocessed > 0
    assert len(sleeper.delays) == result.retries  # one back-off before every retry


def test_random_chaos_still_converges() -> None:
    rng = random.Random(42)
    errors = [throttling(), throttling("ProvisionedThroughputExceededException"),
              throttling("InternalFailure", 500), EndpointConnectionError(endpoint_url="http://x")]

    def decide(number: int, requests: list[dict[str, Any]]) -> Any:
        roll = rng.random()
        return errors[number % len(errors)] if roll < 0.25 else "unprocessed" if roll < 0.5 else "ok"

    requests = data_set(500)
    fake = FakeDynamoDB(decide, jitter=random.Random(2))
    result = seed_requests(fake, TABLE, requests, concurrency=6, max_attempts=60, sleep=lambda s: None,
                           rng=random.Random(5))
    assert fake.violations == []
    assert len(fake.applied) == len(requests) == result.written
    assert fake.table == sequential_state(requests)


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    fake = FakeDynamoDB(lambda n, r: "throttle" if n < 6 else "ok")
    sleeper = Recorder()
    result = seed_requests(fake, TABLE, [put("A", "B", 0)], concurrency=1, max_attempts=8,
                           base_delay=0.05, max_delay=0.5, sleep=sleeper, rng=TopOfRange())
    assert sleeper.delays == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.5, 0.5])
    assert result.written == 1 and result.calls == 7 and result.retries == 6 and result.throttled == 6


def test_full_jitter_stays_within_the_cap() -> None:
    rng = random.Random(11)
    delays = [seeder.backoff_delay(attempt, 0.05, 5.0, rng) for attempt in range(1, 12) for _ in range(50)]
    caps = [min(5.0, 0.05 * 2 ** (attempt - 1)) for attempt in range(1, 12) for _ in range(50)]
    assert all(0 <= d <= c for d, c in zip(delays, caps))
    assert len(set(delays)) > 500  # jittered, not a fixed schedule


def test_gives_up_after_max_attempts_with_counts() -> None:
    # Batch 1 (25 requests) succeeds; batch 2 is throttled forever; batch 3 (queued) is skipped.
    requests = [put("A", f"S{i}", i) for i in range(60)]
    fake = FakeDynamoDB(lambda n, r: "ok" if n == 0 else "throttle:ProvisionedThroughputExceededException")
    sleeper = Recorder()
    with pytest.raises(SeedingError) as caught:
        seed_requests(fake, TABLE, requests, concurrency=1, max_attempts=4, sleep=sleeper,
                      rng=random.Random(0))
    error = caught.value
    assert (error.written, error.failed, error.attempts, error.result.skipped) == (25, 25, 1 + 4, 10)
    assert "ProvisionedThroughputExceededException" in error.first_error
    assert "25 request(s) not written" in str(error) and "25 written" in str(error)
    assert "10 queued but not sent" in str(error)
    assert len(sleeper.delays) == 3  # no pointless sleep after the last attempt
    assert len(fake.calls) == 5 and all(FakeDynamoDB.key(r)[1] != "S50" for c in fake.calls for r in c)


def test_unprocessed_forever_is_reported() -> None:
    fake = FakeDynamoDB(lambda n, r: "unprocessed")
    with pytest.raises(SeedingError, match="UnprocessedItems") as caught:
        seed_requests(fake, TABLE, [put("A", f"S{i}", i) for i in range(8)], concurrency=1,
                      max_attempts=3, sleep=lambda s: None)
    # 8 -> 4 written, 4 -> 2 written, 2 -> 1 written: 1 left after 3 attempts.
    assert (caught.value.written, caught.value.failed, caught.value.attempts) == (7, 1, 3)


def test_a_non_retryable_error_fails_at_once_with_its_message() -> None:
    missing = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "Requested resource not found"},
                           "ResponseMetadata": {"HTTPStatusCode": 400}}, "BatchWriteItem")
    fake = FakeDynamoDB(lambda n, r: missing)
    sleeper = Recorder()
    with pytest.raises(SeedingError, match="ResourceNotFoundException: Requested resource not found") as caught:
        seed_requests(fake, TABLE, [put("A", "B", 0)], sleep=sleeper)
    assert caught.value.attempts == 1 and sleeper.delays == []


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (throttling("ThrottlingException"), True),
        (throttling("ProvisionedThroughputExceededException"), True),
        (throttling("RequestLimitExceeded"), True),
        (throttling("InternalServerError", 500), True),
        (throttling("SomethingNew", 503), True),
        (throttling("ValidationException", 400), False),
        (EndpointConnectionError(endpoint_url="http://localhost:1"), True),
        (ValueError("bug"), False),
    ],
)
def test_retryable_errors(error: Exception, retryable: bool) -> None:
    assert seeder.is_retryable(error) is retryable


def test_batches_hold_at_most_25_distinct_keys_and_keep_order() -> None:
    a, b, c = put("P", "a", 0), put("P", "b", 1), put("P", "c", 2)
    a2 = put("P", "a", 3)
    batches = list(seeder.plan_batches([a, b, a2, delete("P", "b"), c]))
    assert [[r for _, r in batch] for batch in batches] == [[a, b], [a2, delete("P", "b"), c]]
    many = [put("P", str(i), i) for i in range(60)]
    assert [len(batch) for batch in seeder.plan_batches(many)] == [25, 25, 10]
    # Numbers are keys by value, as DynamoDB compares them.
    numeric = [{"PutRequest": {"Item": {"PK": {"N": "1"}, "SK": {"S": "x"}}}},
               {"PutRequest": {"Item": {"PK": {"N": "1.0"}, "SK": {"S": "x"}}}}]
    assert len(list(seeder.plan_batches(numeric))) == 2


def test_a_request_without_the_key_attributes_is_a_clear_error() -> None:
    with pytest.raises(DataSetError, match="no key attribute 'SK'.*key_attributes"):
        list(seeder.plan_batches([{"PutRequest": {"Item": {"PK": {"S": "x"}}}}]))
    custom = list(seeder.plan_batches([{"PutRequest": {"Item": {"id": {"S": "x"}}}}], key_attributes=("id",)))
    assert len(custom) == 1


def test_read_requests_parses_lines_and_names_the_bad_one() -> None:
    good = [json.dumps(put("A", "B", 1)), "", json.dumps(delete("A", "B")).encode() + b"\r\n"]
    assert list(read_requests(good)) == [put("A", "B", 1), delete("A", "B")]
    cases = {
        "{nope": "line 3: not valid JSON",
        "[1, 2]": "line 3: expected one object",
        '{"PutRequest": {"Item": {}}}': "line 3: PutRequest needs a non-empty 'Item'",
        '{"UpdateRequest": {}}': "line 3: unknown request type 'UpdateRequest'",
        '{"DeleteRequest": {"Item": {"PK": {"S": "x"}}}}': "line 3: DeleteRequest needs a non-empty 'Key'",
        '{"PutRequest": {"Item": {"PK": "plain"}}}': "line 3: PutRequest.Item.PK is not a DynamoDB attribute value",
        '{"PutRequest": {"Item": {"PK": {"X": "1"}}}, "DeleteRequest": {}}': "line 3: expected one object",
    }
    for line, message in cases.items():
        with pytest.raises(DataSetError, match=f"^items.jsonl {message}"):
            list(read_requests([json.dumps(put("A", "B", 1)), "  ", line], source="items.jsonl"))
    with pytest.raises(DataSetError, match="line 1: not UTF-8"):
        list(read_requests([b"\xff\n"]))


def test_a_bad_line_mid_way_stops_the_run_with_its_line_number() -> None:
    lines = [json.dumps(put("A", f"S{i}", i)) for i in range(30)] + ["garbage"]
    fake = FakeDynamoDB()
    with pytest.raises(DataSetError, match="line 31"):
        seed_requests(fake, TABLE, read_requests(lines), concurrency=2)
    assert len(fake.applied) == 25  # the first full batch went out before the bad line was read


def test_the_real_client_request_shape_with_stubber() -> None:
    client = seeder.seeding_client(boto3.session.Session(region_name="us-east-1", aws_access_key_id="x",
                                                         aws_secret_access_key="x"), concurrency=16)
    assert client.meta.config.retries["total_max_attempts"] == 1  # our loop owns the retries
    assert client.meta.config.max_pool_connections == 16
    requests = [put("A", f"S{i}", i) for i in range(30)]
    with Stubber(client) as stub:
        stub.add_response("batch_write_item", {"UnprocessedItems": {TABLE: requests[23:25]}},
                          {"RequestItems": {TABLE: requests[:25]}})
        stub.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {TABLE: requests[23:25]}})
        stub.add_response("batch_write_item", {}, {"RequestItems": {TABLE: requests[25:]}})
        result = seed_requests(client, TABLE, requests, concurrency=1, sleep=lambda s: None)
        stub.assert_no_pending_responses()
    assert (result.written, result.batches, result.calls, result.retries, result.unprocessed) == (30, 2, 3, 1, 2)


# --- the Lambda handler and the notebook front, against moto in-process (no server) -----------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    import moto  # pinned (moto[server]==5.2.5): a test of it never skips
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        session = boto3.session.Session()
        session.client("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                  {"AttributeName": "SK", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        session.client("s3").create_bucket(Bucket="raw")
        yield session


def table_state(session: boto3.session.Session) -> dict[tuple[str, str], dict[str, Any]]:
    pages = session.client("dynamodb").get_paginator("scan").paginate(TableName=TABLE)
    return {(i["PK"]["S"], i["SK"]["S"]): i for page in pages for i in page["Items"]}


def jsonl(requests: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in requests).encode()


def test_handler_seeds_s3_data_sets_in_order(aws: boto3.session.Session, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    items = [put("C#1", f"O#{i}", i, status={"S": "PENDING"}) for i in range(120)]
    changes = [put("C#1", f"O#{i}", 1000 + i, status={"S": "PAID"}) for i in range(0, 120, 3)]
    changes += [delete("C#1", f"O#{i}") for i in range(1, 120, 10)]
    s3 = aws.client("s3")
    s3.put_object(Bucket="raw", Key="data/items.jsonl", Body=jsonl(items))
    s3.put_object(Bucket="raw", Key="data/changes.jsonl", Body=jsonl(changes))
    monkeypatch.setenv("RAW_BUCKET", "raw")
    monkeypatch.setenv("TABLE_NAME", TABLE)
    monkeypatch.setenv("DATA_SET_KEYS", "data/items.jsonl, data/changes.jsonl")

    before = time.time_ns() // 1_000_000
    out = seeder.handler({}, None)
    assert out["keys"] == ["data/items.jsonl", "data/changes.jsonl"]
    assert (out["written"], out["puts"], out["deletes"]) == (172, 160, 12)
    # items: 5 batches of 25/25/25/25/20; changes: 25, then 23 (delete O#81 meets put O#81), then 4.
    assert out["batches"] == 8 and out["retries"] == 0
    assert before <= out["startedAt"] <= out["finishedAt"] <= time.time_ns() // 1_000_000
    assert table_state(aws) == sequential_state(items + changes)
    assert '"message": "seeded"' in capsys.readouterr().out

    only_items = seeder.handler({"bucket": "raw", "keys": ["data/items.jsonl"], "tableName": TABLE}, None)
    assert only_items["written"] == 120


def test_handler_explains_missing_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RAW_BUCKET", "TABLE_NAME", "DATA_SET_KEYS"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="RAW_BUCKET"):
        seeder.handler({}, None)
    with pytest.raises(ValueError, match="DATA_SET_KEYS"):
        seeder.handler({"bucket": "b", "tableName": "t"}, None)


def test_notebook_front_seeds_files_lines_and_s3(aws: boto3.session.Session, tmp_path: Path) -> None:
    from pipeline_lib import data

    path = tmp_path / "items.jsonl"
    path.write_bytes(jsonl([put("F", f"S{i}", i) for i in range(40)]))
    assert data.seed_file(path, TABLE, progress=True, boto3_session=aws).written == 40
    assert data.seed_file([json.dumps(delete("F", "S0"))], TABLE, progress=False, boto3_session=aws).deletes == 1
    aws.client("s3").put_object(Bucket="raw", Key="more.jsonl", Body=jsonl([put("G", "S", 1)]))
    assert data.seed_s3("raw", ["more.jsonl"], TABLE, progress=False, boto3_session=aws).written == 1
    assert len(table_state(aws)) == 40
    with pytest.raises(DataSetError, match=r"items.jsonl line 2"):
        path.write_text(json.dumps(put("F", "X", 0)) + "\n{oops\n")
        data.seed_file(path, TABLE, progress=False, boto3_session=aws)


# -- what goes on the wire -----------------------------------------------------------------------------
def _sent_requests(client, table: str, batches: list[list[dict[str, Any]]]) -> list[tuple[bytes, dict[str, str]]]:
    """The body and headers of each BatchWriteItem `client` sends (answered locally, nothing leaves)."""
    from botocore.awsrequest import AWSResponse

    class _Raw:
        def stream(self, **_: Any):
            yield b"{}"

    sent = []

    def capture(request, **_: Any):
        headers = {k: v for k, v in request.headers.items()
                   if k not in ("Authorization", "X-Amz-Date", "amz-sdk-invocation-id")}  # per call: time, nonce
        sent.append((bytes(request.body), headers))
        return AWSResponse(request.url, 200, {"x-amzn-RequestId": "r"}, _Raw())

    client.meta.events.register("before-send.dynamodb.BatchWriteItem", capture)
    for batch in batches:
        client.batch_write_item(RequestItems={table: batch})
    return sent


def test_the_seeding_client_sends_the_bytes_a_validating_client_sends():
    """Validation off changes no byte of the request (bodies and headers, signature inputs included)."""
    from botocore.config import Config

    from pipeline_lib.data import generate_items

    session = boto3.Session(aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1")
    requests = list(generate_items(120, seed=7, bad=3))
    batches = [requests[i:i + 25] for i in range(0, len(requests), 25)]
    batches.append([put("A", "B", 1, blob={"B": b"\x00\xffbytes"}, tags={"SS": ["x", "y"]},
                        nested={"M": {"l": {"L": [{"N": "1.50"}, {"NULL": True}, {"BOOL": False}]}}}), delete("A", "C")])
    from botocore.validate import ParamValidationDecorator

    seeding = seeder.seeding_client(session)  # both reach the same (real) URL: nothing is sent
    validating = session.client("dynamodb", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    assert not isinstance(seeding._serializer, ParamValidationDecorator)
    assert isinstance(validating._serializer, ParamValidationDecorator)
    ours, stock = _sent_requests(seeding, TABLE, batches), _sent_requests(validating, TABLE, batches)
    assert len(ours) == len(batches)
    assert ours == stock
    assert json.loads(ours[-1][0])["RequestItems"][TABLE][0]["PutRequest"]["Item"]["blob"] == {"B": "AP9ieXRlcw=="}
