"""The CloudWatch metrics Athena publishes for a finished query when its work group has
PublishCloudWatchMetricsEnabled (namespace AWS/Athena; dimensions QueryState, QueryType,
WorkGroup; times in milliseconds, ProcessedBytes for DML queries). Pure: builds MetricData."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from .executions import Execution

__all__ = ["NAMESPACE", "metric_data"]

NAMESPACE = "AWS/Athena"
QUERY_STATE = {"SUCCEEDED": "SUCCEEDED", "FAILED": "FAILED", "CANCELLED": "CANCELED"}  # CloudWatch's spelling


def metric_data(execution: Execution, state: str) -> list[dict[str, Any]]:
    """`state`: the final state the execution is entering."""
    statistics = execution.statistics()
    dimensions = [{"Name": "QueryState", "Value": QUERY_STATE[state]},
                  {"Name": "QueryType", "Value": execution.statement_type},
                  {"Name": "WorkGroup", "Value": execution.work_group}]
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # moto keeps metric timestamps naive UTC
    values: list[tuple[str, float, str]] = [
        ("EngineExecutionTime", statistics["EngineExecutionTimeInMillis"], "Milliseconds"),
        ("QueryPlanningTime", statistics["QueryPlanningTimeInMillis"], "Milliseconds"),
        ("QueryQueueTime", statistics["QueryQueueTimeInMillis"], "Milliseconds"),
        ("ServicePreProcessingTime", statistics["ServicePreProcessingTimeInMillis"], "Milliseconds"),
        ("ServiceProcessingTime", statistics["ServiceProcessingTimeInMillis"], "Milliseconds"),
        ("TotalExecutionTime", statistics["TotalExecutionTimeInMillis"], "Milliseconds"),
    ]
    if execution.statement_type == "DML":
        values.append(("ProcessedBytes", statistics["DataScannedInBytes"], "Bytes"))
    return [{"MetricName": name, "Dimensions": dimensions, "Timestamp": now, "Value": float(value), "Unit": unit}
            for name, value, unit in values]
