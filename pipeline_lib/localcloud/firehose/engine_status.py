"""What a delivery engine counts beyond its CloudWatch metrics, and the status it reports
(`python -m pipeline_lib local status`, the bench): pure."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import StreamConfig
from .metrics import StreamMetrics

__all__ = ["EngineCounters", "stream_status"]


@dataclass
class EngineCounters:
    busy_seconds: float = 0.0  # time spent moving records (throughput = records / busy)
    # Record format conversion: its wall time (overlapping the Lambda processor's when batches
    # follow each other) and the CPU time it took (in the conversion workers when the cloud has
    # them, else in this process).
    conversion_seconds: float = 0.0
    conversion_cpu_seconds: float = 0.0
    parquet_seconds: float = 0.0  # writing buffers as Parquet (in a conversion worker when the cloud has them)
    s3_failures: int = 0  # failed S3 PutObject attempts (each retried or ended as s3_delivery says)
    lost_records: int = 0  # records whose S3 delivery failed for Firehose's 24 hours


def stream_status(config: StreamConfig, metrics: StreamMetrics, counters: EngineCounters, *,
                  pending: int, open_partitions: int, held: int, failure: str | None) -> dict[str, Any]:
    totals = metrics.totals
    return {
        "source": config.source_stream_arn or "DirectPut",
        "pending": pending,
        "open_partitions": open_partitions,
        "delivered_records": int(totals.get("DeliveryToS3.Records", 0)),
        "objects": int(totals.get("DeliveryToS3.ObjectCount", 0)),
        "records_in": int(totals.get("DataReadFromKinesisStream.Records", 0) + totals.get("IncomingRecords", 0)),
        "busy_seconds": round(counters.busy_seconds, 3),
        "lambda_seconds": round(totals.get("ExecuteProcessing.Duration", 0) / 1000, 3),
        "conversion_seconds": round(counters.conversion_seconds, 3),
        "conversion_cpu_seconds": round(counters.conversion_cpu_seconds, 3),
        "parquet_seconds": round(counters.parquet_seconds, 3),
        "held_records": held,
        "s3_failures": counters.s3_failures,
        "lost_records": counters.lost_records,
        "failure": failure,
    }
