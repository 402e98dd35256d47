"""Test support: the engine's in-memory lake builder (pipeline_lib/localcloud/athena/engine/memory.py)."""

from pipeline_lib.localcloud.athena.engine.memory import (  # noqa: F401
    CSV, JSON, PARQUET, MemoryLake as Lake, json_bytes, parquet_bytes,
)
