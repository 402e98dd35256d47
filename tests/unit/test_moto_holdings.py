"""`local status`'s counts of what moto holds, read through declared (checked) attributes."""
from __future__ import annotations

import boto3
from moto import mock_aws

from pipeline_lib.localcloud import moto_backends
from pipeline_lib.localcloud.seam import SeamSet


def test_the_attributes_holdings_reads_are_declared_and_match_the_pinned_moto():
    seams = SeamSet("holdings-test")
    moto_backends.declare(seams)
    seams.check()  # raises, naming the attribute, if moto no longer has one
    described = "\n".join(seams.describe())
    for attribute in ("S3Backend.buckets", "DynamoDBBackend.tables", "KinesisBackend.streams",
                      "FirehoseBackend.delivery_streams", "CloudFormationBackend.stacks", "GlueBackend.databases"):
        assert attribute in described


@mock_aws
def test_holdings_counts_what_was_created():
    before = moto_backends.holdings()
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    session.client("s3").create_bucket(Bucket="holdings-a")
    session.client("s3").create_bucket(Bucket="holdings-b")
    session.client("glue").create_database(DatabaseInput={"Name": "holdings_db"})
    after = moto_backends.holdings()
    assert after["s3 buckets"] - before["s3 buckets"] == 2
    assert after["glue databases"] - before["glue databases"] == 1
