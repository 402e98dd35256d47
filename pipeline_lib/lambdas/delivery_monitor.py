"""Step Functions helper: has the delivery stream drained since a moment?

Sums two Firehose metrics in CloudWatch since `sinceEpochMs`: records read from the Kinesis source
(`DataReadFromKinesisStream.Records`) and records delivered to S3 (`DeliveryToS3.Records`, which
counts error-output records too). The stream has drained when it has read at least the expected
number of records and delivered at least as many as it read. The state machine polls this in a
Wait/Choice loop instead of waiting fixed minutes.

Caveat: CloudWatch rounds a recent StartTime down to the whole minute, so records of an earlier
run in the same minute can be counted; give runs distinct minutes when counts must be exact.
Stdlib + boto3 only: this file is deployed as is.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import boto3

NAMESPACE = "AWS/Firehose"
READ_METRIC = "DataReadFromKinesisStream.Records"
DELIVERED_METRIC = "DeliveryToS3.Records"
PERIOD_SECONDS = 60
QUERY_IDS = {"read": READ_METRIC, "delivered": DELIVERED_METRIC}


@dataclass(frozen=True)
class DeliveryStatus:
    drained: bool
    read: int
    delivered: int
    expected: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_drained(read: int, delivered: int, expected: int) -> bool:
    """All expected records were read from the source, and everything read was delivered."""
    return read >= expected and delivered >= read


def metric_data_request(stream_name: str, since_epoch_ms: int, now_epoch_ms: int) -> dict[str, Any]:
    """GetMetricData arguments summing both metrics from `since_epoch_ms` to a minute past now."""
    start = datetime.fromtimestamp(since_epoch_ms // 1000, tz=timezone.utc)
    # A minute past now (and past the start): the current, still-filling period is included.
    end = datetime.fromtimestamp(max(now_epoch_ms, since_epoch_ms) // 1000 + PERIOD_SECONDS, tz=timezone.utc)
    dimensions = [{"Name": "DeliveryStreamName", "Value": stream_name}]
    return {
        "MetricDataQueries": [
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
                    "Period": PERIOD_SECONDS,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            }
            for query_id, metric in QUERY_IDS.items()
        ],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }


def sum_results(pages: list[dict[str, Any]]) -> dict[str, int]:
    """Total of each query's values over all GetMetricData pages."""
    totals = {query_id: 0.0 for query_id in QUERY_IDS}
    for page in pages:
        for result in page.get("MetricDataResults", []):
            if result.get("Id") in totals:
                totals[result["Id"]] += sum(result.get("Values", []))
    return {query_id: int(round(total)) for query_id, total in totals.items()}


def delivery_status(
    cloudwatch: Any, stream_name: str, since_epoch_ms: int, expected: int, now_epoch_ms: int
) -> DeliveryStatus:
    request = metric_data_request(stream_name, since_epoch_ms, now_epoch_ms)
    pages = []
    while True:
        page = cloudwatch.get_metric_data(**request)
        pages.append(page)
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    totals = sum_results(pages)
    return DeliveryStatus(
        drained=is_drained(totals["read"], totals["delivered"], expected),
        read=totals["read"],
        delivered=totals["delivered"],
        expected=expected,
    )


def parse_event(event: Any) -> tuple[str, int, int]:
    if not isinstance(event, dict):
        raise ValueError("expected an object {deliveryStreamName, sinceEpochMs, expectedRecords}")
    name, since, expected = (event.get(k) for k in ("deliveryStreamName", "sinceEpochMs", "expectedRecords"))
    if not isinstance(name, str) or not name:
        raise ValueError("deliveryStreamName must be the delivery stream's name")
    if isinstance(since, bool) or not isinstance(since, (int, float)) or since < 0:
        raise ValueError("sinceEpochMs must be epoch milliseconds (e.g. the seeder's startedAt)")
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise ValueError("expectedRecords must be a non-negative integer (changes written to the table)")
    return name, int(since), expected


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry point: {deliveryStreamName, sinceEpochMs, expectedRecords} -> {drained, read, delivered, expected}."""
    name, since, expected = parse_event(event)
    status = delivery_status(boto3.client("cloudwatch"), name, since, expected, time.time_ns() // 1_000_000)
    print(json.dumps({"level": "INFO", "message": "delivery status", "deliveryStreamName": name, **status.to_dict()}))
    return status.to_dict()
