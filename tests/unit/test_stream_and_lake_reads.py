"""pipeline_lib.stream and the lake's readers: decoding change and error records, the delivery
stream's settings, partition grouping, the wait loop, and the S3/Kinesis readers (against moto
in-process)."""
from __future__ import annotations

import base64
import io
import json
from decimal import Decimal

import boto3
import moto
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline_lib import lake, stream
from pipeline_lib.lake import DeliveryTimeout, LakeObject

KEYS = {"PK": {"S": "CUSTOMER#c-000001"}, "SK": {"S": "ORDER#o-0000001"}}
NEW_IMAGE = {
    **KEYS,
    "status": {"S": "PAID"},
    "total": {"N": "28.98"},
    "isActive": {"BOOL": True},
    "couponCode": {"NULL": True},
    "tags": {"SS": ["gift", "new"]},
    "items": {"L": [{"M": {"sku": {"S": "SKU-1"}, "quantity": {"N": "2"}}}]},
    "createdAt": {"S": "2026-08-03T10:01:16.648Z"},
}


def _change(event: str = "INSERT", new: dict | None = NEW_IMAGE, old: dict | None = None) -> dict:
    ddb = {"ApproximateCreationDateTime": 1795777410940, "Keys": KEYS, "SizeBytes": 321}
    if new is not None:
        ddb["NewImage"] = new
    if old is not None:
        ddb["OldImage"] = old
    return {"awsRegion": "us-east-1", "eventID": "e-1", "eventName": event, "recordFormat": "application/json",
            "tableName": "T", "dynamodb": ddb, "eventSource": "aws:dynamodb"}


# -- change records -------------------------------------------------------------------------------
def test_decode_change_reads_bytes_and_text() -> None:
    data = json.dumps(_change()).encode()
    assert stream.decode_change(data)["eventName"] == "INSERT"
    assert stream.decode_change(data.decode())["dynamodb"]["SizeBytes"] == 321


@pytest.mark.parametrize("data, says", [
    (b"{not json", "JSON expected"),
    (b'{"eventName": "INSERT"}', "'eventName' and 'dynamodb'"),
    (b"[1, 2]", "'eventName' and 'dynamodb'"),
])
def test_decode_change_names_what_is_wrong(data: bytes, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        stream.decode_change(data)


def test_plain_image_turns_dynamodb_json_into_python_values() -> None:
    plain = stream.plain_image(NEW_IMAGE)
    assert plain["total"] == Decimal("28.98")
    assert plain["isActive"] is True and plain["couponCode"] is None
    assert plain["tags"] == {"gift", "new"}
    assert plain["items"] == [{"sku": "SKU-1", "quantity": Decimal(2)}]
    assert stream.plain_image(None) == {}


def test_change_summary_of_an_insert() -> None:
    row = stream.change_summary(_change())
    assert row["event"] == "INSERT"
    assert (row["PK"], row["SK"]) == ("CUSTOMER#c-000001", "ORDER#o-0000001")
    assert row["approximate_time"].isoformat() == "2026-11-27T11:03:30.940000+00:00"
    assert (row["has_old_image"], row["has_new_image"]) == (False, True)
    assert row["created_at"] == "2026-08-03T10:01:16.648Z"
    assert row["size_bytes"] == 321


def test_change_summary_of_a_remove_reads_the_old_image() -> None:
    row = stream.change_summary(_change("REMOVE", new=None, old=NEW_IMAGE))
    assert row["event"] == "REMOVE"
    assert (row["has_old_image"], row["has_new_image"]) == (True, False)
    assert row["created_at"] == "2026-08-03T10:01:16.648Z"


def test_error_summary_decodes_the_raw_data() -> None:
    bad = {k: v for k, v in NEW_IMAGE.items() if k != "createdAt"}
    record = {"kind": "processing-failed", "errorCode": "Lambda.ProcessingFailedStatus",
              "errorMessage": "ProcessingFailed status set for record",
              "rawData": base64.b64encode(json.dumps(_change(new=bad)).encode()).decode()}
    row = lake.error_summary(record)
    assert row["kind"] == "processing-failed" and row["error_code"] == "Lambda.ProcessingFailedStatus"
    assert (row["event"], row["SK"], row["created_at"]) == ("INSERT", "ORDER#o-0000001", "(missing)")


def test_error_summary_keeps_a_record_whose_data_is_not_a_change() -> None:
    record = {"kind": "processing-failed", "errorCode": "Lambda.ProcessingFailedStatus",
              "rawData": base64.b64encode(b"plain text").decode()}
    row = lake.error_summary(record)
    assert row["error_code"] == "Lambda.ProcessingFailedStatus" and row["event"] is None


def test_error_summary_reads_a_conversion_failure_s_last_error() -> None:
    # The format-conversion-failed shape of Firehose's developer guide ("Record format conversion
    # error handling"): the reason is in lastErrorCode/lastErrorMessage.
    record = {"kind": "format-conversion-failed", "attemptsMade": 1, "arrivalTimestamp": 1700000000000,
              "lastErrorCode": "DataFormatConversion.MalformedData",
              "lastErrorMessage": "The input record is not valid JSON.",
              "rawData": base64.b64encode(json.dumps(_change(new=NEW_IMAGE)).encode()).decode()}
    row = lake.error_summary(record)
    assert row["error_code"] == "DataFormatConversion.MalformedData"
    assert row["error_message"] == "The input record is not valid JSON."
    assert (row["event"], row["SK"]) == ("INSERT", "ORDER#o-0000001")


# -- delivery stream settings -------------------------------------------------------------------
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Enricher"
DESCRIPTION = {
    "DeliveryStreamName": "cdc-workbench-events",
    "DeliveryStreamType": "KinesisStreamAsSource",
    "Source": {"KinesisStreamSourceDescription": {
        "KinesisStreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/TableStream"}},
    "Destinations": [{
        "DestinationId": "destinationId-000000000001",
        "S3DestinationDescription": {"BucketARN": "arn:aws:s3:::lake"},
        "ExtendedS3DestinationDescription": {
            "BucketARN": "arn:aws:s3:::lake",
            "Prefix": "data/year=!{partitionKeyFromLambda:year}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
            "CompressionFormat": "UNCOMPRESSED",
            "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": LAMBDA_ARN},
                {"ParameterName": "NumberOfRetries", "ParameterValue": "3"}]}]},
            "DataFormatConversionConfiguration": {
                "Enabled": True,
                "SchemaConfiguration": {"DatabaseName": "cdc_lake", "TableName": "cdc_events", "VersionId": "LATEST"},
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {"CaseInsensitive": True}}},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}}},
            "DynamicPartitioningConfiguration": {"Enabled": True, "RetryOptions": {"DurationInSeconds": 300}},
        },
    }],
}


def test_delivery_settings_of_the_stacks_delivery_stream() -> None:
    settings = stream.delivery_settings(DESCRIPTION)
    assert settings == {
        "source": "TableStream",
        "bucket": "lake",
        "prefix": "data/year=!{partitionKeyFromLambda:year}/",
        "error prefix": "errors/!{firehose:error-output-type}/",
        "buffering": "64 MB or 60 s",
        "processors": ["Lambda: LambdaArn=Enricher, NumberOfRetries=3"],
        "dynamic partitioning": "enabled (retry 300 s)",
        "format conversion": "OpenXJsonSerDe -> ParquetSerDe (SNAPPY), columns from Glue table "
                             "cdc_lake.cdc_events (version LATEST)",
        "compression": "UNCOMPRESSED",
    }


def test_delivery_settings_when_processing_and_conversion_are_off() -> None:
    description = json.loads(json.dumps(DESCRIPTION))
    s3 = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    s3["ProcessingConfiguration"]["Enabled"] = False
    del s3["DataFormatConversionConfiguration"], s3["DynamicPartitioningConfiguration"]
    settings = stream.delivery_settings(description)
    assert settings["processors"] == []
    assert settings["format conversion"] == "disabled" and settings["dynamic partitioning"] == "disabled"


def test_delivery_settings_needs_an_extended_s3_destination() -> None:
    with pytest.raises(ValueError, match="no extended S3 destination"):
        stream.delivery_settings({"DeliveryStreamName": "x", "Destinations": [{"HttpEndpointDestinationDescription": {}}]})


# -- partitions -----------------------------------------------------------------------------------
def test_lake_object_partition_from_its_key() -> None:
    dated = LakeObject("data/year=2026/month=08/day=03/f.parquet", 10, 1)
    assert dated.partition == {"year": "2026", "month": "08", "day": "03"}
    assert dated.day == "2026-08-03"
    assert LakeObject("data/f.parquet", 10, 1).partition == {}
    assert LakeObject("data/f.parquet", 10, 1).day == "(unpartitioned)"


def test_partitions_frame_groups_and_sorts_by_day() -> None:
    frame = lake.partitions_frame([
        LakeObject("data/year=2026/month=09/day=01/a.parquet", 100, 3),
        LakeObject("data/year=2026/month=08/day=03/b.parquet", 50, 2),
        LakeObject("data/year=2026/month=09/day=01/c.parquet", 70, 4),
    ])
    assert frame.to_dict("records") == [
        {"year": "2026", "month": "08", "day": "03", "objects": 1, "bytes": 50, "rows": 2},
        {"year": "2026", "month": "09", "day": "01", "objects": 2, "bytes": 170, "rows": 7},
    ]
    assert lake.partitions_frame([]).empty


# -- waiting --------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_until_returns_once_the_count_is_reached() -> None:
    counts = iter([0, 120, 400, 560])
    seen: list[int] = []
    clock = FakeClock()
    assert lake.wait_until(lambda: next(counts), 560, timeout=60, poll=2, on_count=seen.append,
                                 clock=clock, sleep=clock.sleep) == 560
    assert seen == [0, 120, 400, 560] and clock.sleeps == [2, 2, 2]


def test_wait_until_times_out_with_what_landed() -> None:
    clock = FakeClock()
    with pytest.raises(DeliveryTimeout, match="100 of 560 records landed after 5 s"):
        lake.wait_until(lambda: 100, 560, timeout=5, poll=2, clock=clock, sleep=clock.sleep)
    assert clock.now >= 5


def test_wait_until_rejects_a_negative_expectation() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        lake.wait_until(lambda: 0, -1, timeout=1, poll=1)


# -- against moto (in-process) ---------------------------------------------------------------------
@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """moto in this process; any local cloud of the test session is out of the way."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        yield boto3.Session(region_name="us-east-1")


def _parquet(rows: int) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"n": list(range(rows))}), sink)
    return sink.getvalue()


def test_lake_counter_counts_rows_and_errors_reading_each_object_once(aws: boto3.Session) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="data/year=2026/month=08/day=03/a.parquet", Body=_parquet(3))
    s3.put_object(Bucket="lake", Key="errors/processing-failed/year=2026/month=11/day=27/e",
                  Body=b'{"errorCode": "X"}\n{"errorCode": "Y"}\n')
    counter = lake.LakeCounter("lake", boto3_session=aws)
    gets: list[str] = []
    counter._s3.meta.events.register("before-parameter-build.s3.GetObject", lambda params, **_: gets.append(params["Key"]))
    assert counter.landed() == 5
    s3.put_object(Bucket="lake", Key="data/year=2026/month=08/day=04/b.parquet", Body=_parquet(4))
    assert counter.landed() == 9
    assert sorted(gets) == sorted([
        "data/year=2026/month=08/day=03/a.parquet",
        "errors/processing-failed/year=2026/month=11/day=27/e",
        "data/year=2026/month=08/day=04/b.parquet",
    ])
    frame = lake.lake_partitions("lake", boto3_session=aws)
    assert frame[["day", "objects", "rows"]].to_dict("records") == [
        {"day": "03", "objects": 1, "rows": 3}, {"day": "04", "objects": 1, "rows": 4}]


def test_wait_for_lake_returns_what_landed_and_times_out_clearly(aws: boto3.Session) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="lake")
    s3.put_object(Bucket="lake", Key="data/year=2026/month=08/day=03/a.parquet", Body=_parquet(2))
    assert lake.wait_for_lake("lake", 2, timeout=0, progress=False, boto3_session=aws) == 2
    with pytest.raises(DeliveryTimeout, match=r"2 of 3 records landed .* s3://lake/data/"):
        lake.wait_for_lake("lake", 3, timeout=0, poll=0, progress=False, boto3_session=aws)


def test_read_stream_reads_every_shard_from_the_start(aws: boto3.Session) -> None:
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=2)
    changes = [_change(event) for event in ("INSERT", "MODIFY", "REMOVE", "INSERT", "MODIFY")]
    for number, change in enumerate(changes):
        kinesis.put_record(StreamName="s", Data=json.dumps(change).encode(), PartitionKey=f"key-{number}")
    records = stream.read_stream("s", batch=2, boto3_session=aws)
    assert len(records) == 5
    assert len({r["shard"] for r in records}) == 2  # the partition keys spread over both shards
    assert sorted(r["change"]["eventName"] for r in records) == sorted(c["eventName"] for c in changes)
    assert len(stream.read_stream("s", limit=3, batch=2, boto3_session=aws)) == 3
