"""The engine's Storage protocol over the local cloud's own S3 backend (moto's, in-process): no
HTTP and no copy to disk; object bytes are read straight from moto's key buffers.

The moto internals used here are declared in `seams.build_seams` (expect)."""
from __future__ import annotations

import io
import weakref
from dataclasses import dataclass
from typing import Any

from ..moto_backends import stable_read

__all__ = ["MotoS3Storage", "MotoObjectVersion"]


@dataclass(frozen=True)
class MotoObjectVersion:
    """One stored generation of a moto S3 object: its value buffer (weakly: a version must not keep
    a replaced object's bytes alive), size and modification time. moto writes a key's buffer only
    when it makes the key (or loads it from a saved state: a new buffer), so the same live buffer
    means the same bytes; a dead buffer's version equals no other (weak references to dead objects
    compare by identity)."""

    buffer: weakref.ref
    size: int
    last_modified: Any


def _whole(buffer: Any) -> bytes:
    """All of a key's value buffer (a SpooledTemporaryFile). Held in memory (a BytesIO, up to
    moto's buffer size), its own bytes object: `getvalue` hands it out without a copy, and a later
    write to the buffer copies before it changes anything, so what was handed out stays as it was.
    A scan reads every object of a table, each per query: a copy of each was most of the bytes the
    query moved. Rolled over to a file: read."""
    inner = getattr(buffer, "_file", None)
    if type(inner) is io.BytesIO:
        return inner.getvalue()
    buffer.seek(0)
    return buffer.read()


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
            body = _whole(buffer)
            return body, MotoObjectVersion(weakref.ref(buffer), len(body), fake_key.last_modified)

    def put_object(self, bucket: str, key: str, body: bytes, encryption: str | None = None,
                   kms_key_id: str | None = None) -> None:
        """`encryption`: S3's ServerSideEncryption ("AES256", "aws:kms"); None: the bucket's default."""
        self._bucket(bucket)  # a missing bucket is a KeyError, not moto's HTTP error
        self._s3.put_object(bucket, key, body, encryption=encryption, kms_key_id=kms_key_id)

    def delete_objects(self, bucket: str, keys: list[str]) -> None:
        self._bucket(bucket)
        for key in keys:
            self._s3.delete_object(bucket, key)
