"""Athena queries through awswrangler: a data frame and what the query cost.

    result = query.run_query("SELECT status, count(*) AS n FROM orders GROUP BY 1",
                             database=outputs["GlueDatabaseName"],
                             workgroup=outputs["AthenaWorkGroupName"], boto3_session=session)
    result.frame, result.statistics.data_scanned_bytes

Backend-neutral: `wr.athena.read_sql_query` with the session given (or the configured backend's);
nothing here reads or sets awswrangler's global `wr.config`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pandas as pd

from .backend import session as default_session

__all__ = ["QueryResult", "QueryStatistics", "run_query", "statistics_of"]

_DEFAULT_WORKGROUP = "primary"  # Athena's (and awswrangler's) default


@dataclass(frozen=True)
class QueryStatistics:
    """What GetQueryExecution says about a finished query."""

    query_execution_id: str
    state: str
    statement_type: str | None
    data_scanned_bytes: int | None
    engine_execution_ms: int | None
    total_execution_ms: int | None
    output_location: str | None
    data_manifest_location: str | None


@dataclass(frozen=True)
class QueryResult:
    frame: pd.DataFrame
    statistics: QueryStatistics


def statistics_of(query_execution: dict[str, Any]) -> QueryStatistics:
    """QueryStatistics of a GetQueryExecution `QueryExecution` (what awswrangler attaches to the
    frame as `query_metadata`)."""
    if "QueryExecutionId" not in query_execution:
        raise ValueError("not a QueryExecution of GetQueryExecution: it has no QueryExecutionId")
    stats = query_execution.get("Statistics") or {}
    return QueryStatistics(
        query_execution_id=query_execution["QueryExecutionId"],
        state=(query_execution.get("Status") or {}).get("State", ""),
        statement_type=query_execution.get("StatementType"),
        data_scanned_bytes=stats.get("DataScannedInBytes"),
        engine_execution_ms=stats.get("EngineExecutionTimeInMillis"),
        total_execution_ms=stats.get("TotalExecutionTimeInMillis"),
        output_location=(query_execution.get("ResultConfiguration") or {}).get("OutputLocation"),
        data_manifest_location=stats.get("DataManifestLocation"),
    )


def run_query(sql: str, *, database: str | None = None, workgroup: str | None = None,
              ctas_approach: bool = False, boto3_session: boto3.Session | None = None) -> QueryResult:
    """Run `sql` on Athena and return its rows as a frame with the query's statistics.

    `ctas_approach=False` (the default) reads the CSV result Athena writes; True wraps the query
    in a CTAS into a temporary table of `database` and reads its Parquet files (faster for large
    results, needs `database`).
    """
    if ctas_approach and not database:
        raise ValueError("ctas_approach=True creates a temporary table: pass the database to create it in")
    import awswrangler as wr  # imported here: it takes a second, and most callers never query

    frame = wr.athena.read_sql_query(
        sql,
        database=database,  # type: ignore[arg-type]  (None: names in `sql` are fully qualified)
        ctas_approach=ctas_approach,
        workgroup=workgroup or _DEFAULT_WORKGROUP,
        boto3_session=boto3_session or default_session(),
    )
    metadata = getattr(frame, "query_metadata", None)
    if metadata is None:
        raise RuntimeError("awswrangler returned no query_metadata with the frame; its version may have changed")
    return QueryResult(frame, statistics_of(metadata))
