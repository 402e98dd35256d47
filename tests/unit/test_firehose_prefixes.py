"""Firehose S3 prefix expressions: parsing, evaluation, CreateDeliveryStream rules.

Cases marked "guide" are the examples of the Firehose developer guide ("Custom prefixes for
Amazon S3 objects", "Dynamic partitioning") with the instants their outputs imply.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pipeline_lib.localcloud.firehose.prefixes import (
    DEFAULT_PREFIX_PATTERN,
    JavaDateFormat,
    PartitionKeyMissing,
    PatternError,
    PrefixError,
    PrefixTooLong,
    default_prefix,
    parse_prefix,
    random_string,
    validate_delivery_prefixes,
)

AUG_27_1030 = datetime(2018, 8, 27, 10, 30, tzinfo=timezone.utc)


def evaluate(template: str, when: datetime = AUG_27_1030, keys: dict[str, str] | None = None, **kw) -> str:
    return parse_prefix(template).evaluate(arrival=when, partition_keys=keys or {}, **kw)


# -- the guide's examples -------------------------------------------------------------------------


def test_guide_unspecified_prefix_is_the_default_time_prefix():
    assert evaluate("") == "2018/08/27/10/"
    assert DEFAULT_PREFIX_PATTERN == "yyyy/MM/dd/HH/"
    assert default_prefix(AUG_27_1030) == "2018/08/27/10/"


def test_guide_error_prefix_with_error_output_type():
    error = parse_prefix("myFirehoseFailures/!{firehose:error-output-type}/")
    assert error.evaluate_error(arrival=AUG_27_1030, error_output_type="processing-failed") == (
        "myFirehoseFailures/processing-failed/"
    )


def test_guide_expressions_in_prefix_need_an_error_prefix():
    with pytest.raises(PrefixError, match="ErrorOutputPrefix can't be null when Prefix contains expressions"):
        validate_delivery_prefixes("!{timestamp:yyyy/MM/dd}", None, False)


def test_guide_random_string_and_timestamps():
    prefix = "myFirehose/DeliveredYear=!{timestamp:yyyy}/anyMonth/rand=!{firehose:random-string}"
    assert evaluate(prefix, random_string=lambda: "5abf82daaa5") == "myFirehose/DeliveredYear=2018/anyMonth/rand=5abf82daaa5"
    error = parse_prefix("myFirehoseFailures/!{firehose:error-output-type}/!{timestamp:yyyy}/anyMonth/!{timestamp:dd}")
    aug_10 = datetime(2018, 8, 10, 3, tzinfo=timezone.utc)
    assert error.evaluate_error(arrival=aug_10, error_output_type="processing-failed") == (
        "myFirehoseFailures/processing-failed/2018/anyMonth/10"
    )


def test_guide_hive_style_prefix_and_quoted_error_prefix():
    july_6_23h = datetime(2018, 7, 6, 23, 5, tzinfo=timezone.utc)
    prefix = "myPrefix/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    assert evaluate(prefix, july_6_23h) == "myPrefix/year=2018/month=07/day=06/hour=23/"
    error = parse_prefix("myErrorPrefix/!{timestamp:'year='yyyy'/month='MM'/day='dd'/hour='HH}/!{firehose:error-output-type}")
    assert error.evaluate_error(arrival=july_6_23h, error_output_type="processing-failed") == (
        "myErrorPrefix/year=2018/month=07/day=06/hour=23/processing-failed"
    )


def test_guide_prefix_without_expressions_gets_the_time_appended_by_concatenation():
    # The guide's table shows "myFirehosePrefix/2018/08/27/", contradicting its own rule (append
    # !{timestamp:yyyy/MM/dd/HH/}); the service concatenates without inserting a slash.
    assert evaluate("myFirehosePrefix") == "myFirehosePrefix2018/08/27/10/"
    assert evaluate("logs/") == "logs/2018/08/27/10/"


def test_guide_error_output_type_in_a_path():
    aug_3 = datetime(2018, 8, 3, tzinfo=timezone.utc)
    error = parse_prefix("myPrefix/result=!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}")
    assert error.evaluate_error(arrival=aug_3, error_output_type="processing-failed") == (
        "myPrefix/result=processing-failed/2018/08/03"
    )


def test_guide_dynamic_partitioning_prefix():
    prefix = (
        "customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/"
        "year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/day=!{partitionKeyFromQuery:day}/"
        "hour=!{partitionKeyFromQuery:hour}/"
    )
    keys = {"customer_id": "1234567890", "device": "mobile", "year": "2019", "month": "08", "day": "09", "hour": "20"}
    assert evaluate(prefix, keys=keys) == "customer_id=1234567890/device=mobile/year=2019/month=08/day=09/hour=20/"
    assert parse_prefix(prefix).partition_key_names == ("customer_id", "device", "year", "month", "day", "hour")


def test_athena_guide_prefix_mixing_timestamps_and_partition_keys():
    nov_1 = datetime(2021, 11, 1, 8, tzinfo=timezone.utc)
    prefix = "prefix/!{timestamp:yyyy}-!{timestamp:MM}-!{timestamp:dd}/!{partitionKeyFromQuery:customer_id}/"
    assert evaluate(prefix, nov_1, {"customer_id": "customer-1234"}) == "prefix/2021-11-01/customer-1234/"


def test_quoted_separators_in_one_timestamp_expression():
    assert evaluate("dt=!{timestamp:yyyy'-'MM'-'dd}/h=!{timestamp:HH}/") == "dt=2018-08-27/h=10/"


def test_every_timestamp_instance_is_the_same_instant_in_utc():
    tokyo = timezone(timedelta(hours=9))
    when = datetime(2018, 8, 28, 0, 30, tzinfo=tokyo)  # 2018-08-27 15:30 UTC
    assert evaluate("!{timestamp:yyyy}/!{timestamp:dd}/!{timestamp:HH}/!{timestamp:yyyy-MM-dd HH}", when) == (
        "2018/27/15/2018-08-27 15"
    )


def test_random_string_is_eleven_characters_and_new_per_instance():
    first, second = evaluate("!{firehose:random-string}/!{firehose:random-string}/").split("/")[:2]
    assert len(first) == len(second) == 11
    assert first != second
    assert len(random_string()) == 11


# -- Java DateTimeFormatter letters ---------------------------------------------------------------

WHEN = datetime(2024, 3, 5, 7, 8, 9, 123456, tzinfo=timezone.utc)  # a Tuesday, day 65 of the year
LATE = datetime(2024, 11, 25, 23, 59, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "pattern, when, expected",
    [
        ("yyyy", WHEN, "2024"),
        ("yy", WHEN, "24"),
        ("y", WHEN, "2024"),
        ("uuuu", WHEN, "2024"),
        ("MM", WHEN, "03"),
        ("M", WHEN, "3"),
        ("M", LATE, "11"),
        ("MMM", WHEN, "Mar"),
        ("MMMM", WHEN, "March"),
        ("dd", WHEN, "05"),
        ("d", WHEN, "5"),
        ("D", WHEN, "65"),
        ("DDD", WHEN, "065"),
        ("HH", WHEN, "07"),
        ("H", WHEN, "7"),
        ("HH", LATE, "23"),
        ("hh a", LATE, "11 PM"),
        ("h a", WHEN, "7 AM"),
        ("kk", datetime(2024, 1, 1, 0, tzinfo=timezone.utc), "24"),
        ("mm", WHEN, "08"),
        ("ss", WHEN, "09"),
        ("SSS", WHEN, "123"),
        ("S", WHEN, "1"),
        ("SSSSSSSSS", WHEN, "123456000"),
        ("E", WHEN, "Tue"),
        ("EEEE", WHEN, "Tuesday"),
        ("Q", LATE, "4"),
        ("QQQ", WHEN, "Q1"),
        ("G", WHEN, "AD"),
        ("X", WHEN, "Z"),
        ("xxx", WHEN, "+00:00"),
        ("Z", WHEN, "+0000"),
        ("yyyy-MM-dd'T'HH:mm:ss", WHEN, "2024-03-05T07:08:09"),
        ("'year='yyyy'/'", WHEN, "year=2024/"),
        ("'o''clock' HH", WHEN, "o'clock 07"),
        ("''yyyy''", WHEN, "'2024'"),
        ("yyyy[/MM]", WHEN, "2024/03"),
        ("yyyy/MM/dd/HH/", WHEN, "2024/03/05/07/"),
    ],
)
def test_pattern_letters(pattern, when, expected):
    assert JavaDateFormat(pattern).format(when) == expected


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("yyyy-MM-ddTHH", "unknown pattern letter 'T'"),
        ("ww", "not supported"),
        ("zzz", "not supported"),
        ("ddd", "too many pattern letters"),
        ("HHH", "too many pattern letters"),
        ("MMMMMM", "too many pattern letters"),
        ("yyyy#", "reserved character"),
        ("'unclosed", "incomplete string literal"),
        ("yyyy]", "without a previous"),
        ("", "pattern is required"),
    ],
)
def test_pattern_errors(pattern, message):
    with pytest.raises(PatternError, match=message):
        JavaDateFormat(pattern)


# -- parsing errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template, message",
    [
        ("data/!{timestamp:yyyy", "no closing"),
        ("data/!{", "no closing"),
        ("!{timestamp:yyyy/!{timestamp:MM}", "not closed before the next"),
        ("!{timestamp}", "must have the form"),
        ("!{Timestamp:yyyy}", "Unknown namespace 'Timestamp'"),
        ("!{foo:bar}/", "Unknown namespace 'foo'"),
        ("!{firehose:uuid}", "Invalid value 'uuid' for the firehose namespace"),
        ("!{timestamp:}", "Invalid timestamp pattern"),
        ("!{timestamp:yyyy-MM-ddTHH}", "unknown pattern letter 'T'"),
        ("!{partitionKeyFromQuery:}", "Invalid partition key name"),
        ("!{partitionKeyFromLambda:a b}", "Invalid partition key name"),
    ],
)
def test_invalid_expressions(template, message):
    with pytest.raises(PrefixError, match=message):
        parse_prefix(template)


def test_a_template_longer_than_the_api_allows():
    with pytest.raises(PrefixError, match="at most 1024"):
        parse_prefix("a" * 1025)


def test_a_lone_exclamation_mark_or_brace_is_literal():
    assert evaluate("a!b}{/!{timestamp:yyyy}") == "a!b}{/2018"


def test_introspection():
    prefix = parse_prefix(
        "t=!{partitionKeyFromLambda:t}/c=!{partitionKeyFromQuery:c}/!{partitionKeyFromLambda:t}/!{timestamp:yyyy}"
    )
    assert prefix.has_expressions and prefix.uses_partition_keys and prefix.uses_timestamp
    assert not prefix.uses_error_output_type
    assert prefix.partition_key_names == ("t", "c")
    assert prefix.lambda_key_names == ("t",)
    assert prefix.query_key_names == ("c",)
    assert [str(e) for e in prefix.expressions][:2] == ["!{partitionKeyFromLambda:t}", "!{partitionKeyFromQuery:c}"]
    assert str(parse_prefix("plain/")) == "plain/" and not parse_prefix("plain/").has_expressions


# -- evaluation errors --------------------------------------------------------------------------------


def test_a_missing_partition_key_names_it():
    prefix = parse_prefix("year=!{partitionKeyFromLambda:year}/month=!{partitionKeyFromLambda:month}/")
    with pytest.raises(PartitionKeyMissing) as info:
        prefix.evaluate(arrival=AUG_27_1030, partition_keys={"year": "2024"})
    assert info.value.key == "month" and info.value.namespace == "partitionKeyFromLambda"
    assert info.value.code == "DynamicPartitioning.PartitionKeyMissing"
    assert "keys present: year" in str(info.value)


def test_error_output_type_only_evaluates_for_failed_records():
    with pytest.raises(PrefixError, match="only an ErrorOutputPrefix"):
        evaluate("x/!{firehose:error-output-type}/")
    assert evaluate("x/!{firehose:error-output-type}/", error_output_type="format-conversion-failed") == (
        "x/format-conversion-failed/"
    )


def test_error_prefix_without_expressions_gets_type_and_time():
    assert parse_prefix("errors/").evaluate_error(arrival=AUG_27_1030, error_output_type="processing-failed") == (
        "errors/processing-failed/2018/08/27/10/"
    )
    assert parse_prefix("").evaluate_error(arrival=AUG_27_1030, error_output_type="format-conversion-failed") == (
        "format-conversion-failed/2018/08/27/10/"
    )


def test_evaluated_prefix_longer_than_512_characters_fails():
    prefix = parse_prefix("k=!{partitionKeyFromLambda:k}/")
    assert len(prefix.evaluate(arrival=AUG_27_1030, partition_keys={"k": "v" * 509})) == 512
    with pytest.raises(PrefixTooLong, match="at most 512"):
        prefix.evaluate(arrival=AUG_27_1030, partition_keys={"k": "v" * 510})


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate("!{timestamp:yyyy}", datetime(2018, 8, 27))


# -- CreateDeliveryStream rules -----------------------------------------------------------------------

DP_PREFIX = "data/year=!{partitionKeyFromLambda:year}/"
DP_ERRORS = "errors/!{firehose:error-output-type}/"


def test_valid_configurations():
    assert validate_delivery_prefixes(None, None, False).error_prefix is None
    assert validate_delivery_prefixes("logs/", None, False).prefix.template == "logs/"
    assert validate_delivery_prefixes("logs/", "errors/", False).error_prefix.template == "errors/"
    both = validate_delivery_prefixes(DP_PREFIX, DP_ERRORS, True, has_lambda=True)
    assert both.prefix.lambda_key_names == ("year",)
    assert both.error_prefix.uses_error_output_type


@pytest.mark.parametrize(
    "prefix, error_prefix, dynamic, extra, message",
    [
        ("a/!{firehose:error-output-type}/", DP_ERRORS, False, {}, "Prefix can't contain"),
        ("!{timestamp:yyyy}/", "errors/!{timestamp:yyyy}/", False, {}, "must include at least one instance"),
        ("!{timestamp:yyyy}/", "", False, {}, "can't be null when Prefix contains expressions"),
        (DP_PREFIX, None, True, {}, "ErrorOutputPrefix must be specified"),
        ("", DP_ERRORS, True, {}, "a Prefix using partition keys must be specified"),
        ("data/!{timestamp:yyyy}/", DP_ERRORS, True, {}, "uses no !{partitionKeyFromQuery"),
        (DP_PREFIX, DP_ERRORS, False, {}, "requires DynamicPartitioningConfiguration.Enabled"),
        (DP_PREFIX, "e/!{firehose:error-output-type}/!{partitionKeyFromLambda:year}/", True, {}, "can't use partitionKey"),
        (DP_PREFIX, DP_ERRORS, True, {"has_lambda": False}, "no Lambda processor"),
        ("c=!{partitionKeyFromQuery:c}/", DP_ERRORS, True, {"has_metadata_extraction": False}, "no MetadataExtraction"),
        ("!{nope:x}", DP_ERRORS, False, {}, "Unknown namespace"),
    ],
)
def test_rejected_configurations(prefix, error_prefix, dynamic, extra, message):
    with pytest.raises(PrefixError, match=message.replace("{", r"\{").replace("(", r"\(")):
        validate_delivery_prefixes(prefix, error_prefix, dynamic, **extra)
