"""The delivery-drained check: the decision, and the GetMetricData call it makes (Stubber)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from pipeline_lib.lambdas import delivery_monitor as dm

SINCE_MS = 1_772_627_696_789  # 2026-03-04T12:34:56.789Z
NOW_MS = SINCE_MS + 125_000


@pytest.mark.parametrize(
    ("incoming", "read", "delivered", "expected", "drained"),
    [
        (0, 0, 0, 0, True),  # nothing expected, nothing pending
        (0, 0, 0, 10, False),  # the changes have not reached the stream yet
        (9, 9, 9, 10, False),  # one change still on its way to the stream
        (10, 9, 9, 10, False),  # one record still in the source stream
        (10, 10, 9, 10, False),  # one record read but not delivered
        (10, 10, 10, 10, True),
        (12, 12, 12, 10, True),  # duplicates (at-least-once) are fine
        (12, 12, 11, 10, False),  # ... once they are delivered too
        (10, 10, 12, 10, True),  # error-output records also count as delivered
        # Records written just before the seed share its first minute: Firehose's counts reach the
        # expected number, but not what entered the stream in the window.
        (15, 10, 10, 10, False),
        (15, 15, 14, 10, False),
        (15, 15, 15, 10, True),
    ],
)
def test_is_drained(incoming: int, read: int, delivered: int, expected: int, drained: bool) -> None:
    assert dm.is_drained(incoming, read, delivered, expected) is drained


def cloudwatch() -> Any:
    return boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


def expected_request(next_token: str | None = None) -> dict[str, Any]:
    firehose = [{"Name": "DeliveryStreamName", "Value": "cdc-delivery"}]
    kinesis = [{"Name": "StreamName", "Value": "cdc-stream"}]

    def query(query_id: str, namespace: str, metric: str, dims: list[dict[str, str]]) -> dict[str, Any]:
        return {"Id": query_id, "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": metric,
                                                          "Dimensions": dims}, "Period": 60, "Stat": "Sum"},
                "ReturnData": True}

    request = {
        "MetricDataQueries": [
            query("incoming", "AWS/Kinesis", "IncomingRecords", kinesis),
            query("read", "AWS/Firehose", "DataReadFromKinesisStream.Records", firehose),
            query("delivered", "AWS/Firehose", "DeliveryToS3.Records", firehose),
        ],
        "StartTime": datetime(2026, 3, 4, 12, 34, 56, tzinfo=timezone.utc),
        "EndTime": datetime(2026, 3, 4, 12, 38, 1, tzinfo=timezone.utc),  # now + one period
        "ScanBy": "TimestampAscending",
    }
    if next_token:
        request["NextToken"] = next_token
    return request


def page(incoming: list[float], read: list[float], delivered: list[float], token: str | None = None) -> dict[str, Any]:
    def result(query_id: str, values: list[float]) -> dict[str, Any]:
        return {"Id": query_id, "Label": query_id, "Values": values,
                "Timestamps": [datetime(2026, 3, 4, tzinfo=timezone.utc)] * len(values), "StatusCode": "Complete"}

    out: dict[str, Any] = {"MetricDataResults": [
        result("incoming", incoming), result("read", read), result("delivered", delivered)]}
    if token:
        out["NextToken"] = token
    return out


def test_request_shape_and_sums_over_pages() -> None:
    client = cloudwatch()
    with Stubber(client) as stub:
        stub.add_response("get_metric_data", page([600.0], [400.0, 350.0], [300.0], token="t1"), expected_request())
        stub.add_response("get_metric_data", page([400.0], [250.0], [500.0, 200.0]), expected_request("t1"))
        status = dm.delivery_status(client, "cdc-delivery", "cdc-stream", SINCE_MS, 1000, NOW_MS)
        stub.assert_no_pending_responses()
    assert status == dm.DeliveryStatus(drained=True, incoming=1000, read=1000, delivered=1000, expected=1000)


def test_not_drained_while_delivery_lags() -> None:
    client = cloudwatch()
    with Stubber(client) as stub:
        stub.add_response("get_metric_data", page([1000.0], [1000.0], [640.0]), expected_request())
        status = dm.delivery_status(client, "cdc-delivery", "cdc-stream", SINCE_MS, 1000, NOW_MS)
    assert status.to_dict() == {"drained": False, "incoming": 1000, "read": 1000, "delivered": 640, "expected": 1000}


def test_not_drained_while_earlier_records_fill_the_window() -> None:
    """Firehose's counts reach `expected` thanks to records written before the seed; the stream's own
    count of the window shows 40 of them are still to be read."""
    client = cloudwatch()
    with Stubber(client) as stub:
        stub.add_response("get_metric_data", page([1040.0], [1000.0], [1000.0]), expected_request())
        status = dm.delivery_status(client, "cdc-delivery", "cdc-stream", SINCE_MS, 1000, NOW_MS)
    assert status == dm.DeliveryStatus(drained=False, incoming=1040, read=1000, delivered=1000, expected=1000)


def test_no_datapoints_yet_means_zero() -> None:
    client = cloudwatch()
    with Stubber(client) as stub:
        stub.add_response("get_metric_data", {"MetricDataResults": []}, expected_request())
        status = dm.delivery_status(client, "cdc-delivery", "cdc-stream", SINCE_MS, 5, NOW_MS)
    assert (status.drained, status.incoming, status.read, status.delivered) == (False, 0, 0, 0)


def test_a_start_in_the_future_still_makes_a_valid_window() -> None:
    request = dm.metric_data_request("d", "s", NOW_MS, SINCE_MS)  # clock skew: since > now
    assert request["EndTime"] > request["StartTime"]


def test_handler(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    client = cloudwatch()
    monkeypatch.setattr(dm.boto3, "client", lambda name: client if name == "cloudwatch" else None)
    monkeypatch.setattr(dm.time, "time_ns", lambda: NOW_MS * 1_000_000)
    event = {"deliveryStreamName": "cdc-delivery", "streamName": "cdc-stream", "sinceEpochMs": SINCE_MS,
             "expectedRecords": 3}
    with Stubber(client) as stub:
        stub.add_response("get_metric_data", page([3.0], [3.0], [3.0]), expected_request())
        assert dm.handler(event, None) == {"drained": True, "incoming": 3, "read": 3, "delivered": 3, "expected": 3}
    assert '"drained": true' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"streamName": "k", "sinceEpochMs": 1, "expectedRecords": 1}, "deliveryStreamName"),
        ({"deliveryStreamName": "s", "sinceEpochMs": 1, "expectedRecords": 1}, "streamName"),
        ({"deliveryStreamName": "s", "streamName": "", "sinceEpochMs": 1, "expectedRecords": 1}, "streamName"),
        ({"deliveryStreamName": "s", "streamName": "k", "sinceEpochMs": "soon", "expectedRecords": 1}, "sinceEpochMs"),
        ({"deliveryStreamName": "s", "streamName": "k", "sinceEpochMs": 1, "expectedRecords": -1}, "expectedRecords"),
        ({"deliveryStreamName": "s", "streamName": "k", "sinceEpochMs": 1, "expectedRecords": True}, "expectedRecords"),
        ([], "expected an object"),
    ],
)
def test_bad_input_is_explained(event: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dm.handler(event, None)


def test_against_moto_cloudwatch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same query, answered by moto's CloudWatch (in-process): datapoints after `since` count."""
    import moto  # pinned (moto[server]==5.2.5): a test of it never skips
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with moto.mock_aws():
        client = cloudwatch()
        before, after = datetime.fromtimestamp((SINCE_MS - 5_000) / 1000, tz=timezone.utc), \
            datetime.fromtimestamp((SINCE_MS + 30_000) / 1000, tz=timezone.utc)
        firehose = [{"Name": "DeliveryStreamName", "Value": "cdc-delivery"}]
        kinesis = [{"Name": "StreamName", "Value": "cdc-stream"}]
        other = [{"Name": "StreamName", "Value": "other-stream"}]
        for namespace, name, dims, when, value in [
            ("AWS/Kinesis", "IncomingRecords", kinesis, before, 50),
            ("AWS/Kinesis", "IncomingRecords", kinesis, after, 7),
            ("AWS/Kinesis", "IncomingRecords", other, after, 1000),
            ("AWS/Firehose", "DataReadFromKinesisStream.Records", firehose, before, 99),
            ("AWS/Firehose", "DataReadFromKinesisStream.Records", firehose, after, 7),
            ("AWS/Firehose", "DeliveryToS3.Records", firehose, after, 4),
        ]:
            client.put_metric_data(Namespace=namespace, MetricData=[
                {"MetricName": name, "Dimensions": dims, "Timestamp": when, "Value": value, "Unit": "Count"}])
        status = dm.delivery_status(client, "cdc-delivery", "cdc-stream", SINCE_MS, 7, NOW_MS)
    assert status == dm.DeliveryStatus(drained=False, incoming=7, read=7, delivered=4, expected=7)
