"""The pure parts of pipeline_lib.lake: partitions and error kinds from keys, rawData decoding."""
from __future__ import annotations

import base64
import json

import pytest

from pipeline_lib import lake


@pytest.mark.parametrize(
    "key, day",
    [
        ("data/year=2026/month=03/day=04/s-1-2026-03-04-12-00-00-u.parquet", "2026-03-04"),
        ("lake/x/year=2031/month=12/day=31/f.parquet", "2031-12-31"),
        ("data/s-1-2026-03-04-12-00-00-u.parquet", "(unpartitioned)"),
    ],
)
def test_day_of_a_key(key, day):
    assert lake.day_of(key) == day


@pytest.mark.parametrize(
    "key, prefix, kind",
    [
        ("errors/processing-failed/year=2026/month=11/day=27/s-1-2026-11-27-11-00-29-u", "errors/", "processing-failed"),
        ("errors/format-conversion-failed/s-1-x", "errors/", "format-conversion-failed"),
        ("out/err/year=2026/metadata-extraction-failed/s-1-x", "out/err/", "metadata-extraction-failed"),
        ("errors/year=2026/month=11/s-1-x", "errors/", "unknown"),  # a prefix without the output type
        ("errors/processing-failed", "errors/", "unknown"),  # the object name is not a folder
    ],
)
def test_error_kind_is_the_output_type_folder(key, prefix, kind):
    assert lake._error_kind(key, prefix) == kind


def test_raw_change_decodes_json_and_tolerates_other_payloads():
    change = {"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "a"}}}}
    assert lake.raw_change({"rawData": base64.b64encode(json.dumps(change).encode()).decode()}) == change
    assert lake.raw_change({"rawData": base64.b64encode(b"not json").decode()}) is None
    assert lake.raw_change({}) is None


def test_reconciliation_balances_rows_and_errors_against_changes():
    balanced = lake.Reconciliation(changes_written=10, rows_in_lake=8, error_records=2)
    short = lake.Reconciliation(changes_written=10, rows_in_lake=7, error_records=2)
    assert balanced.balanced and "balanced" in balanced.summary()
    assert not short.balanced and "MISSING 1" in short.summary()
