"""Seed a DynamoDB table with BatchWriteItem from JSON-lines data sets of WriteRequests.

The engine (`seed_requests`) is shared by the Lambda (`handler`, reading from S3) and by
`pipeline_lib.data.seed_file` (notebooks, with a progress bar). It sends batches of at most 25 requests,
never two for one key in a batch, with bounded concurrency, and keeps the data set's order per key
(a later request for a key is sent only after the earlier one is written). `UnprocessedItems`
and throttling / 5xx errors are retried with exponential back-off and full jitter; whatever is
still unwritten after `max_attempts` raises `SeedingError` with the counts.
Stdlib + boto3 only: this file is deployed as is.
"""
from __future__ import annotations

import json
import os
import random
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable, Iterator, Sequence

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError as BotoConnectionError, HTTPClientError

MAX_BATCH_SIZE = 25  # BatchWriteItem's limit
DEFAULT_KEY_ATTRIBUTES = ("PK", "SK")  # the table's single-table design key
ATTRIBUTE_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})
RETRYABLE_ERROR_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
})


def seeding_client(session: boto3.session.Session | None = None, concurrency: int = 8) -> Any:
    """A DynamoDB client for `seed_requests`, with the SDK's own retries switched off.

    Why off: botocore would silently retry a throttled BatchWriteItem up to 3 times (standard mode)
    or slow itself down (adaptive), so a run's throttling would be invisible and every attempt of
    ours would really be up to three calls. With one SDK attempt, `seed_requests` owns all
    back-off and its `calls`/`retries` counts are the truth. Connection errors are retried by
    `seed_requests` too. The pool is sized so `concurrency` threads never wait for a connection.

    Parameter validation is off: botocore's walk of every nested AttributeValue cost the client
    more CPU per item than the local cloud spends writing it, and DynamoDB validates the same
    request anyway (a malformed one fails with its ValidationException instead of a
    ParamValidationError; data set lines are checked by `read_requests`). The bytes sent are the
    same (tests/unit/test_seeder.py compares them).
    """
    session = session or boto3.session.Session()
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        max_pool_connections=max(10, concurrency),
        parameter_validation=False,
    )
    return session.client("dynamodb", config=config)


# --- results and errors -----------------------------------------------------------------


@dataclass
class SeedResult:
    written: int = 0  # requests DynamoDB acknowledged
    puts: int = 0  # PutRequests sent
    deletes: int = 0  # DeleteRequests sent
    batches: int = 0  # batches planned and sent (each <= 25 requests, distinct keys)
    calls: int = 0  # BatchWriteItem calls, retries included
    retries: int = 0  # calls beyond the first of each batch
    throttled: int = 0  # calls refused with a retryable error
    unprocessed: int = 0  # requests that came back in UnprocessedItems (then re-sent)
    failed: int = 0  # requests given up on
    skipped: int = 0  # requests queued but not sent because another batch had failed
    seconds: float = 0.0

    def __add__(self, other: SeedResult) -> SeedResult:
        return SeedResult(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SeedingError(RuntimeError):
    """Items remain unwritten after the retries (or a call failed for good)."""

    def __init__(self, table_name: str, result: SeedResult, first_error: str, max_attempts: int):
        self.result = result
        self.written = result.written
        self.failed = result.failed
        self.attempts = result.calls
        self.first_error = first_error
        super().__init__(
            f"seeding table {table_name!r} stopped: {result.failed} request(s) not written "
            f"(up to {max_attempts} attempts per batch), {result.written} written, "
            f"{result.skipped} queued but not sent, {result.calls} BatchWriteItem calls; "
            f"first error: {first_error}. The rest of the data set was not sent. Re-running the same "
            "data set converges to the same table; if throttling persists, lower the concurrency or "
            "raise the table's write capacity."
        )


class DataSetError(ValueError):
    """A data set line is not a DynamoDB WriteRequest."""


# --- reading the data set ---------------------------------------------------------------


def _request_problem(request: Any) -> str | None:
    """Why `request` is not a BatchWriteItem WriteRequest, or None if it is one."""
    if not isinstance(request, dict) or len(request) != 1:
        return 'expected one object {"PutRequest": {"Item": {...}}} or {"DeleteRequest": {"Key": {...}}}'
    ((kind, body),) = request.items()
    member = {"PutRequest": "Item", "DeleteRequest": "Key"}.get(kind)
    if member is None:
        return f"unknown request type {kind!r}; expected PutRequest or DeleteRequest"
    attributes = body.get(member) if isinstance(body, dict) else None
    if not isinstance(attributes, dict) or not attributes:
        return f"{kind} needs a non-empty {member!r} object of DynamoDB attribute values"
    for name, value in attributes.items():
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ATTRIBUTE_TYPES:
            return f"{kind}.{member}.{name} is not a DynamoDB attribute value like {{\"S\": \"text\"}}: {value!r:.60}"
    return None


def read_requests(lines: Iterable[str | bytes], source: str = "data set") -> Iterator[dict[str, Any]]:
    """Parse JSON lines of WriteRequests lazily; blank lines are skipped.

    Raises DataSetError naming `source` and the 1-based line number of the first bad line.
    """
    for number, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataSetError(f"{source} line {number}: not UTF-8 ({err})") from None
        text = line.strip()
        if not text:
            continue
        try:
            request = json.loads(text)
        except json.JSONDecodeError as err:
            raise DataSetError(f"{source} line {number}: not valid JSON ({err.msg} at column {err.colno})") from None
        problem = _request_problem(request)
        if problem:
            raise DataSetError(f"{source} line {number}: {problem}")
        yield request


# --- planning batches -------------------------------------------------------------------

Key = tuple[Any, ...]


def request_key(request: dict[str, Any], key_attributes: Sequence[str] = DEFAULT_KEY_ATTRIBUTES) -> Key:
    """The primary key a WriteRequest touches, hashable; N values compared as numbers like DynamoDB."""
    if "PutRequest" in request:
        attributes, where = request["PutRequest"]["Item"], "PutRequest item"
    else:
        attributes, where = request["DeleteRequest"]["Key"], "DeleteRequest key"
    parts: list[Any] = []
    for name in key_attributes:
        value = attributes.get(name)
        if not isinstance(value, dict) or len(value) != 1:
            raise DataSetError(
                f"{where} has no key attribute {name!r} ({json.dumps(request)[:120]}); "
                f"the table key is assumed to be {tuple(key_attributes)} - pass key_attributes to change it"
            )
        ((kind, text),) = value.items()
        if kind == "N":
            try:
                text = Decimal(text).normalize()
            except (InvalidOperation, TypeError):
                pass  # DynamoDB will reject it with a clear message
        parts.append((name, kind, text))
    return tuple(parts)


def plan_batches(
    requests: Iterable[dict[str, Any]],
    key_attributes: Sequence[str] = DEFAULT_KEY_ATTRIBUTES,
    max_size: int = MAX_BATCH_SIZE,
) -> Iterator[list[tuple[Key, dict[str, Any]]]]:
    """Consecutive batches of at most `max_size`; a repeated key starts a new batch (order kept)."""
    batch: list[tuple[Key, dict[str, Any]]] = []
    keys: set[Key] = set()
    for request in requests:
        key = request_key(request, key_attributes)
        if key in keys or len(batch) >= max_size:
            yield batch
            batch, keys = [], set()
        batch.append((key, request))
        keys.add(key)
    if batch:
        yield batch


# --- writing ----------------------------------------------------------------------------


def backoff_delay(attempt: int, base_delay: float, max_delay: float, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(max_delay, base_delay * 2**(attempt - 1))]."""
    cap = min(max_delay, base_delay * 2 ** min(attempt - 1, 62))
    return rng.uniform(0, cap)


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in RETRYABLE_ERROR_CODES or status >= 500
    return isinstance(error, (BotoConnectionError, HTTPClientError))


def describe_error(error: BaseException) -> str:
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return f"{info.get('Code', 'ClientError')}: {info.get('Message', str(error))}"
    return f"{type(error).__name__}: {error}"


class _Tally:
    """Counters shared by the worker threads."""

    def __init__(self, on_progress: Callable[[int], Any] | None):
        self.lock = threading.Lock()
        self.result = SeedResult()
        self.first_error: str | None = None
        self.on_progress = on_progress

    def written(self, count: int) -> None:
        with self.lock:
            self.result.written += count
            if self.on_progress and count:
                self.on_progress(count)  # serialized by the lock: progress bars need not be thread-safe

    def call(self, *, throttled: bool = False, unprocessed: int = 0) -> None:
        with self.lock:
            self.result.calls += 1
            self.result.throttled += int(throttled)
            self.result.unprocessed += unprocessed

    def skipped(self, count: int) -> None:
        with self.lock:
            self.result.skipped += count

    def failed(self, count: int, error: str) -> None:
        with self.lock:
            self.result.failed += count
            self.first_error = self.first_error or error


def _write_batch(
    client: Any,
    table_name: str,
    requests: list[dict[str, Any]],
    tally: _Tally,
    max_attempts: int,
    delay: Callable[[int], float],
    sleep: Callable[[float], Any],
) -> None:
    """Write one batch, retrying what DynamoDB did not take; record the outcome in `tally`."""
    if tally.first_error:
        tally.skipped(len(requests))  # another batch gave up: later writes may depend on it
        return
    pending = requests
    for attempt in range(1, max_attempts + 1):
        try:
            response = client.batch_write_item(RequestItems={table_name: pending})
        except Exception as err:  # noqa: BLE001 - every failure is counted and reported
            tally.call(throttled=is_retryable(err))
            problem = describe_error(err)
            if not is_retryable(err):
                tally.failed(len(pending), problem)
                return
        else:
            left = (response.get("UnprocessedItems") or {}).get(table_name) or []
            tally.call(unprocessed=len(left))
            tally.written(len(pending) - len(left))
            if not left:
                return
            problem = f"{len(left)} of {len(pending)} request(s) returned in UnprocessedItems"
            pending = left
        if attempt < max_attempts:
            sleep(delay(attempt))
    tally.failed(len(pending), f"after {max_attempts} attempts: {problem}")


def seed_requests(
    dynamodb_client: Any,
    table_name: str,
    requests: Iterable[dict[str, Any]],
    *,
    concurrency: int = 8,
    max_attempts: int = 8,
    base_delay: float = 0.05,
    max_delay: float = 5.0,
    on_progress: Callable[[int], Any] | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    rng: random.Random | None = None,
    key_attributes: Sequence[str] = DEFAULT_KEY_ATTRIBUTES,
) -> SeedResult:
    """Write `requests` (WriteRequest dicts) to `table_name`; return the counts.

    `requests` is consumed lazily, so a data set never has to fit in memory. `on_progress(n)` is
    called with each number of newly written requests. `sleep` and `rng` are injectable so tests
    can observe back-off without waiting. Raises SeedingError if anything stays unwritten.
    """
    if concurrency < 1 or max_attempts < 1:
        raise ValueError("concurrency and max_attempts must be at least 1")
    rng = rng or random.Random()
    started = time.monotonic()
    tally = _Tally(on_progress)

    def delay(attempt: int) -> float:
        return backoff_delay(attempt, base_delay, max_delay, rng)

    in_flight: dict[Future[None], list[Key]] = {}
    last_writer: dict[Key, Future[None]] = {}  # the in-flight batch that last touched a key

    def reap(done: Iterable[Future[None]]) -> None:
        for future in done:
            for key in in_flight.pop(future):
                if last_writer.get(key) is future:
                    del last_writer[key]
            future.result()  # _write_batch records its failures; anything here is a bug: surface it

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="seed") as pool:
        try:
            for batch in plan_batches(requests, key_attributes):
                if tally.first_error:
                    break  # stop sending after a batch gave up: later requests may depend on it
                # Per-key order: a key's earlier write must land before its later one is sent.
                earlier = {last_writer[key] for key, _ in batch if key in last_writer}
                if earlier:
                    reap(wait(earlier).done)
                # Bounded look-ahead: a lazily read data set is never all in memory.
                while len(in_flight) >= 2 * concurrency:
                    reap(wait(in_flight, return_when=FIRST_COMPLETED).done)
                payload = [request for _, request in batch]
                future = pool.submit(_write_batch, dynamodb_client, table_name, payload, tally,
                                     max_attempts, delay, sleep)
                keys = [key for key, _ in batch]
                in_flight[future] = keys
                for key in keys:
                    last_writer[key] = future
                with tally.lock:
                    tally.result.batches += 1
                    puts = sum(1 for request in payload if "PutRequest" in request)
                    tally.result.puts += puts
                    tally.result.deletes += len(payload) - puts
        finally:
            reap(wait(in_flight).done)

    result = tally.result
    result.retries = result.calls - result.batches
    result.seconds = time.monotonic() - started
    if tally.first_error:
        raise SeedingError(table_name, result, tally.first_error, max_attempts)
    return result


# --- S3 data sets and the Lambda handler ------------------------------------------------


def iter_s3_lines(s3_client: Any, bucket: str, key: str, chunk_size: int = 1 << 16) -> Iterator[bytes]:
    """The lines of an S3 object, streamed (one chunk in memory at a time)."""
    body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        yield from body.iter_lines(chunk_size=chunk_size)
    finally:
        body.close()


def seed_objects(
    s3_client: Any,
    dynamodb_client: Any,
    bucket: str,
    keys: Sequence[str],
    table_name: str,
    **options: Any,
) -> SeedResult:
    """Seed the S3 objects one after the other (e.g. items, then changes); the summed counts."""
    total = SeedResult()
    for key in keys:
        requests = read_requests(iter_s3_lines(s3_client, bucket, key), source=f"s3://{bucket}/{key}")
        total = total + seed_requests(dynamodb_client, table_name, requests, **options)
    return total


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _settings(event: dict[str, Any]) -> tuple[str, list[str], str, int]:
    bucket = event.get("bucket") or os.environ.get("RAW_BUCKET")
    keys = event.get("keys")
    if keys is None:
        keys = [k.strip() for k in os.environ.get("DATA_SET_KEYS", "").split(",") if k.strip()]
    table = event.get("tableName") or os.environ.get("TABLE_NAME")
    concurrency = int(event.get("concurrency") or os.environ.get("SEED_CONCURRENCY") or 8)
    if not bucket:
        raise ValueError("no bucket: pass {'bucket': ...} in the event or set RAW_BUCKET")
    if not table:
        raise ValueError("no table: pass {'tableName': ...} in the event or set TABLE_NAME")
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise ValueError("no data set keys: pass {'keys': ['items.jsonl', ...]} or set DATA_SET_KEYS (comma-separated)")
    return bucket, keys, table, concurrency


def handler(event: dict[str, Any] | None, context: Any = None) -> dict[str, Any]:
    """Lambda entry point: seed the table from data sets in S3, in the order given."""
    bucket, keys, table, concurrency = _settings(event or {})
    started_at = _now_ms()
    session = boto3.session.Session()
    result = seed_objects(
        session.client("s3"),
        seeding_client(session, concurrency),
        bucket,
        keys,
        table,
        concurrency=concurrency,
    )
    summary = {
        "written": result.written,
        "puts": result.puts,
        "deletes": result.deletes,
        "batches": result.batches,
        "retries": result.retries,
        "keys": keys,
        "startedAt": started_at,
        "finishedAt": _now_ms(),
    }
    print(json.dumps({"level": "INFO", "message": "seeded", "table": table, "bucket": bucket,
                      "throttled": result.throttled, "unprocessed": result.unprocessed, **summary}))
    return summary
