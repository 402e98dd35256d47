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

__all__ = [
    "CDC_EVENTS_KEY", "QueryResult", "QueryStatistics", "create_current_state_view", "current_state_sql",
    "run_ddl", "run_query", "statistics_of",
]

# The columns that identify an item of the workbench's cdc_events table (its PK/SK are not lake
# columns): a customer by customer_id, an order by order_id (entity_type tells them apart).
CDC_EVENTS_KEY = ("entity_type", "customer_id", "order_id")

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


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def current_state_sql(table: str, key_columns: "list[str] | tuple[str, ...]", *, database: str | None = None,
                      as_of: str | None = None) -> str:
    """The current state of a change-log table in Athena SQL: per key, the latest change (by
    cdc_event_time), and nothing for a key whose latest change is a REMOVE.

    At-least-once delivery can land one change twice (same cdc_event_id); both copies rank for the
    same key and only one is kept, so duplicates never show. Changes in the same millisecond are
    ordered REMOVE last, then MODIFY, then INSERT (the usual order of one item's life), then by
    cdc_event_id so the answer is the same on every run. `as_of` ('2026-03-04 12:00:00', UTC)
    gives the state at that time: only changes up to it count.
    """
    if not key_columns:
        raise ValueError("key_columns: name the columns that identify an item (e.g. query.CDC_EVENTS_KEY)")
    source = f"{_quote(database)}.{_quote(table)}" if database else _quote(table)
    keys = ", ".join(_quote(k) for k in key_columns)
    where = f"\n    WHERE cdc_event_time <= TIMESTAMP '{as_of}'" if as_of else ""
    return (
        "SELECT * FROM (\n"
        "    SELECT *, row_number() OVER (\n"
        f"        PARTITION BY {keys}\n"
        "        ORDER BY cdc_event_time DESC,\n"
        "                 CASE cdc_operation WHEN 'REMOVE' THEN 3 WHEN 'MODIFY' THEN 2 ELSE 1 END DESC,\n"
        "                 cdc_event_id DESC\n"
        f"    ) AS change_rank\n    FROM {source}{where}\n"
        ") AS ranked\n"
        "WHERE change_rank = 1 AND cdc_operation <> 'REMOVE'"
    )


def run_ddl(sql: str, *, database: str | None = None, workgroup: str | None = None,
            boto3_session: boto3.Session | None = None) -> QueryStatistics:
    """Run a statement that returns no rows (CREATE VIEW, DROP TABLE, ...) and wait for it;
    its statistics. Raises awswrangler's QueryFailed with Athena's reason."""
    import awswrangler as wr

    session = boto3_session or default_session()
    query_id = wr.athena.start_query_execution(sql, database=database, workgroup=workgroup or _DEFAULT_WORKGROUP,
                                               boto3_session=session)
    execution = wr.athena.wait_query(query_id, boto3_session=session)
    return statistics_of(execution)


def create_current_state_view(database: str, table: str, key_columns: "list[str] | tuple[str, ...]",
                              view: str | None = None, *, workgroup: str | None = None,
                              boto3_session: boto3.Session | None = None) -> str:
    """CREATE OR REPLACE VIEW `<table>_current` (or `view`) in `database` over `current_state_sql`;
    its name. The view drops the ranking column, so it has the table's columns."""
    view = view or f"{table}_current"
    ranked = current_state_sql(table, key_columns, database=database)
    columns = _table_columns(database, table, boto3_session or default_session())
    select = ", ".join(_quote(c) for c in columns)
    sql = f"CREATE OR REPLACE VIEW {_quote(database)}.{_quote(view)} AS\nSELECT {select} FROM (\n{ranked}\n) AS current_rows"
    run_ddl(sql, database=database, workgroup=workgroup, boto3_session=boto3_session)
    return view


def _table_columns(database: str, table: str, session: boto3.Session) -> list[str]:
    described = session.client("glue").get_table(DatabaseName=database, Name=table)["Table"]
    return [c["Name"] for c in described["StorageDescriptor"]["Columns"] + described.get("PartitionKeys", [])]
