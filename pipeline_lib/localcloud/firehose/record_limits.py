"""Firehose's record size limit on PutRecord / PutRecordBatch, refused with the service's own
validation message: 1,000 KiB (1,024,000 bytes) per record before base64-encoding, reported as
`Value 'java.nio.HeapByteBuffer[pos=0 lim=N cap=N]' at 'record.data' ...` (PutRecord) or at
`'records.<i>.member.data'` (PutRecordBatch, 1-based), every offending record listed."""
from __future__ import annotations

import base64
from typing import Any, Iterable

MAX_RECORD_BYTES = 1_024_000


def _size(record: Any) -> int:
    data = (record or {}).get("Data", b"") if isinstance(record, dict) else b""
    if isinstance(data, str):
        return len(base64.b64decode(data))
    return len(data)


def size_errors(located: Iterable[tuple[str, Any]]) -> str | None:
    """The ValidationException message for the records over the limit, or None."""
    problems = [
        f"Value 'java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]' at '{where}' failed to satisfy constraint: "
        f"Member must have length less than or equal to {MAX_RECORD_BYTES}"
        for where, record in located
        if (n := _size(record)) > MAX_RECORD_BYTES
    ]
    if not problems:
        return None
    count = len(problems)
    return f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems)


def put_record_errors(record: Any) -> str | None:
    return size_errors([("record.data", record)])


def put_record_batch_errors(records: list[Any]) -> str | None:
    return size_errors((f"records.{i}.member.data", r) for i, r in enumerate(records or [], start=1))
