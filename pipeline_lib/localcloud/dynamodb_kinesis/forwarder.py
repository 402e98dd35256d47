"""An ordered queue of captured changes and the thread that appends them to Kinesis in-process.

Changes enter in commit order (writers enqueue while holding the table's lock) and one thread
takes them in that order, so the records of one item reach their shard in commit order.
"""
from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from .models import Change, build_record, encode_record, partition_key

log = logging.getLogger("pipeline_lib.localcloud.dynamodb_kinesis")

MAX_RECORDS_PER_PUT = 500  # Kinesis PutRecords limits
MAX_BYTES_PER_PUT = 5 * 1024 * 1024
MAX_RECORD_BYTES = 1024 * 1024

PutRecords = Callable[[str, Sequence[tuple[str, bytes]]], object]

# Back-off of a throttled put (ProvisionedThroughputExceededException): DynamoDB's streaming
# destination retries until Kinesis takes the records (its ThrottledPutRecordCount metric).
THROTTLE_BACKOFF_SECONDS = (0.01, 0.02, 0.05, 0.1, 0.2)

# eventIDs: random version-4 UUIDs from a generator seeded once from os.urandom. uuid.uuid4() reads
# os.urandom per record, which releases the GIL, and in a busy server the forwarder then waits for
# it again on every record. Event IDs need uniqueness, not cryptographic strength.
_random = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(32)))
_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)  # version 4, RFC 4122 variant


def event_id() -> str:
    """A random version-4 UUID in its canonical text form."""
    h = f"{(_random.getrandbits(128) & _VERSION_MASK) | _VERSION_BITS:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class ChangeQueue:
    """FIFO with back-pressure and delivery accounting (accepted / finished)."""

    def __init__(self, max_size: int):
        self._items: deque[Change] = deque()
        self._max = max_size
        self._cond = threading.Condition()
        self._closed = False
        self._taken: list[Change] = []  # handed to the forwarder, not yet finished (saved state)
        self.accepted = 0
        self.finished = 0

    def put(self, changes: Sequence[Change]) -> None:
        with self._cond:
            while len(self._items) >= self._max and not self._closed:
                self._cond.wait()  # back-pressure: writers wait for the forwarder
            was_empty = not self._items
            self._items.extend(changes)
            self.accepted += len(changes)
            if was_empty:  # only an empty queue has the forwarder waiting
                self._cond.notify_all()

    def take(self, max_items: int, timeout: float, linger: float = 0.0) -> list[Change]:
        """Up to `max_items` changes, oldest first; waits `timeout` for the first one, then up to
        `linger` for more, so a busy table is forwarded in batches rather than one call per change."""
        with self._cond:
            if not self._items and not self._closed:
                self._cond.wait(timeout)
            if not self._items:
                return []
            short = len(self._items) < max_items
        if short and linger > 0:
            time.sleep(linger)  # not cond.wait: every put would wake it again
        with self._cond:
            batch = [self._items.popleft() for _ in range(min(max_items, len(self._items)))]
            self._taken.extend(batch)
            self._cond.notify_all()  # room for writers held back
            return batch

    def finish(self, n: int) -> None:
        with self._cond:
            del self._taken[:n]
            self.finished += n
            self._cond.notify_all()

    def drained(self, timeout: float) -> bool:
        """True once everything accepted before the call has been finished."""
        with self._cond:
            target = self.accepted
            return self._cond.wait_for(lambda: self.finished >= target, timeout=max(0.0, timeout))

    def unfinished(self) -> list[Change]:
        """Every change accepted and not yet finished, oldest first (what a saved state keeps:
        a change being forwarded may also reach Kinesis, a duplicate, never a loss)."""
        with self._cond:
            return [*self._taken, *self._items]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def depth(self) -> int:
        return len(self._items)


class Forwarder:
    """Drains a ChangeQueue into Kinesis through `put_records(stream_arn, [(partition_key, data)])`."""

    def __init__(self, queue: ChangeQueue, put_records: PutRecords, batch_size: int = 2000, linger: float = 0.01):
        self.queue = queue
        self._put_records = put_records
        self._batch_size = batch_size
        self._linger = linger
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.forwarded = 0
        self.undeliverable = 0
        self.throttled = 0  # puts Kinesis refused with ProvisionedThroughputExceededException (retried)
        self._warned: set[str] = set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="dynamodb-kinesis-forwarder", daemon=True)
            self._thread.start()

    def stop(self, timeout: float) -> None:
        self.queue.drained(timeout)
        self._stop.set()
        self.queue.close()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self.queue.take(self._batch_size, timeout=0.5, linger=self._linger)
            if not batch:
                continue
            try:
                self.deliver(batch)
            except Exception:  # never let the thread die: count and go on
                log.exception("forwarding %d change(s) failed", len(batch))
                self.undeliverable += len(batch)
            finally:
                self.queue.finish(len(batch))

    def deliver(self, batch: Sequence[Change]) -> None:
        """Append `batch` in order: consecutive changes for one stream go in PutRecords-sized chunks."""
        run: list[tuple[str, bytes]] = []
        run_stream: str | None = None
        run_bytes = 0
        for change in batch:
            record = build_record(change, event_id())
            data = encode_record(record)
            key = partition_key(change.table_name, record["dynamodb"]["Keys"])
            size = len(data) + len(key)
            if size > MAX_RECORD_BYTES:
                self._lose(change.stream_arn, 1, f"a change of table {change.table_name} is larger than Kinesis's 1 MiB record limit")
                continue
            if run and (change.stream_arn != run_stream or len(run) == MAX_RECORDS_PER_PUT
                        or run_bytes + size > MAX_BYTES_PER_PUT):
                self._send(run_stream, run)
                run, run_bytes = [], 0
            run_stream = change.stream_arn
            run.append((key, data))
            run_bytes += size
        if run:
            self._send(run_stream, run)

    def _send(self, stream_arn: str | None, run: list[tuple[str, bytes]]) -> None:
        from ..faults import ThroughputExceeded

        assert stream_arn is not None
        attempt = 0
        while True:
            try:
                self._put_records(stream_arn, run)
            except LookupError as exc:  # the stream was deleted; AWS keeps the destination ACTIVE and drops
                self._lose(stream_arn, len(run), str(exc))
                return
            except ThroughputExceeded:
                self.throttled += 1
                if self._stop.wait(THROTTLE_BACKOFF_SECONDS[min(attempt, len(THROTTLE_BACKOFF_SECONDS) - 1)]):
                    self._lose(stream_arn, len(run), "stopped while Kinesis throttled the puts")
                    return
                attempt += 1
                continue
            break
        self.forwarded += len(run)

    def _lose(self, stream_arn: str, n: int, why: str) -> None:
        self.undeliverable += n
        if stream_arn not in self._warned:
            self._warned.add(stream_arn)
            log.warning("dropping DynamoDB changes for %s: %s", stream_arn, why)
