"""Test support: the engine's in-memory lake builder (pipeline_lib/localcloud/athena/engine/memory.py)."""

from pipeline_lib.localcloud.athena.engine.memory import (
    CSV, JSON, PARQUET, MemoryLake as Lake, json_bytes, parquet_bytes,
)

__all__ = ["CSV", "JSON", "PARQUET", "Lake", "json_bytes", "parquet_bytes"]
