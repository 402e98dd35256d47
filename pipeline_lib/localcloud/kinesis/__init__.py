"""Kinesis Data Streams: moto's, made correct and fast under concurrency (seams.py, store.py),
plus the in-process reader API other services use (extension.py: `KinesisStore`)."""
from __future__ import annotations

from .extension import KinesisStore, RecordView, ShardNotFound, ShardView, StreamNotFound, extension

__all__ = ["KinesisStore", "RecordView", "ShardNotFound", "ShardView", "StreamNotFound", "extension"]
