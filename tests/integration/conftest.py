"""Fixtures of the integration tests: the CDK app deployed once per session into the shared local
cloud (`deployed_stack`), for the deploy tests and the data-plane tests."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from pipeline_lib import deploy
from pipeline_lib.localcloud import lifecycle

# A small data set keeps synth and deploy quick (the app's defaults are for the workbench).
DEPLOY_CONTEXT = {"items": "200", "updates": "20", "deletes": "5"}


@pytest.fixture(scope="session")
def deployed_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's deploy synthesized the app (the cloud assembly directory)."""
    return tmp_path_factory.mktemp("cdk-out")


@pytest.fixture(scope="session")
def deployed_stack(local_cloud: lifecycle.Running, deployed_assembly: Path) -> dict[str, str]:
    """The CdcWorkbench stack deployed from infra/ (DEPLOY_CONTEXT) into the session's local cloud;
    its outputs. Tests may add data but must leave the stack itself as they found it."""
    return deploy.deploy(
        backend="local",
        context=DEPLOY_CONTEXT,
        out_dir=deployed_assembly,
        boto3_session=boto3.Session(region_name="us-east-1"),
        progress=False,
    )


@pytest.fixture(scope="session")
def deploy_context() -> dict[str, str]:
    """The CDK context of the session's deploy."""
    return dict(DEPLOY_CONTEXT)


@pytest.fixture
def second_cloud(tmp_path: Path, local_cloud: lifecycle.Running) -> Iterator[boto3.Session]:
    """Another local cloud, for tests that must destroy what the shared one keeps: while the test
    runs, AWS clients created in this process reach it; the shared cloud again afterwards."""
    state_dir = tmp_path / "second-cloud"
    running = lifecycle.up(port=0, state_dir=str(state_dir))
    saved = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = running.endpoint
    try:
        yield boto3.Session(region_name="us-east-1")
    finally:
        if saved is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = saved
        lifecycle.down(str(state_dir))
