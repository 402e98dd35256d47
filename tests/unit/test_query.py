"""The pure parts of pipeline_lib.query: a GetQueryExecution answer read into QueryStatistics, and
the arguments refused before any call. (Queries themselves run against local Athena, later.)"""
from __future__ import annotations

import pytest

from pipeline_lib import query

# Shaped as the Athena API reference documents GetQueryExecution's QueryExecution.
SELECT = {
    "QueryExecutionId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
    "Query": "SELECT count(*) FROM cdc_events",
    "StatementType": "DML",
    "ResultConfiguration": {"OutputLocation": "s3://results/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111.csv"},
    "QueryExecutionContext": {"Database": "cdc", "Catalog": "awsdatacatalog"},
    "Status": {"State": "SUCCEEDED"},
    "Statistics": {
        "EngineExecutionTimeInMillis": 412,
        "DataScannedInBytes": 52_310,
        "TotalExecutionTimeInMillis": 530,
        "QueryQueueTimeInMillis": 60,
    },
    "WorkGroup": "primary",
}


def test_statistics_of_a_select() -> None:
    stats = query.statistics_of(SELECT)
    assert stats == query.QueryStatistics(
        query_execution_id="a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
        state="SUCCEEDED",
        statement_type="DML",
        data_scanned_bytes=52_310,
        engine_execution_ms=412,
        total_execution_ms=530,
        output_location="s3://results/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111.csv",
        data_manifest_location=None,
    )


def test_statistics_of_a_ctas_name_its_manifest() -> None:
    ctas = {**SELECT, "Statistics": {**SELECT["Statistics"],
                                     "DataManifestLocation": "s3://results/tables/x-manifest.csv"}}
    assert query.statistics_of(ctas).data_manifest_location == "s3://results/tables/x-manifest.csv"


def test_statistics_of_a_query_without_statistics_yet() -> None:
    stats = query.statistics_of({"QueryExecutionId": "q", "Status": {"State": "QUEUED"}})
    assert (stats.state, stats.data_scanned_bytes, stats.output_location) == ("QUEUED", None, None)


def test_statistics_of_something_else_is_refused() -> None:
    with pytest.raises(ValueError, match="QueryExecutionId"):
        query.statistics_of({"Status": {"State": "SUCCEEDED"}})


def test_ctas_without_a_database_is_refused_before_any_call() -> None:
    with pytest.raises(ValueError, match="pass the database"):
        query.run_query("SELECT 1", ctas_approach=True, boto3_session=object())
