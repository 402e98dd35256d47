"""Validation of a transformation Lambda's response."""
from __future__ import annotations

import base64
import json

import pytest

from pipeline_lib.localcloud.firehose.processor_response import (
    LambdaResponseError,
    ProcessedRecord,
    validate_lambda_response,
)

IDS = ["49546986683135544286507457936321625675700192471156785154", "49546986683135544286507457936321625675700192471156785155"]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def response(*records: dict) -> bytes:
    return json.dumps({"records": list(records)}).encode()


def ok(record_id: str, data: bytes = b"{}", **extra) -> dict:
    return {"recordId": record_id, "result": "Ok", "data": b64(data), **extra}


def test_ok_records_in_request_order():
    out = validate_lambda_response(IDS, response(ok(IDS[1], b"two"), ok(IDS[0], b"one")), False)
    assert out == [ProcessedRecord(IDS[0], "Ok", b"one"), ProcessedRecord(IDS[1], "Ok", b"two")]
    assert out[0].ok


def test_dropped_and_processing_failed():
    out = validate_lambda_response(IDS, response({"recordId": IDS[0], "result": "Dropped"},
                                                 {"recordId": IDS[1], "result": "ProcessingFailed", "data": b64(b"x")}), False)
    assert out[0] == ProcessedRecord(IDS[0], "Dropped")
    assert (out[1].result, out[1].error_code, out[1].error_message, out[1].error_output_type) == (
        "ProcessingFailed", "Lambda.ProcessingFailedStatus", "ProcessingFailed status set for record", "processing-failed")


def test_guide_lambda_example_output_with_partition_keys():
    # The shape of the guide's Python example: recordId, data, result, metadata.partitionKeys.
    keys = {"customerId": "c-1", "year": "2019", "month": "08", "date": "09", "hour": "20", "minute": "53"}
    out = validate_lambda_response(IDS[:1], response({"recordId": IDS[0], "data": b64(b'{"a":1}'), "result": "Ok",
                                                      "metadata": {"partitionKeys": keys}}), True)
    assert out == [ProcessedRecord(IDS[0], "Ok", b'{"a":1}', keys)]


def test_a_missing_record_id_fails_that_record_only():
    out = validate_lambda_response(IDS, response(ok(IDS[0])), False)
    assert out[0].result == "Ok"
    assert (out[1].result, out[1].error_code) == ("ProcessingFailed", "Lambda.MissingRecordId")
    assert out[1].error_message == (
        "One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids."
    )


def test_a_duplicated_record_id_fails_that_record_only():
    out = validate_lambda_response(IDS, response(ok(IDS[0]), ok(IDS[0]), ok(IDS[1])), False)
    assert (out[0].result, out[0].error_code) == ("ProcessingFailed", "Lambda.DuplicatedRecordId")
    assert out[1].result == "Ok"


def test_unknown_record_ids_are_ignored():
    out = validate_lambda_response(IDS, response(ok(IDS[0]), ok(IDS[1]), ok("not-sent")), False)
    assert [r.result for r in out] == ["Ok", "Ok"]


def test_a_response_without_records_leaves_every_record_missing():
    for payload in (b"{}", b'{"records": "nope"}', b"[]", b"null", b'{"records": [{"result": "Ok"}, 5]}'):
        out = validate_lambda_response(IDS, payload, False)
        assert [r.error_code for r in out] == ["Lambda.MissingRecordId"] * 2, payload


def test_a_payload_that_is_not_json_fails_the_invocation():
    with pytest.raises(LambdaResponseError) as info:
        validate_lambda_response(IDS, b"Task timed out after 3.00 seconds", False)
    assert info.value.code == "Lambda.JsonProcessingException"
    assert "There was an error parsing returned records from the Lambda function" in info.value.message


@pytest.mark.parametrize(
    "entry, code, text",
    [
        ({"result": "OK", "data": b64(b"x")}, "Lambda.InvalidReturnFormat", "Got 'OK'"),
        ({"data": b64(b"x")}, "Lambda.InvalidReturnFormat", "Got None"),
        ({"result": "Ok"}, "Lambda.InvalidReturnFormat", "The data field cannot be null"),
        ({"result": "Ok", "data": None}, "Lambda.InvalidReturnFormat", "The data field cannot be null"),
        ({"result": "Ok", "data": {"a": 1}}, "Lambda.InvalidReturnFormat", "Got a JSON dict"),
        ({"result": "Ok", "data": "not base64!"}, "Lambda.InvalidReturnFormat", "must be base64-encoded"),
    ],
)
def test_invalid_entries_fail_their_record(entry, code, text):
    out = validate_lambda_response(IDS[:1], response({"recordId": IDS[0], **entry}), False)
    assert (out[0].result, out[0].error_code, out[0].error_output_type) == ("ProcessingFailed", code, "processing-failed")
    assert text in out[0].error_message


def test_empty_data_is_an_empty_record():
    assert validate_lambda_response(IDS[:1], response(ok(IDS[0], b"")), False)[0].data == b""


def test_without_dynamic_partitioning_metadata_is_ignored():
    out = validate_lambda_response(IDS[:1], response(ok(IDS[0], metadata={"partitionKeys": {"y": 1}})), False)
    assert out[0] == ProcessedRecord(IDS[0], "Ok", b"{}", {})


@pytest.mark.parametrize(
    "metadata, code, text",
    [
        (None, "DynamicPartitioning.PartitionKeyMissing", "returned no metadata.partitionKeys"),
        ({}, "DynamicPartitioning.PartitionKeyMissing", "returned no metadata.partitionKeys"),
        ({"partitionKeys": {}}, "DynamicPartitioning.PartitionKeyMissing", "returned no metadata.partitionKeys"),
        ({"partitionKeys": {"year": 2024}}, "DynamicPartitioning.InvalidPartitionKeys", "year have non-string values"),
        ({"partitionKeys": ["2024"]}, "DynamicPartitioning.InvalidPartitionKeys", "partitionKeys is a JSON list"),
        ("year=2024", "DynamicPartitioning.InvalidPartitionKeys", "metadata is a JSON str"),
    ],
)
def test_dynamic_partitioning_needs_string_partition_keys(metadata, code, text):
    entry = ok(IDS[0]) if metadata is None else ok(IDS[0], metadata=metadata)
    out = validate_lambda_response(IDS[:1], response(entry), True)
    assert (out[0].result, out[0].error_code, out[0].error_output_type) == ("ProcessingFailed", code, "partitioning-failed")
    assert text in out[0].error_message


def test_required_partition_keys():
    entry = ok(IDS[0], metadata={"partitionKeys": {"year": "2024"}})
    assert validate_lambda_response(IDS[:1], response(entry), True, required_partition_keys=("year",))[0].ok
    missing = validate_lambda_response(IDS[:1], response(entry), True, required_partition_keys=("year", "month"))[0]
    assert missing.error_code == "DynamicPartitioning.PartitionKeyMissing"
    assert "Missing from metadata.partitionKeys: month." in missing.error_message
    # Keys that come from a MetadataExtraction query instead: nothing is required from the Lambda.
    assert validate_lambda_response(IDS[:1], response(ok(IDS[0])), True, required_partition_keys=())[0].ok
