"""pipeline_lib.backend without a cloud: which backend, and what a session carries."""
from __future__ import annotations

import os

import pytest

from pipeline_lib import backend
from pipeline_lib.localcloud import lifecycle


def test_current_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIPELINE_BACKEND", raising=False)
    assert backend.current_backend() == "local"
    monkeypatch.setenv("PIPELINE_BACKEND", "AWS")
    assert backend.current_backend() == "aws"
    assert backend.current_backend("local") == "local"
    with pytest.raises(ValueError, match="PIPELINE_BACKEND"):
        backend.current_backend("azure")


def test_a_local_session_carries_endpoint_credentials_and_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lifecycle, "ensure_running", lambda state_dir=None: "http://127.0.0.1:4599")
    # What the environment says must not matter to the local session's clients.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://elsewhere.invalid:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://elsewhere.invalid:2")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "real-looking-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-looking-secret")
    monkeypatch.setenv("AWS_PROFILE", "a-profile-that-does-not-exist")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    before = dict(os.environ)
    session = backend.connect("local")
    assert dict(os.environ) == before
    assert backend.endpoint_url(session) == "http://127.0.0.1:4599"
    for service in ("s3", "dynamodb", "athena", "stepfunctions"):
        assert session.client(service).meta.endpoint_url == "http://127.0.0.1:4599"
    assert session.resource("dynamodb").meta.client.meta.endpoint_url == "http://127.0.0.1:4599"
    credentials = session.get_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == ("testing", "testing", None)
    assert session.region_name == "eu-west-1"


def test_the_aws_backend_refuses_an_endpoint_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    with pytest.raises(backend.BackendError, match="unset it"):
        backend.connect("aws")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.delenv("AWS_PROFILE", raising=False)  # a developer's profile need not exist here
    assert backend.endpoint_url(backend.connect("aws")) is None


def test_the_default_session_is_kept_per_backend_and_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = {"now": "http://127.0.0.1:4601"}
    monkeypatch.setattr(lifecycle, "ensure_running", lambda state_dir=None: endpoint["now"])
    monkeypatch.setattr(backend, "_cache", {})
    first = backend.session("local")
    assert backend.session("local") is first
    endpoint["now"] = "http://127.0.0.1:4602"  # the cloud came back on another port
    moved = backend.session("local")
    assert moved is not first and backend.endpoint_url(moved) == "http://127.0.0.1:4602"
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assert backend.session("aws") is backend.session("aws")
    assert backend.endpoint_url(backend.session("aws")) is None
