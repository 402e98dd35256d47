"""Step Functions helper: has the delivery stream drained since a moment?

Sums three CloudWatch metrics over one window, from `sinceEpochMs` to a minute past now: records
that entered the source Kinesis stream (`AWS/Kinesis` `IncomingRecords`), records Firehose read
from it (`AWS/Firehose` `DataReadFromKinesisStream.Records`) and records it delivered to S3
(`DeliveryToS3.Records`, which counts error-output records too). The stream has drained when at
least the expected records entered the stream, and everything that entered was read and everything
read was delivered. The state machine polls this in a Wait/Choice loop instead of fixed minutes.

Why three like windows: CloudWatch rounds a recent StartTime down to the whole minute, so the
window also holds records written shortly before the seed. Comparing Firehose's counts with the
expected count alone would let those stand in for the seed's own; comparing them with what entered
the stream in the same window does not.

Remaining limit: records put to the stream before the window's first minute but read inside it
count as read without counting as incoming, so they can still make up for records of the window
that are not read yet. Give runs distinct minutes, with the previous one drained, when that matters.
Stdlib + boto3 only: this file is deployed as is.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import boto3

PERIOD_SECONDS = 60
# Query id -> (namespace, metric, dimension naming the resource: "stream" or "delivery").
QUERIES = {
    "incoming": ("AWS/Kinesis", "IncomingRecords", "stream"),
    "read": ("AWS/Firehose", "DataReadFromKinesisStream.Records", "delivery"),
    "delivered": ("AWS/Firehose", "DeliveryToS3.Records", "delivery"),
}
DIMENSION_NAMES = {"stream": "StreamName", "delivery": "DeliveryStreamName"}
EVENT_FIELDS = "{deliveryStreamName, streamName, sinceEpochMs, expectedRecords}"


@dataclass(frozen=True)
class DeliveryStatus:
    drained: bool
    incoming: int
    read: int
    delivered: int
    expected: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_drained(incoming: int, read: int, delivered: int, expected: int) -> bool:
    """The expected records entered the stream, all that entered were read, all read were delivered."""
    return incoming >= expected and read >= incoming and delivered >= read


def metric_data_request(
    delivery_stream_name: str, stream_name: str, since_epoch_ms: int, now_epoch_ms: int
) -> dict[str, Any]:
    """GetMetricData arguments summing every query of QUERIES over one window: since -> a minute past now."""
    start = datetime.fromtimestamp(since_epoch_ms // 1000, tz=timezone.utc)
    # A minute past now (and past the start): the current, still-filling period is included.
    end = datetime.fromtimestamp(max(now_epoch_ms, since_epoch_ms) // 1000 + PERIOD_SECONDS, tz=timezone.utc)
    names = {"stream": stream_name, "delivery": delivery_stream_name}
    return {
        "MetricDataQueries": [
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": metric,
                        "Dimensions": [{"Name": DIMENSION_NAMES[resource], "Value": names[resource]}],
                    },
                    "Period": PERIOD_SECONDS,
                    "Stat": "Sum",
                },
                "ReturnData": True,
            }
            for query_id, (namespace, metric, resource) in QUERIES.items()
        ],
        "StartTime": start,
        "EndTime": end,
        "ScanBy": "TimestampAscending",
    }


def sum_results(pages: list[dict[str, Any]]) -> dict[str, int]:
    """Total of each query's values over all GetMetricData pages."""
    totals = {query_id: 0.0 for query_id in QUERIES}
    for page in pages:
        for result in page.get("MetricDataResults", []):
            if result.get("Id") in totals:
                totals[result["Id"]] += sum(result.get("Values", []))
    return {query_id: int(round(total)) for query_id, total in totals.items()}


def delivery_status(
    cloudwatch: Any, delivery_stream_name: str, stream_name: str, since_epoch_ms: int, expected: int,
    now_epoch_ms: int,
) -> DeliveryStatus:
    request = metric_data_request(delivery_stream_name, stream_name, since_epoch_ms, now_epoch_ms)
    pages = []
    while True:
        page = cloudwatch.get_metric_data(**request)
        pages.append(page)
        if not page.get("NextToken"):
            break
        request["NextToken"] = page["NextToken"]
    totals = sum_results(pages)
    return DeliveryStatus(drained=is_drained(**totals, expected=expected), **totals, expected=expected)


def parse_event(event: Any) -> tuple[str, str, int, int]:
    """(deliveryStreamName, streamName, sinceEpochMs, expectedRecords) of a valid event."""
    if not isinstance(event, dict):
        raise ValueError(f"expected an object {EVENT_FIELDS}")
    fields = ("deliveryStreamName", "streamName", "sinceEpochMs", "expectedRecords")
    delivery_name, stream_name, since, expected = (event.get(k) for k in fields)
    if not isinstance(delivery_name, str) or not delivery_name:
        raise ValueError("deliveryStreamName must be the delivery stream's name")
    if not isinstance(stream_name, str) or not stream_name:
        raise ValueError("streamName must be the name of the Kinesis stream the delivery stream reads")
    if isinstance(since, bool) or not isinstance(since, (int, float)) or since < 0:
        raise ValueError("sinceEpochMs must be epoch milliseconds (e.g. the seeder's startedAt)")
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise ValueError("expectedRecords must be a non-negative integer (changes written to the table)")
    return delivery_name, stream_name, int(since), expected


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Lambda entry point: EVENT_FIELDS -> {drained, incoming, read, delivered, expected}."""
    delivery_name, stream_name, since, expected = parse_event(event)
    status = delivery_status(
        boto3.client("cloudwatch"), delivery_name, stream_name, since, expected, time.time_ns() // 1_000_000
    )
    print(json.dumps({"level": "INFO", "message": "delivery status", "deliveryStreamName": delivery_name,
                      "streamName": stream_name, **status.to_dict()}))
    return status.to_dict()
