"""Helpers the integration tests share: a fresh Kinesis stream, and writers run in parallel."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable


def new_stream(kinesis, shards: int = 2, prefix: str = "stream") -> tuple[str, str]:
    """Create a uniquely named stream; return (name, ARN)."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return name, kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def run_writers(writer: Callable[[int], None], count: int) -> None:
    """Run writer(0..count-1) in parallel threads; re-raise what any of them raised."""
    errors: list[BaseException] = []

    def guarded(t: int) -> None:
        try:
            writer(t)
        except BaseException as exc:  # surfaced below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
