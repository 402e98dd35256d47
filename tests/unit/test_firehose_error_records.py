"""Error records written under the error prefix."""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from pipeline_lib.localcloud.firehose import error_records as er
from pipeline_lib.localcloud.firehose.prefixes import PrefixError, parse_prefix

RAW = b'{"customerId": "c-1"}\n'
RAW_B64 = "eyJjdXN0b21lcklkIjogImMtMSJ9Cg=="
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:enricher"
AUG_27 = datetime(2018, 8, 27, 10, 30, tzinfo=timezone.utc)


def stream_config(**conversion):
    return SimpleNamespace(
        name="cdc",
        arn="arn:aws:firehose:eu-west-1:123456789012:deliverystream/cdc",
        prefix="",
        conversion=SimpleNamespace(**{"database": "lake", "table": "events", "region": None, "catalog_id": None,
                                       "version_id": "LATEST", **conversion}),
        raw={"Destinations": [{"ExtendedS3DestinationDescription": {"DataFormatConversionConfiguration": {
            "SchemaConfiguration": {"RoleARN": "arn:aws:iam::123456789012:role/firehose", "DatabaseName": "lake"}}}}]},
    )


def parse_line(line: bytes) -> dict:
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    return json.loads(line)


def test_processing_failed_record():
    line = er.error_record(output_type="processing-failed", raw_data=RAW, error_code="Lambda.FunctionError",
                           error_message=er.LAMBDA_FUNCTION_ERROR.message, attempts_made=4, arrival_ms=1535365800000,
                           attempt_ending_ms=1535365860123, lambda_arn=LAMBDA)
    record = parse_line(line)
    assert list(record) == ["rawData", "errorCode", "errorMessage", "attemptsMade", "arrivalTimestamp",
                            "attemptEndingTimestamp", "lambdaARN"]
    assert record == {
        "rawData": RAW_B64,
        "errorCode": "Lambda.FunctionError",
        "errorMessage": "The Lambda function was successfully invoked but it returned an error result.",
        "attemptsMade": 4,
        "arrivalTimestamp": 1535365800000,
        "attemptEndingTimestamp": 1535365860123,
        "lambdaARN": LAMBDA,
    }
    assert base64.b64decode(record["rawData"]) == RAW


def test_format_conversion_failed_record_from_the_stream_config():
    line = er.error_record(output_type="format-conversion-failed", raw_data=RAW,
                           error_code="DataFormatConversion.MalformedData",
                           error_message='Data does not match the schema. For input string: "oops"', attempts_made=1,
                           arrival_ms=1, attempt_ending_ms=2, config=stream_config(),
                           sequence_number="4961", subsequence_number=0)
    record = parse_line(line)
    assert record == {
        "attemptsMade": 1,
        "arrivalTimestamp": 1,
        "lastErrorCode": "DataFormatConversion.MalformedData",
        "lastErrorMessage": 'Data does not match the schema. For input string: "oops"',
        "attemptEndingTimestamp": 2,
        "rawData": RAW_B64,
        "sequenceNumber": "4961",
        "subSequenceNumber": 0,
        "dataCatalogTable": {
            "catalogId": "123456789012",
            "databaseName": "lake",
            "tableName": "events",
            "region": "eu-west-1",
            "versionId": "LATEST",
            "roleArn": "arn:aws:iam::123456789012:role/firehose",
            "catalogArn": "arn:aws:glue:eu-west-1:123456789012:catalog",
        },
    }


def test_format_conversion_failed_uses_the_configured_catalog_and_omits_sequence_for_direct_put():
    record = parse_line(er.error_record(
        output_type="format-conversion-failed", raw_data=b"x", error_code="c", error_message="m", attempts_made=1,
        arrival_ms=1, attempt_ending_ms=1, config=stream_config(region="us-west-2", catalog_id="999", version_id="3")))
    assert "sequenceNumber" not in record
    assert record["dataCatalogTable"]["region"] == "us-west-2"
    assert record["dataCatalogTable"]["catalogId"] == "999"
    assert record["dataCatalogTable"]["versionId"] == "3"


def test_partitioning_failure_records():
    for output_type in ("metadata-extraction-failed", "partitioning-failed"):
        record = parse_line(er.error_record(
            output_type=output_type, raw_data=RAW, error_code="DynamicPartitioning.MetadataExtractionFailed",
            error_message="Non JSON record provided", attempts_made=1, arrival_ms=10, attempt_ending_ms=20))
        assert record == {"attemptsMade": 1, "arrivalTimestamp": 10,
                          "errorCode": "DynamicPartitioning.MetadataExtractionFailed",
                          "errorMessage": "Non JSON record provided", "attemptEndingTimestamp": 20, "rawData": RAW_B64}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"output_type": "nope"}, "unknown error output type 'nope'"),
        ({"output_type": "processing-failed"}, "needs the Lambda function's ARN"),
        ({"output_type": "format-conversion-failed"}, "needs catalog_table or the stream's config"),
    ],
)
def test_missing_context_is_an_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        er.error_record(raw_data=b"x", error_code="c", error_message="m", attempts_made=1, arrival_ms=1,
                        attempt_ending_ms=1, **kwargs)


def test_dumps_error_records_is_json_lines():
    body = er.dumps_error_records([{"a": 1, "msg": "naïve"}, {"b": [1, 2]}])
    assert body == '{"a":1,"msg":"naïve"}\n{"b":[1,2]}\n'.encode()
    assert er.dumps_error_records([]) == b""


def test_error_code_catalogue():
    assert er.LAMBDA_MISSING_RECORD_ID.code == "Lambda.MissingRecordId"
    assert er.LAMBDA_DUPLICATED_RECORD_ID.code == "Lambda.DuplicatedRecordId"
    assert er.LAMBDA_JSON_PROCESSING.code == "Lambda.JsonProcessingException"
    assert er.LAMBDA_PROCESSING_FAILED.code == "Lambda.ProcessingFailedStatus"
    assert er.METADATA_EXTRACTION_FAILED_CODE.output_type == "metadata-extraction-failed"
    assert er.CONVERSION_EMPTY_RECORD.message == "The record was empty or contained only whitespace."
    assert er.LAMBDA_NULL_DATA.with_detail("") == (er.LAMBDA_NULL_DATA.code, er.LAMBDA_NULL_DATA.message)
    assert er.LAMBDA_INVALID_RESULT.with_detail("Got 'OK'.")[1].endswith("ProcessingFailed. Got 'OK'.")


# -- where they go ----------------------------------------------------------------------------------


def test_error_prefix_with_expressions():
    prefix = parse_prefix("errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM}/")
    assert er.evaluate_error_prefix(prefix, stream_config(), "format-conversion-failed", AUG_27) == (
        "errors/format-conversion-failed/2018/08/"
    )
    assert er.evaluate_error_prefix("e/!{firehose:error-output-type}/", "ignored", "processing-failed", AUG_27) == (
        "e/processing-failed/"
    )


def test_without_error_prefix_failed_records_go_under_the_prefix():
    assert er.evaluate_error_prefix(None, stream_config(), "processing-failed", AUG_27) == "processing-failed/2018/08/27/10/"
    assert er.evaluate_error_prefix(None, "logs/", "format-conversion-failed", AUG_27) == (
        "logs/format-conversion-failed/2018/08/27/10/"
    )


def test_without_error_prefix_a_prefix_with_expressions_is_refused():
    with pytest.raises(PrefixError, match="can't be null"):
        er.evaluate_error_prefix(None, "y=!{timestamp:yyyy}/", "processing-failed", AUG_27)
