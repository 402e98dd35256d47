"""PIPELINE_FIREHOSE_BUFFERING: Firehose buffer intervals on the time scale, or as configured."""
from __future__ import annotations

import pytest

from pipeline_lib.localcloud.cloud import LocalCloud


def cloud(tmp_path, **kwargs) -> LocalCloud:
    return LocalCloud("127.0.0.1", 1, str(tmp_path), extension_modules=(), **kwargs)


def test_scaled_is_the_default_and_follows_the_time_scale(tmp_path):
    local = cloud(tmp_path, time_scale=0.05)
    assert local.buffering == "scaled"
    assert local.buffer_wait(60) == pytest.approx(3.0)  # 60 s x 0.05


def test_aws_runs_the_configured_interval(tmp_path):
    local = cloud(tmp_path, time_scale=0.05, buffering="aws")
    assert local.buffer_wait(60) == 60
    assert local.scaled(60) == pytest.approx(3.0)  # other managed-service waits stay scaled
    assert local.status()["buffering"] == "aws"


def test_an_unknown_mode_says_what_to_set(tmp_path):
    with pytest.raises(ValueError, match="PIPELINE_FIREHOSE_BUFFERING must be one of scaled, aws"):
        cloud(tmp_path, buffering="fast")
