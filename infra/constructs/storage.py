"""Buckets: raw (the data set), lake (Parquet, errors, Athena results) and their access logs."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge


def _bucket(scope: Construct, id_: str, **kwargs) -> s3.Bucket:
    # DESTROY without auto_delete_objects: auto-delete adds a Node.js custom resource the local
    # cloud would have to run. `python -m pipeline_lib destroy` empties the buckets itself.
    return s3.Bucket(
        scope,
        id_,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        **kwargs,
    )


class Storage(Construct):
    """Three private, encrypted, TLS-only buckets; CloudFormation names them."""

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        abort_uploads = s3.LifecycleRule(
            id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=cdk.Duration.days(1)
        )
        self.access_logs = _bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=cdk.Duration.days(30))],
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the server-access-log bucket of the raw and lake buckets; logging it into "
            "itself would log its own log deliveries.",
        )
        self.raw = _bucket(
            self,
            "Raw",
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="raw/",
            lifecycle_rules=[abort_uploads],
        )
        self.lake = _bucket(
            self,
            "Lake",
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="lake/",
            lifecycle_rules=[abort_uploads],
        )
