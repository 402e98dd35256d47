"""The pure parts of the redrive (PutRecords batching within Kinesis's limits, resending what a
response marks failed) and of the current-state SQL."""
from __future__ import annotations

import pytest

from pipeline_lib import lake, query


def test_batches_stay_within_put_records_limits() -> None:
    records = [(b"x" * 10, "k")] * 1201
    sizes = [len(b) for b in lake._batches(records)]
    assert sizes == [500, 500, 201]  # 500 records a call at most
    big = [(b"y" * (900 * 1024), "k")] * 12  # 5 MiB a call at most: 5 of 900 KiB fit, 6 do not
    assert [len(b) for b in lake._batches(big)] == [5, 5, 2]
    with pytest.raises(lake.RedriveError, match="1 MiB record limit"):
        list(lake._batches([(b"z" * (1024 * 1024), "k")]))


class _FlakyKinesis:
    """Fails the first entry of each of the first `failures` calls, as PutRecords reports a
    throttled entry (HTTP 200, FailedRecordCount > 0, ErrorCode on the entry)."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls: list[list[bytes]] = []

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:  # noqa: N803 (boto3's names)
        self.calls.append([r["Data"] for r in Records])
        failed = len(self.calls) <= self.failures
        entries = [{"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"}
                   if failed and i == 0 else {"SequenceNumber": "1", "ShardId": "shardId-000000000000"}
                   for i in range(len(Records))]
        return {"FailedRecordCount": int(failed), "Records": entries}


def test_failed_entries_are_resent_alone() -> None:
    kinesis = _FlakyKinesis(failures=2)
    result = lake.RedriveResult()
    lake._put_all(kinesis, "s", [(b"a", "1"), (b"b", "2"), (b"c", "3")], result, 8, lambda _s: None)
    assert kinesis.calls == [[b"a", b"b", b"c"], [b"a"], [b"a"]]
    assert (result.put_calls, result.retried_records) == (3, 2)


def test_records_still_failing_raise() -> None:
    with pytest.raises(lake.RedriveError, match="1 record\\(s\\) still failed after 3 PutRecords attempts"):
        lake._put_all(_FlakyKinesis(failures=99), "s", [(b"a", "1")], lake.RedriveResult(), 3, lambda _s: None)


def test_partition_key_follows_the_item_key() -> None:
    change = {"dynamodb": {"Keys": {"PK": {"S": "A"}, "SK": {"S": "B"}}}}
    same = {"dynamodb": {"Keys": {"SK": {"S": "B"}, "PK": {"S": "A"}}}}
    assert lake._partition_key(change, b"1") == lake._partition_key(same, b"2")
    assert lake._partition_key(None, b"1") != lake._partition_key(None, b"2")


def test_current_state_sql() -> None:
    sql = query.current_state_sql("t", ["a", 'we"ird'], database="db", as_of="2026-01-01 00:00:00")
    assert 'PARTITION BY "a", "we""ird"' in sql
    assert 'FROM "db"."t"' in sql
    assert "WHERE cdc_event_time <= TIMESTAMP '2026-01-01 00:00:00'" in sql
    assert sql.endswith("WHERE change_rank = 1 AND cdc_operation <> 'REMOVE'")
    with pytest.raises(ValueError, match="key_columns"):
        query.current_state_sql("t", [])
