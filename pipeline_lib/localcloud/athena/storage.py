"""The engine's Storage protocol over the local cloud's own S3 backend (moto's, in-process): no
HTTP and no copy to disk; object bytes are read straight from moto's key buffers.

The moto internals used here are declared in `seams.build_seams` (expect)."""
from __future__ import annotations

import io
import weakref
from typing import Any

from ..moto_backends import stable_read

__all__ = ["MotoS3Storage", "MotoObjectVersion"]


class MotoObjectVersion:
    """One stored generation of a moto S3 object, equal only to itself: its value buffer (weakly: a
    dead buffer's version equals no other), size and modification time, and for a buffer held in
    memory the very bytes object it holds (`_whole` hands it out without a copy; any write to the
    buffer, moto's in-place `FakeKey.value = ...` included, makes a new one). A buffer rolled over
    to a file has no such object: moto writes it only when it makes the key (a saved state loads
    into a new buffer), so the same live buffer is the same bytes.

    Holding the bytes costs nothing while the object lives (they are moto's); once it is replaced
    or deleted they live on until the version is dropped (objectfiles.py: bounded like the files)."""

    __slots__ = ("buffer", "size", "last_modified", "value", "_hash")

    def __init__(self, buffer: Any, body: bytes, last_modified: Any, shared: bool) -> None:
        self.buffer = weakref.ref(buffer)
        self.size = len(body)
        self.last_modified = last_modified
        self.value = body if shared else None
        self._hash = hash((id(buffer), self.size))

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, MotoObjectVersion):
            return NotImplemented
        mine = self.buffer()
        return (mine is not None and mine is other.buffer() and self.size == other.size
                and self.last_modified == other.last_modified and self.value is other.value)

    def __hash__(self) -> int:
        return self._hash


def _whole(buffer: Any) -> bytes:
    """All of a key's value buffer (a SpooledTemporaryFile). Held in memory (a BytesIO, up to
    moto's buffer size), its own bytes object: `getvalue` hands it out without a copy, and a later
    write to the buffer copies before it changes anything, so what was handed out stays as it was.
    A scan reads every object of a table, each per query: a copy of each was most of the bytes the
    query moved. Rolled over to a file: read."""
    return _whole_shared(buffer)[0]


def _whole_shared(buffer: Any) -> tuple[bytes, bool]:
    """`_whole`, and whether the bytes are the buffer's own object (held in memory) or a copy."""
    inner = getattr(buffer, "_file", None)
    if type(inner) is io.BytesIO:
        return inner.getvalue(), True
    buffer.seek(0)
    return buffer.read(), False


class MotoS3Storage:
    """`list_objects`, `get_object`, `put_object`, `delete_objects` of one account's S3."""

    def __init__(self, s3_backend: Any):
        self._s3 = s3_backend

    def _bucket(self, bucket: str) -> Any:
        try:
            return self._s3.get_bucket(bucket)
        except Exception as exc:  # moto's MissingBucket
            raise KeyError(f"The specified bucket does not exist: {bucket}") from exc

    def bucket_exists(self, bucket: str) -> bool:
        try:
            self._bucket(bucket)
        except KeyError:
            return False
        return True

    def exists(self, bucket: str, key: str) -> bool:
        try:
            fake_key = self._bucket(bucket).keys.get(key)
        except KeyError:
            return False
        return fake_key is not None and hasattr(fake_key, "_value_buffer")

    def list_objects(self, bucket: str, prefix: str) -> list[tuple[str, int]]:
        from moto.s3.models import FakeKey

        fake_bucket = self._bucket(bucket)
        items = stable_read(lambda: list(fake_bucket.keys.items()))  # latest version of each key
        return sorted(
            (name, key.size) for name, key in items if name.startswith(prefix) and isinstance(key, FakeKey)
        )

    def get_object(self, bucket: str, key: str) -> bytes:
        fake_key = self._bucket(bucket).keys.get(key)
        if fake_key is None or not hasattr(fake_key, "_value_buffer"):  # missing, or a delete marker
            raise KeyError(f"s3://{bucket}/{key} does not exist")
        with fake_key.lock:
            return _whole(fake_key._value_buffer)

    def get_object_version(self, bucket: str, key: str) -> tuple[bytes, MotoObjectVersion]:
        """`get_object` and the version of the bytes returned (read under the key's lock, together)."""
        fake_key = self._bucket(bucket).keys.get(key)
        if fake_key is None or not hasattr(fake_key, "_value_buffer"):
            raise KeyError(f"s3://{bucket}/{key} does not exist")
        with fake_key.lock:
            buffer = fake_key._value_buffer
            body, shared = _whole_shared(buffer)
            return body, MotoObjectVersion(buffer, body, fake_key.last_modified, shared)

    def put_object(self, bucket: str, key: str, body: bytes, encryption: str | None = None,
                   kms_key_id: str | None = None) -> None:
        """`encryption`: S3's ServerSideEncryption ("AES256", "aws:kms"); None: the bucket's default."""
        self._bucket(bucket)  # a missing bucket is a KeyError, not moto's HTTP error
        self._s3.put_object(bucket, key, body, encryption=encryption, kms_key_id=kms_key_id)

    def delete_objects(self, bucket: str, keys: list[str]) -> None:
        self._bucket(bucket)
        for key in keys:
            self._s3.delete_object(bucket, key)
