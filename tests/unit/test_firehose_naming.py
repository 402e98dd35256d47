"""S3 object names of Firehose deliveries."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from pipeline_lib.localcloud.firehose.naming import default_extension, object_key, validate_file_extension

WHEN = datetime(2019, 8, 9, 23, 55, 9, tzinfo=timezone.utc)


def test_guide_object_name():
    # Dynamic partitioning guide: s3://my-logs-prod/customer_id=.../hour=20/my-delivery-stream-2019-08-09-23-55-09-<uuid>
    key = object_key("customer_id=1234567890/device=mobile/year=2019/month=08/day=09/hour=20/", "my-delivery-stream", 1,
                     WHEN, "", uid="a9fa96af-e4e4-409f-bac3-1f804714faaa")
    assert key == (
        "customer_id=1234567890/device=mobile/year=2019/month=08/day=09/hour=20/"
        "my-delivery-stream-1-2019-08-09-23-55-09-a9fa96af-e4e4-409f-bac3-1f804714faaa"
    )


def test_default_uid_is_a_uuid4_and_extension_is_appended():
    key = object_key("2019/08/09/23/", "cdc-stream", 3, WHEN, ".parquet")
    assert re.fullmatch(
        r"2019/08/09/23/cdc-stream-3-2019-08-09-23-55-09-"
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.parquet",
        key,
    ), key
    assert key != object_key("2019/08/09/23/", "cdc-stream", 3, WHEN, ".parquet")


def test_time_is_written_in_utc():
    tokyo = WHEN.astimezone(timezone(timedelta(hours=9)))
    assert object_key("", "s", 1, tokyo, ".gz", uid="u") == "s-1-2019-08-09-23-55-09-u.gz"


@pytest.mark.parametrize(
    "args, message",
    [
        (("p/", "bad name!", 1, WHEN, ""), "invalid delivery stream name"),
        (("p/", "", 1, WHEN, ""), "invalid delivery stream name"),
        (("p/", "s", 0, WHEN, ""), "starts at 1"),
        (("p/", "s", True, WHEN, ""), "starts at 1"),
        (("p/", "s", 1, datetime(2019, 8, 9), ""), "timezone-aware"),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        object_key(*args)


@pytest.mark.parametrize(
    "compression, kwargs, expected",
    [
        ("UNCOMPRESSED", {}, ""),
        ("GZIP", {}, ".gz"),
        ("ZIP", {}, ".zip"),
        ("Snappy", {}, ".snappy"),
        ("HADOOP_SNAPPY", {}, ".snappy"),
        ("UNCOMPRESSED", {"parquet": True}, ".parquet"),
        ("UNCOMPRESSED", {"orc": True}, ".orc"),
    ],
)
def test_default_extensions(compression, kwargs, expected):
    assert default_extension(compression, **kwargs) == expected


def test_unknown_compression():
    with pytest.raises(ValueError, match="unknown CompressionFormat 'LZ4'"):
        default_extension("LZ4")


@pytest.mark.parametrize("extension", ["", ".parquet", ".custom.log", ".a-b_c!*'()"])
def test_valid_file_extensions(extension):
    assert validate_file_extension(extension) == extension


@pytest.mark.parametrize("extension", ["parquet", ".Parquet", ". gz", "." + "a" * 128, ".a/b"])
def test_invalid_file_extensions(extension):
    with pytest.raises(ValueError, match="FileExtension"):
        validate_file_extension(extension)
