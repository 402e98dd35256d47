"""Fixtures of the Athena conformance suite (data: athena_conformance_data.py)."""

from __future__ import annotations

import pytest

from athena_conformance_data import build_lake
from pipeline_lib.localcloud.athena.engine.memory import MemoryLake


@pytest.fixture(scope="module")
def lake() -> MemoryLake:
    """Shared by read-only tests of a module."""
    return build_lake()


@pytest.fixture()
def fresh_lake() -> MemoryLake:
    """For tests that write (CTAS, INSERT, UNLOAD, DDL)."""
    return build_lake()
