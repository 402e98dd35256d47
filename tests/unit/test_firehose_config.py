"""A delivery stream's configuration read from DescribeDeliveryStream's shape (the API reference's
DeliveryStreamDescription), and what the local engine refuses."""
from __future__ import annotations

import copy

import pytest

from pipeline_lib.localcloud.firehose.config import MB, UnsupportedConfiguration, parse_config

ARN = "arn:aws:firehose:us-east-1:123456789012:deliverystream/orders"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/changes"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:enricher:$LATEST"


def description() -> dict:
    return {
        "DeliveryStreamName": "orders",
        "DeliveryStreamARN": ARN,
        "DeliveryStreamType": "KinesisStreamAsSource",
        "VersionId": "3",
        "Source": {"KinesisStreamSourceDescription": {"KinesisStreamARN": STREAM}},
        "Destinations": [{
            "DestinationId": "destinationId-000000000001",
            "ExtendedS3DestinationDescription": {
                "BucketARN": "arn:aws:s3:::lake-bucket",
                "Prefix": "data/orders/day=!{partitionKeyFromQuery:day}/",
                "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
                "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 60},
                "CompressionFormat": "UNCOMPRESSED",
                "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/orders",
                                             "LogStreamName": "DestinationDelivery"},
                "ProcessingConfiguration": {"Enabled": True, "Processors": [
                    {"Type": "RecordDeAggregation", "Parameters": [
                        {"ParameterName": "SubRecordType", "ParameterValue": "JSON"}]},
                    {"Type": "Lambda", "Parameters": [
                        {"ParameterName": "LambdaArn", "ParameterValue": FUNCTION},
                        {"ParameterName": "NumberOfRetries", "ParameterValue": "2"},
                        {"ParameterName": "BufferSizeInMBs", "ParameterValue": "0.5"},
                        {"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "30"}]},
                    {"Type": "MetadataExtraction", "Parameters": [
                        {"ParameterName": "MetadataExtractionQuery", "ParameterValue": "{day: .day}"},
                        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]},
                    {"Type": "AppendDelimiterToRecord", "Parameters": []},
                ]},
                "DynamicPartitioningConfiguration": {"Enabled": True, "RetryOptions": {"DurationInSeconds": 120}},
                "DataFormatConversionConfiguration": {
                    "Enabled": True,
                    "SchemaConfiguration": {"DatabaseName": "lake", "TableName": "orders", "Region": "us-east-1",
                                            "CatalogId": "123456789012", "VersionId": "LATEST"},
                    "InputFormatConfiguration": {"Deserializer": {"HiveJsonSerDe": {}}},
                    "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}},
                },
            },
        }],
    }


def test_every_setting_is_read():
    config = parse_config(description())
    assert (config.name, config.arn, config.version, config.source_stream_arn) == ("orders", ARN, 3, STREAM)
    assert (config.bucket, config.prefix) == ("lake-bucket", "data/orders/day=!{partitionKeyFromQuery:day}/")
    assert config.error_prefix == "errors/!{firehose:error-output-type}/"
    assert (config.buffer_bytes, config.buffer_seconds) == (64 * MB, 60.0)
    assert config.compression == "UNCOMPRESSED"
    assert (config.log_group, config.log_stream) == ("/aws/kinesisfirehose/orders", "DestinationDelivery")
    processor = config.lambda_processor
    assert (processor.arn, processor.retries, processor.buffer_bytes, processor.buffer_seconds) == (
        FUNCTION, 2, MB // 2, 30.0)
    assert config.metadata_query == "{day: .day}"
    assert config.append_delimiter is True
    assert config.deaggregate == {"SubRecordType": "JSON"}
    assert config.dynamic_partitioning is True and config.s3_retry_seconds == 120.0
    conversion = config.conversion
    assert (conversion.database, conversion.table, conversion.region, conversion.catalog_id,
            conversion.version_id) == ("lake", "orders", "us-east-1", "123456789012", "LATEST")
    assert conversion.deserializer == {"HiveJsonSerDe": {}}
    assert conversion.serializer == {"ParquetSerDe": {"Compression": "SNAPPY"}}


def test_aws_defaults_where_a_setting_is_absent():
    d = description()
    s3 = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    for key in ("BufferingHints", "ProcessingConfiguration", "DataFormatConversionConfiguration",
                "CloudWatchLoggingOptions", "ErrorOutputPrefix", "Prefix"):
        del s3[key]
    s3["DynamicPartitioningConfiguration"] = {"Enabled": True}
    d["DeliveryStreamType"] = "DirectPut"
    config = parse_config(d)
    # Firehose developer guide: 5 MiB / 300 s buffering; 300 s of S3 retries with dynamic partitioning.
    assert (config.buffer_bytes, config.buffer_seconds) == (5 * MB, 300.0)
    assert config.s3_retry_seconds == 300.0
    assert config.source_stream_arn is None
    assert (config.lambda_processor, config.metadata_query, config.append_delimiter, config.deaggregate,
            config.conversion, config.log_group, config.error_prefix, config.prefix) == (
        None, None, False, None, None, None, None, "")


def test_disabled_sections_are_ignored():
    d = description()
    s3 = d["Destinations"][0]["ExtendedS3DestinationDescription"]
    s3["ProcessingConfiguration"]["Enabled"] = False
    s3["DataFormatConversionConfiguration"]["Enabled"] = False
    s3["DynamicPartitioningConfiguration"]["Enabled"] = False
    s3["CloudWatchLoggingOptions"]["Enabled"] = False
    config = parse_config(d)
    assert config.lambda_processor is None and config.conversion is None
    assert config.dynamic_partitioning is False and config.s3_retry_seconds is None
    assert config.log_group is None and config.log_stream is None


@pytest.mark.parametrize("change, words", [
    (lambda d: d.update(Destinations=[]), "has no destination"),
    (lambda d: d.update(Destinations=[{"DestinationId": "x", "HttpEndpointDestinationDescription": {}}]),
     "S3 only, not to HttpEndpoint"),
    (lambda d: d["Destinations"][0]["ExtendedS3DestinationDescription"]["ProcessingConfiguration"]["Processors"]
     .append({"Type": "CloudWatchLogProcessing", "Parameters": []}), "'CloudWatchLogProcessing' is not supported"),
    (lambda d: d["Destinations"][0]["ExtendedS3DestinationDescription"]["DataFormatConversionConfiguration"]
     ["OutputFormatConfiguration"].update(Serializer={"OrcSerDe": {}}), "only Parquet output"),
    (lambda d: (d["Destinations"][0]["ExtendedS3DestinationDescription"].pop("DataFormatConversionConfiguration"),
                d["Destinations"][0]["ExtendedS3DestinationDescription"].update(CompressionFormat="Snappy")),
     "CompressionFormat Snappy is not supported"),
])
def test_what_the_engine_cannot_do_is_refused_by_name(change, words):
    d = copy.deepcopy(description())
    change(d)
    with pytest.raises(UnsupportedConfiguration, match=words):
        parse_config(d)
