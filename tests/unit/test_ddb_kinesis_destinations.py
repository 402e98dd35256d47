"""The Kinesis streaming destination state machine of a DynamoDB table (no moto, a fake clock)."""
from __future__ import annotations

import pytest

from pipeline_lib.localcloud.dynamodb_kinesis.destinations import (
    ACTIVE,
    DISABLED,
    DISABLING,
    ENABLE_FAILED,
    ENABLING,
    STREAM_MISSING,
    UPDATING,
    DestinationError,
    DestinationRegistry,
    TableKey,
    Timings,
)

TABLE = TableKey("123456789012", "us-east-1", "orders")
S1 = "arn:aws:kinesis:us-east-1:123456789012:stream/one"
S2 = "arn:aws:kinesis:us-east-1:123456789012:stream/two"
MISSING = "arn:aws:kinesis:us-east-1:123456789012:stream/missing"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(clock: Clock) -> DestinationRegistry:
    return DestinationRegistry(Timings(enabling=1.0, disabling=1.0, updating=5.0),
                               usable=lambda table, arn: arn != MISSING, clock=clock)


def statuses(registry: DestinationRegistry) -> list[tuple[str, str]]:
    return [(d.stream_arn, d.status) for d in registry.describe(TABLE)]


def refused(fn, *args, match: str, **kwargs) -> None:
    with pytest.raises(DestinationError, match=match) as info:
        fn(*args, **kwargs)
    assert info.value.code == "ValidationException"


def test_enabling_becomes_active_after_the_delay_and_then_streams(registry, clock):
    assert registry.streaming(TABLE) is None
    assert registry.enable(TABLE, S1).status == ENABLING
    assert statuses(registry) == [(S1, ENABLING)]
    assert registry.streaming(TABLE) is None  # changes flow once ACTIVE
    clock.now += 1.0
    assert statuses(registry) == [(S1, ACTIVE)]
    assert registry.streaming(TABLE) == (S1, "MILLISECOND")
    assert registry.describe(TABLE)[0].describe() == {"StreamArn": S1, "DestinationStatus": ACTIVE}


def test_a_missing_stream_fails_asynchronously(registry, clock):
    assert registry.enable(TABLE, MISSING).status == ENABLING  # accepted: AWS checks later
    clock.now += 1.0
    [entry] = registry.describe(TABLE)
    assert (entry.status, entry.description) == (ENABLE_FAILED, STREAM_MISSING)
    assert registry.streaming(TABLE) is None
    # A failed entry does not block a working one, and lingers under it (newest first).
    registry.enable(TABLE, S1)
    clock.now += 1.0
    assert statuses(registry) == [(S1, ACTIVE), (MISSING, ENABLE_FAILED)]


def test_only_one_live_destination(registry, clock):
    registry.enable(TABLE, S1)
    for arn in (S1, S2):  # during ENABLING and while ACTIVE, for the same or another stream
        refused(registry.enable, TABLE, arn, match="must be DISABLED or ENABLE_FAILED to perform ENABLE")
    clock.now += 1.0
    refused(registry.enable, TABLE, S2, match="must be DISABLED or ENABLE_FAILED")


def test_disable_then_re_enable_flips_the_entry(registry, clock):
    registry.enable(TABLE, S1, "MICROSECOND")
    clock.now += 1.0
    assert registry.disable(TABLE, S1).status == DISABLING
    assert registry.streaming(TABLE) is None  # nothing flows once disabling starts
    refused(registry.disable, TABLE, S1, match="must be ACTIVE to perform DISABLE")
    clock.now += 1.0
    assert statuses(registry) == [(S1, DISABLED)]
    registry.enable(TABLE, S1)  # no precision given: reset to the default
    clock.now += 1.0
    assert statuses(registry) == [(S1, ACTIVE)]
    assert registry.streaming(TABLE) == (S1, "MILLISECOND")


def test_disable_and_update_need_the_active_destination(registry, clock):
    refused(registry.disable, TABLE, S1, match="must be ACTIVE to perform DISABLE")
    refused(registry.update, TABLE, S1, "MICROSECOND", "id", match="Updates are only allowed in ACTIVE state")
    registry.enable(TABLE, S1)
    refused(registry.update, TABLE, S1, "MICROSECOND", "id", match="not in ACTIVE state")  # still ENABLING
    clock.now += 1.0
    refused(registry.disable, TABLE, S2, match="must be ACTIVE")  # not the live stream


def test_update_precision(registry, clock):
    registry.enable(TABLE, S1)
    clock.now += 1.0
    refused(registry.update, TABLE, S1, "MILLISECOND", "tid", match="Precision is already set to the desired value of MILLISECOND for tableId: tid")
    refused(registry.update, TABLE, S1, None, "tid", match="cannot be null")
    refused(registry.update, TABLE, S1, "NANOSECOND", "tid", match="enum value set")
    updated = registry.update(TABLE, S1, "MICROSECOND", "tid")
    assert (updated.status, updated.precision) == (UPDATING, "MICROSECOND")
    assert registry.streaming(TABLE) == (S1, "MICROSECOND")  # the new precision applies at once
    clock.now += 5.0
    assert registry.describe(TABLE)[0].describe() == {
        "StreamArn": S1, "DestinationStatus": ACTIVE, "ApproximateCreationDateTimePrecision": "MICROSECOND"}


def test_request_validation(registry):
    refused(registry.enable, TABLE, "arn:short", match="length greater than or equal to 37")
    refused(registry.enable, TABLE, S1, "SECOND", match="enum value set: \\[MICROSECOND, MILLISECOND\\]")


def test_immediate_transitions_for_templates(registry):
    assert registry.enable(TABLE, S1, immediate=True).status == ACTIVE
    assert registry.update(TABLE, S1, "MICROSECOND", "tid", immediate=True).status == ACTIVE
    assert registry.disable(TABLE, S1, immediate=True).status == DISABLED
    assert registry.enable(TABLE, MISSING, immediate=True).status == ENABLE_FAILED


def test_dropping_a_table_forgets_its_destinations(registry, clock):
    registry.enable(TABLE, S1)
    clock.now += 1.0
    registry.drop_table(TABLE)
    assert registry.describe(TABLE) == [] and registry.streaming(TABLE) is None
    other = TableKey("123456789012", "us-east-1", "other")
    assert registry.describe(other) == []
