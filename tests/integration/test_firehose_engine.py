"""The local Firehose delivery engine, driven through boto3 like a client drives AWS."""
from __future__ import annotations

import base64
import io
import json
import re
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

from pipeline_lib.localcloud import lifecycle

import streams  # tests/integration/streams.py
from pipeline_lib.schema import load_schema

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ROLE = "arn:aws:iam::123456789012:role/firehose-test"
KEY_PATTERN = re.compile(
    r"^(?P<prefix>.*/)(?P<name>[\w.-]+)-(?P<version>\d+)-(?P<stamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?P<ext>\.parquet)?$"
)


def uid() -> str:
    return uuid.uuid4().hex[:8]


def objects(bucket: str, prefix: str = "") -> dict[str, bytes]:
    s3 = boto3.client("s3")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    return out


def error_lines(bucket: str, prefix: str) -> list[dict]:
    return [json.loads(line) for body in objects(bucket, prefix).values() for line in body.splitlines() if line.strip()]


def package(source: str, name: str = "handler.py") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, source)
    return buffer.getvalue()


def create_function(name: str, zip_bytes: bytes, handler: str) -> str:
    iam = boto3.client("iam")
    role = f"lambda-{name}"
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))["Role"]["Arn"]
    return boto3.client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=arn, Handler=handler,
        Code={"ZipFile": zip_bytes}, Timeout=30,
    )["FunctionArn"]


def enricher_zip() -> bytes:
    return package((ROOT / "pipeline_lib" / "lambdas" / "enricher.py").read_text(), "enricher.py")


def flush(local_cloud) -> dict:
    report = lifecycle.flush(local_cloud.endpoint, timeout=120)
    for name, state in report["firehose"].items():
        assert state.get("failure") is None, f"{name}: {state}"
    return report


def ddb_change(event: str, created_at: str | None, order: int, total: str = "12.30") -> bytes:
    image = {
        "PK": {"S": f"CUSTOMER#c-{order % 7}"}, "SK": {"S": f"ORDER#o-{order}"},
        "entityType": {"S": "order"}, "customerId": {"S": f"c-{order % 7}"}, "orderId": {"S": f"o-{order}"},
        "status": {"S": "PAID"}, "total": {"N": total}, "currency": {"S": "EUR"},
        "items": {"L": [{"M": {"sku": {"S": "SKU-1"}, "quantity": {"N": "2"}, "unitPrice": {"N": "6.15"}}}]},
        "giftWrap": {"BOOL": False}, "couponCode": {"NULL": True}, "tags": {"SS": ["web", "promo"]},
    }
    if created_at is not None:
        image["createdAt"] = {"S": created_at}
        image["updatedAt"] = {"S": created_at}
    body = {
        "awsRegion": "us-east-1", "eventID": str(uuid.uuid4()), "eventName": event, "userIdentity": None,
        "recordFormat": "application/json", "tableName": "t", "eventSource": "aws:dynamodb",
        "dynamodb": {"ApproximateCreationDateTime": 1790000000000, "Keys": {"PK": image["PK"], "SK": image["SK"]},
                     ("OldImage" if event == "REMOVE" else "NewImage"): image, "SizeBytes": 300},
    }
    return json.dumps(body).encode()


@pytest.fixture(scope="module")
def lake_table(local_cloud):
    """The project's real lake table (columns from data/schema.json) in a fresh database."""
    schema = load_schema()
    database = f"db_{uid()}"
    glue = boto3.client("glue")
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_table(DatabaseName=database, TableInput={
        "Name": schema.table,
        "TableType": "EXTERNAL_TABLE",
        "PartitionKeys": [{"Name": c.name, "Type": c.type} for c in schema.partition_keys],
        "StorageDescriptor": {"Columns": schema.glue_columns(), "Location": "s3://unused/data/"},
    })
    return database, schema


def kinesis_stream() -> str:
    return streams.new_stream(boto3.client("kinesis"), 2, prefix="src")[1]


def lake_stream(name: str, bucket: str, stream_arn: str, lambda_arn: str, database: str, table: str,
                retries: int = 3) -> None:
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": stream_arn, "RoleARN": ROLE},
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "data/year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/day=!{partitionKeyFromLambda:day}/",
            "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
            "CompressionFormat": "UNCOMPRESSED",
            "DynamicPartitioningConfiguration": {"Enabled": True, "RetryOptions": {"DurationInSeconds": 300}},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": lambda_arn},
                {"ParameterName": "NumberOfRetries", "ParameterValue": str(retries)},
                {"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"},
                {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "60"},
            ]}]},
            "DataFormatConversionConfiguration": {
                "Enabled": True,
                "SchemaConfiguration": {"DatabaseName": database, "TableName": table, "RoleARN": ROLE,
                                        "Region": "us-east-1", "VersionId": "LATEST"},
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}},
            },
        },
    )


def put_kinesis(stream_arn: str, payloads: list[bytes]) -> None:
    kinesis = boto3.client("kinesis")
    for start in range(0, len(payloads), 500):
        chunk = payloads[start:start + 500]
        response = kinesis.put_records(StreamARN=stream_arn, Records=[
            {"Data": p, "PartitionKey": str(i)} for i, p in enumerate(chunk)])
        assert response["FailedRecordCount"] == 0


def test_kinesis_source_enricher_parquet_and_processing_failures(local_cloud, lake_table) -> None:
    database, schema = lake_table
    bucket, name = f"lake-{uid()}", f"fh-{uid()}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    stream_arn = kinesis_stream()
    lambda_arn = create_function(f"enricher-{uid()}", enricher_zip(), "enricher.handler")
    lake_stream(name, bucket, stream_arn, lambda_arn, database, schema.table)

    base = datetime(2026, 10, 1, 8, 0, tzinfo=timezone.utc)
    good = [ddb_change("INSERT" if i % 3 else "MODIFY", (base + timedelta(days=i % 3, minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), i)
            for i in range(60)]
    good.append(ddb_change("REMOVE", "2026-10-02T23:59:59.999Z", 999, total="0.10"))
    bad = [ddb_change("INSERT", None, 1000), ddb_change("INSERT", "not-a-date", 1001), b"{not json"]
    put_kinesis(stream_arn, good + bad)
    # A Kinesis-sourced stream refuses Direct PUT, as AWS does.
    with pytest.raises(boto3.client("firehose").exceptions.InvalidArgumentException):
        boto3.client("firehose").put_record(DeliveryStreamName=name, Record={"Data": b"{}"})
    flush(local_cloud)

    data = objects(bucket, "data/")
    assert {re.match(r"data/(year=\d{4}/month=\d{2}/day=\d{2})/", k).group(1) for k in data} == {
        "year=2026/month=10/day=01", "year=2026/month=10/day=02", "year=2026/month=10/day=03"}
    rows = []
    for key, body in data.items():
        match = KEY_PATTERN.match(key)
        assert match, key
        assert match.group("name") == name and match.group("version") == "1" and match.group("ext") == ".parquet"
        table = pq.read_table(io.BytesIO(body))
        assert table.column_names == schema.column_names(), "Parquet columns are the Glue table's, minus partition keys"
        assert pq.ParquetFile(io.BytesIO(body)).metadata.row_group(0).column(0).compression == "SNAPPY"
        rows.extend(table.to_pylist())
    assert len(rows) == len(good)
    removed = next(r for r in rows if r["order_id"] == "o-999")
    assert removed["cdc_operation"] == "REMOVE" and str(removed["total"]) == "0.10"
    assert {r["cdc_operation"] for r in rows} == {"INSERT", "MODIFY", "REMOVE"}
    assert all(r["tags"] == ["web", "promo"] or sorted(r["tags"]) == ["promo", "web"] for r in rows)

    failures = error_lines(bucket, "errors/processing-failed/")
    assert len(failures) == len(bad)
    assert sorted(base64.b64decode(f["rawData"]) for f in failures) == sorted(bad)
    for failure in failures:
        assert failure["errorCode"] == "Lambda.ProcessingFailedStatus"
        assert failure["attemptsMade"] >= 1
        assert failure.get("lambdaARN", failure.get("lambdaArn")) == lambda_arn
        assert {"arrivalTimestamp", "attemptEndingTimestamp", "errorMessage"} <= set(failure)
    # Counts reconcile exactly: every record is a row or an error record.
    assert len(rows) + len(failures) == len(good) + len(bad)

    # Metrics like AWS's.
    cloudwatch = boto3.client("cloudwatch")
    stats = cloudwatch.get_metric_statistics(
        Namespace="AWS/Firehose", MetricName="DataReadFromKinesisStream.Records",
        Dimensions=[{"Name": "DeliveryStreamName", "Value": name}],
        StartTime=datetime.now(timezone.utc) - timedelta(hours=1), EndTime=datetime.now(timezone.utc) + timedelta(minutes=5),
        Period=3600, Statistics=["Sum"],
    )["Datapoints"]
    assert sum(p["Sum"] for p in stats) == len(good) + len(bad)


FLAKY_HANDLER = '''
import base64, json, os
COUNTER = os.path.join("/tmp", os.environ["COUNTER_NAME"])

def handler(event, context):
    n = int(open(COUNTER).read()) if os.path.exists(COUNTER) else 0
    open(COUNTER, "w").write(str(n + 1))
    if n < int(os.environ["FAILURES"]):
        raise RuntimeError(f"planned failure {n + 1}")
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"],
                         "metadata": {"partitionKeys": {"k": "v"}}} for r in event["records"]]}
'''


def direct_put_lambda_stream(name: str, bucket: str, lambda_arn: str, retries: int) -> None:
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": "out/k=!{partitionKeyFromLambda:k}/", "ErrorOutputPrefix": "err/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": lambda_arn},
                {"ParameterName": "NumberOfRetries", "ParameterValue": str(retries)},
            ]}]},
        },
    )


@pytest.mark.parametrize("failures, retries, delivered", [(2, 3, True), (99, 2, False)])
def test_lambda_invocation_errors_are_retried_then_sent_to_processing_failed(local_cloud, failures, retries, delivered) -> None:
    bucket, name = f"retry-{uid()}", f"fh-{uid()}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    fn = f"flaky-{uid()}"
    lam = boto3.client("lambda")
    arn = create_function(fn, package(FLAKY_HANDLER), "handler.handler")
    lam.update_function_configuration(FunctionName=fn, Environment={"Variables": {"COUNTER_NAME": fn, "FAILURES": str(failures)}})
    direct_put_lambda_stream(name, bucket, arn, retries)
    records = [{"Data": json.dumps({"i": i}).encode()} for i in range(5)]
    boto3.client("firehose").put_record_batch(DeliveryStreamName=name, Records=records)
    flush(local_cloud)

    delivered_bodies = objects(bucket, "out/k=v/")
    errors = error_lines(bucket, "err/processing-failed/")
    if delivered:
        assert b"".join(delivered_bodies.values()).count(b'"i"') == 5
        assert errors == []
    else:
        assert delivered_bodies == {}
        assert len(errors) == 5
        assert {e["attemptsMade"] for e in errors} == {retries + 1}
        assert {e["errorCode"] for e in errors} == {"Lambda.FunctionError"}
        assert sorted(json.loads(base64.b64decode(e["rawData"]))["i"] for e in errors) == list(range(5))


def jq_stream(name: str, bucket: str, prefix: str, query: str, interval: int, append_delimiter: bool = False) -> None:
    """A Direct PUT stream partitioned by a jq MetadataExtraction query."""
    processors = [{"Type": "MetadataExtraction", "Parameters": [
        {"ParameterName": "MetadataExtractionQuery", "ParameterValue": query},
        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]
    if append_delimiter:
        processors.append({"Type": "AppendDelimiterToRecord", "Parameters": []})
    boto3.client("firehose").create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": ROLE, "BucketARN": f"arn:aws:s3:::{bucket}",
            "Prefix": prefix, "ErrorOutputPrefix": "err/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": interval},
            "DynamicPartitioningConfiguration": {"Enabled": True},
            "ProcessingConfiguration": {"Enabled": True, "Processors": processors},
        },
    )


def test_direct_put_with_jq_partition_keys(local_cloud) -> None:
    bucket, name = f"jq-{uid()}", f"fh-{uid()}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    jq_stream(name, bucket, "by-customer/customer=!{partitionKeyFromQuery:customer}/", "{customer: .customer}",
              interval=60, append_delimiter=True)
    records = [{"Data": json.dumps({"customer": c, "n": i}).encode()} for i, c in enumerate("aabbbc")]
    records.append({"Data": b'{"no_customer": true}'})
    response = boto3.client("firehose").put_record_batch(DeliveryStreamName=name, Records=records)
    assert response["FailedPutCount"] == 0 and len(response["RequestResponses"]) == 7
    flush(local_cloud)

    data = objects(bucket, "by-customer/")
    by_customer = {}
    for key, body in data.items():
        customer = re.match(r"by-customer/customer=(\w)/", key).group(1)
        by_customer[customer] = [json.loads(line)["n"] for line in body.splitlines()]
    assert by_customer == {"a": [0, 1], "b": [2, 3, 4], "c": [5]}
    failed = error_lines(bucket, "err/metadata-extraction-failed/")
    assert len(failed) == 1 and base64.b64decode(failed[0]["rawData"]) == b'{"no_customer": true}'
    assert failed[0]["errorCode"] == "DynamicPartitioning.MetadataExtractionFailed"


def test_active_partition_limit(local_cloud) -> None:
    bucket, name = f"lim-{uid()}", f"fh-{uid()}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    jq_stream(name, bucket, "p/k=!{partitionKeyFromQuery:k}/", "{k: .k}", interval=900)
    fh = boto3.client("firehose")
    payloads = [{"Data": json.dumps({"k": i}).encode()} for i in range(505)]
    for start in range(0, len(payloads), 500):
        fh.put_record_batch(DeliveryStreamName=name, Records=payloads[start:start + 500])
    flush(local_cloud)
    assert len(objects(bucket, "p/")) == 500
    exceeded = error_lines(bucket, "err/")
    assert len(exceeded) == 5
    assert {e["errorCode"] for e in exceeded} == {"DynamicPartitioning.ActivePartitionsLimitExceeded"}


def test_invalid_prefixes_are_refused_at_creation(local_cloud) -> None:
    fh = boto3.client("firehose")
    name = f"bad-{uid()}"
    with pytest.raises(fh.exceptions.InvalidArgumentException):
        fh.create_delivery_stream(
            DeliveryStreamName=name, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": ROLE, "BucketARN": "arn:aws:s3:::whatever",
                "Prefix": "x/!{partitionKeyFromQuery:k}/",  # dynamic keys need an error prefix
                "DynamicPartitioningConfiguration": {"Enabled": True},
            },
        )
    assert name not in fh.list_delivery_streams()["DeliveryStreamNames"]
