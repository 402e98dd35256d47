"""Firehose metrics, accumulated per stream and published to the local CloudWatch under
`AWS/Firehose` with the `DeliveryStreamName` dimension, as AWS publishes them."""
from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Callable

NAMESPACE = "AWS/Firehose"

# metric name -> unit (names as in the Firehose developer guide's metrics tables)
UNITS = {
    "IncomingRecords": "Count",
    "IncomingBytes": "Bytes",
    "IncomingPutRequests": "Count",
    "DataReadFromKinesisStream.Records": "Count",
    "DataReadFromKinesisStream.Bytes": "Bytes",
    "KinesisMillisBehindLatest": "Milliseconds",
    "ExecuteProcessing.Duration": "Milliseconds",
    "ExecuteProcessing.Success": "None",
    "SucceedProcessing.Records": "Count",
    "SucceedProcessing.Bytes": "Bytes",
    "SucceedConversion.Records": "Count",
    "SucceedConversion.Bytes": "Bytes",
    "FailedConversion.Records": "Count",
    "FailedConversion.Bytes": "Bytes",
    "PartitionCount": "Count",
    "PartitionCountExceeded": "Count",
    "DeliveryToS3.Records": "Count",
    "DeliveryToS3.Bytes": "Bytes",
    "DeliveryToS3.Success": "None",
    "DeliveryToS3.DataFreshness": "Seconds",
    "DeliveryToS3.ObjectCount": "Count",
}

# Gauges are published as the last value; everything else sums over the period.
GAUGES = {"KinesisMillisBehindLatest", "PartitionCount", "DeliveryToS3.DataFreshness", "ExecuteProcessing.Success", "DeliveryToS3.Success"}


class StreamMetrics:
    def __init__(self, stream_name: str, publish: Callable[[str, list[dict[str, Any]]], None]):
        self.stream_name = stream_name
        self._publish = publish
        self._lock = threading.Lock()
        self._sums: dict[str, float] = defaultdict(float)
        self._gauges: dict[str, float] = {}
        self.totals: dict[str, float] = defaultdict(float)  # since the engine started, for status()

    def add(self, name: str, value: float) -> None:
        if name not in UNITS:
            raise KeyError(f"unknown Firehose metric {name}")
        with self._lock:
            if name in GAUGES:
                self._gauges[name] = value
            else:
                self._sums[name] += value
            self.totals[name] = value if name in GAUGES else self.totals[name] + value

    def publish(self) -> None:
        with self._lock:
            values = {**self._sums, **self._gauges}
            self._sums.clear()
            self._gauges.clear()
        if not values:
            return
        # moto keeps metric timestamps naive (UTC), like its own HTTP path stores them.
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        data = [
            {
                "MetricName": name,
                "Dimensions": [{"Name": "DeliveryStreamName", "Value": self.stream_name}],
                "Timestamp": now,
                "Value": float(value),
                "Unit": UNITS[name],
            }
            for name, value in sorted(values.items())
        ]
        self._publish(NAMESPACE, data)
