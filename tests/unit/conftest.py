"""Unit tests never talk to a local cloud: an endpoint left in the environment by the
integration fixtures (which share one cloud per session) must not reach them, or moto's
in-process mock (mock_aws) would be bypassed."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_local_cloud_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture
def seamed_dynamodb(bare_cloud, monkeypatch: pytest.MonkeyPatch):
    """A DynamoDB client on moto's in-process mock with the dynamodb package's seams applied
    (restored afterwards)."""
    import boto3
    from moto import mock_aws

    from pipeline_lib.localcloud.dynamodb.seams import build_seams

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    seams = build_seams(bare_cloud)
    seams.apply()
    try:
        with mock_aws():
            yield boto3.client("dynamodb", region_name="us-east-1")
    finally:
        seams.restore()
