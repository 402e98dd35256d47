"""The engine's reads of moto's S3 objects (athena/storage.py): the bytes moto's own `FakeKey.value`
gives, held in memory or rolled over to a file, and unchanged by later writes to the object."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from moto.s3.models import S3Backend

from pipeline_lib.localcloud.athena.storage import MotoS3Storage

ACCOUNT = "123456789012"


@pytest.fixture()
def bucket() -> Iterator[tuple[S3Backend, str]]:
    backend = S3Backend("us-east-1", ACCOUNT)
    name = f"storage-{uuid.uuid4().hex[:12]}"  # bucket names are global to moto's process
    backend.create_bucket(name, "us-east-1")
    yield backend, name
    backend.reset()


@pytest.mark.parametrize("size", [0, 1, 1000, 600_000, 20 * 1024 * 1024])  # the last one rolls over to a file
def test_get_object_is_what_moto_holds(bucket: tuple[S3Backend, str], size: int) -> None:
    backend, name = bucket
    body = os.urandom(size)
    backend.put_object(name, "k", body)
    storage = MotoS3Storage(backend)
    read = storage.get_object(name, "k")
    assert read == body == backend.get_object(name, "k").value
    assert storage.get_object(name, "k") == body  # and again


def test_bytes_read_stay_as_they_were_when_the_object_changes(bucket: tuple[S3Backend, str]) -> None:
    backend, name = bucket
    first, second = os.urandom(600_000), os.urandom(500_000)
    backend.put_object(name, "k", first)
    storage = MotoS3Storage(backend)
    read = storage.get_object(name, "k")
    key = backend.get_object(name, "k")
    key.value = second  # moto's in-place rewrite of the same buffer
    assert read == first
    assert storage.get_object(name, "k") == second == key.value
    backend.put_object(name, "k", first[:10])  # a new version of the key
    assert read == first
    assert storage.get_object(name, "k") == first[:10]
