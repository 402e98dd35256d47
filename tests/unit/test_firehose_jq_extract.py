"""Inline parsing (MetadataExtraction jq query) for dynamic partitioning."""
from __future__ import annotations

import pytest

from pipeline_lib.localcloud.firehose.jq_extract import (
    MetadataExtractionError,
    MetadataExtractor,
    MetadataQueryError,
)

# The guide's sample record (its "#epoch timestamp" comment removed: it is not JSON).
GUIDE_RECORD = b"""{
   "type": {
    "device": "mobile",
    "event": "user_clicked_submit_button"
  },
  "customer_id": "1234567890",
  "event_timestamp": 1565382027,
  "region": "sample_region"
}"""

GUIDE_QUERY = (
    '{customer_id: .customer_id, device: .type.device, year: .event_timestamp| strftime("%Y"), '
    'month: .event_timestamp| strftime("%m"), day: .event_timestamp| strftime("%d"), '
    'hour: .event_timestamp| strftime("%H")}'
)


def test_guide_partitioning_keys():
    keys = MetadataExtractor(GUIDE_QUERY).extract(GUIDE_RECORD)
    assert keys == {"customer_id": "1234567890", "device": "mobile", "year": "2019", "month": "08", "day": "09",
                    "hour": "20"}


@pytest.mark.parametrize(
    "record, expected",
    [
        (b'{"v": 12}', "12"),
        (b'{"v": 1.5}', "1.5"),
        (b'{"v": 2.0}', "2"),
        (b'{"v": true}', "true"),
        (b'{"v": false}', "false"),
        (b'{"v": "caf\\u00e9"}', "caf\u00e9"),
        (b'{"v": -7}', "-7"),
    ],
)
def test_values_become_strings_as_jq_prints_them(record, expected):
    assert MetadataExtractor("{k: .v}").extract(record) == {"k": expected}


@pytest.mark.parametrize(
    "record, message",
    [
        (b'{"other": 1}', "Partition key 'k' evaluated to null"),
        (b'{"v": null}', "Partition key 'k' evaluated to null"),
        (b'{"v": {"a": 1}}', "evaluated to an object"),
        (b'{"v": [1]}', "evaluated to an array"),
        (b"not json", "Non JSON record provided"),
        (b'{"v": 1}{"v": 2}', "Non JSON record provided"),
        (b'{"v": 1}\n{"v": 2}\n', "Non JSON record provided"),
        (b"\xff\xfe\x00", "Non JSON record provided"),
        (b'"just a string"', "Cannot index string"),
    ],
)
def test_failures_are_metadata_extraction_failures(record, message):
    with pytest.raises(MetadataExtractionError, match=message) as info:
        MetadataExtractor("{k: .v}").extract(record)
    assert info.value.code == "DynamicPartitioning.MetadataExtractionFailed"
    assert info.value.output_type == "metadata-extraction-failed"


def test_a_query_that_does_not_produce_an_object():
    with pytest.raises(MetadataExtractionError, match="must produce a JSON object"):
        MetadataExtractor(".v").extract(b'{"v": "x"}')
    with pytest.raises(MetadataExtractionError, match="produced no output"):
        MetadataExtractor("empty").extract(b'{"v": "x"}')


def test_whitespace_around_one_record_is_fine():
    assert MetadataExtractor("{k: .v}").extract(b'  {"v": "x"}\n') == {"k": "x"}


@pytest.mark.parametrize(
    "query, engine, message",
    [
        ("{k: .v", "JQ-1.6", "not a valid jq expression"),
        ("   ", "JQ-1.6", "is empty"),
        ("{k: .v}", "JQ-1.5", "JsonParsingEngine 'JQ-1.5' is not supported"),
    ],
)
def test_invalid_configuration(query, engine, message):
    with pytest.raises(MetadataQueryError, match=message):
        MetadataExtractor(query, engine)


def test_from_processor_parameters():
    extractor = MetadataExtractor.from_parameters({"MetadataExtractionQuery": "{k: .v}", "JsonParsingEngine": "JQ-1.6"})
    assert extractor.extract(b'{"v": "x"}') == {"k": "x"}
    with pytest.raises(MetadataQueryError, match="needs a MetadataExtractionQuery"):
        MetadataExtractor.from_parameters({"JsonParsingEngine": "JQ-1.6"})
