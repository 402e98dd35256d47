"""Unit tests never talk to a local cloud: an endpoint left in the environment by the
integration fixtures (which share one cloud per session) must not reach them, or moto's
in-process mock (mock_aws) would be bypassed."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_local_cloud_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
