"""Shared fixtures. Integration tests share one local cloud per session (started here, on a free
port and a temporary state dir, so a developer's own cloud is never touched)."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from pipeline_lib.localcloud import lifecycle


# The shared cloud is thrown away after the session: its periodic state saves would only cost
# time (tests/integration/test_durable_state.py sets its own interval for the clouds it restarts).
os.environ.setdefault("PIPELINE_STATE_INTERVAL", "0")


@pytest.fixture(scope="session")
def local_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[lifecycle.Running]:
    """A running local cloud; AWS clients in this process point at it while the session lasts."""
    state_dir = tmp_path_factory.mktemp("workbench-state")
    running = lifecycle.up(port=0, state_dir=str(state_dir))
    saved = {k: os.environ.get(k) for k in (*lifecycle.client_env(running.endpoint), "AWS_PROFILE", "AWS_SESSION_TOKEN")}
    os.environ.update(lifecycle.client_env(running.endpoint))
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    try:
        yield running
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        lifecycle.down(str(state_dir))


@pytest.fixture(scope="session")
def boto_session(local_cloud: lifecycle.Running):
    import boto3

    return boto3.Session(region_name="us-east-1")


@pytest.fixture
def bare_cloud(tmp_path):
    """A LocalCloud with no extensions and no server: what a service's `build_seams(cloud)`
    closes over, for checking and applying seams in process."""
    from pipeline_lib.localcloud.cloud import LocalCloud

    return LocalCloud("127.0.0.1", 1, str(tmp_path), extension_modules=())
