"""What a crawler's built-in classifiers make of one S3 object: format, columns, row count.

Parquet is recognised by its magic bytes and only its footer is read; JSON (lines or concatenated
objects, optionally gzip) by its first character. Anything else is UNKNOWN and not catalogued.
The object is reached through `read(offset, length)`, so this module does no I/O of its own.
"""
from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass
from typing import Callable

from pipeline_lib.schema import HiveType, from_arrow

from .schema import json_type, merge

PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
# The JSON classifier infers a schema from the first megabyte (as AWS documents).
JSON_SCHEMA_BYTES = 1 << 20
# Above this, JSON records are estimated from the sampled average size rather than all counted.
JSON_COUNT_LIMIT = 64 << 20

ReadRange = Callable[[int, int], bytes]


@dataclass(frozen=True)
class FileSchema:
    """What a classifier learnt from one object."""

    classification: str  # "parquet" | "json"
    compression: str  # "none" | "gzip"
    columns: tuple[tuple[str, str], ...]  # (lower-cased name, Glue type)
    num_rows: int
    json_paths: tuple[str, ...] = ()  # JSON only: the top-level keys as written (SerDe "paths")


class UnreadableFile(Exception):
    """The object claims a format it does not hold (a truncated or corrupt Parquet file)."""


class UnknownFormat(Exception):
    """No built-in classifier recognises the object (classification UNKNOWN)."""


class _RangeFile(io.RawIOBase):
    """A read-only, seekable file over `read(offset, length)`, so pyarrow fetches the footer only."""

    def __init__(self, size: int, read: ReadRange):
        self._size = size
        self._read = read
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:  # type: ignore[override]
        length = min(len(buffer), max(0, self._size - self._pos))
        if length == 0:
            return 0
        data = self._read(self._pos, length)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def classify(size: int, read: ReadRange) -> FileSchema:
    """Classify one object of `size` bytes. Raises UnreadableFile or UnknownFormat."""
    if size <= 0:
        raise UnknownFormat("empty object")
    head = read(0, min(size, 4))
    if head == PARQUET_MAGIC:
        return _parquet(size, read)
    if head[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(read(0, size))
        except (OSError, EOFError, zlib.error) as exc:
            raise UnreadableFile(f"gzip data is corrupt: {exc}") from None
        return _json(raw, compression="gzip", stored_size=size)
    sample = read(0, min(size, JSON_SCHEMA_BYTES))
    if sample.lstrip()[:1] in (b"{", b"["):
        data = sample
        if JSON_SCHEMA_BYTES < size <= JSON_COUNT_LIMIT:  # count every record: read the rest too
            data += read(len(sample), size - len(sample))
        return _json(data, compression="none", stored_size=size)
    raise UnknownFormat("no built-in classifier (parquet, json) recognises the content")


def _parquet(size: int, read: ReadRange) -> FileSchema:
    import pyarrow.parquet as pq

    if size < 12 or read(size - 4, 4) != PARQUET_MAGIC:
        raise UnreadableFile("not a valid Parquet file: the footer's magic bytes are missing")
    try:
        metadata = pq.ParquetFile(_RangeFile(size, read)).metadata
        arrow_schema = metadata.schema.to_arrow_schema()
    except Exception as exc:  # pyarrow raises several types for a corrupt footer
        raise UnreadableFile(f"the Parquet footer cannot be read: {exc}") from None
    columns = tuple((field.name.lower(), str(from_arrow(field.type, lenient=True))) for field in arrow_schema)
    return FileSchema("parquet", "none", columns, int(metadata.num_rows))


def _json(data: bytes, *, compression: str, stored_size: int) -> FileSchema:
    text = data.decode("utf-8", errors="replace")
    decoder = json.JSONDecoder()
    pos, records, sampled_bytes = 0, 0, 0
    types: dict[str, HiveType | None] = {}
    paths: dict[str, str] = {}
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            break
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            if records == 0:
                raise UnknownFormat(f"not JSON: {exc.msg} at character {exc.pos}") from None
            break  # a record cut by the sample boundary, or trailing garbage: keep what parsed
        records += 1
        if isinstance(value, dict) and pos < JSON_SCHEMA_BYTES:
            sampled_bytes = end
            for key, item in value.items():
                name = key.lower()
                paths.setdefault(name, key)
                types[name] = merge(types.get(name), json_type(item), lenient=True)
        pos = end
    if not paths:
        raise UnknownFormat("JSON without objects")
    if len(data) < stored_size and compression == "none" and sampled_bytes:
        # Only a sample was read: estimate the rest from the average record size seen.
        records = max(records, round(stored_size / (sampled_bytes / max(records, 1))))
    columns = tuple((name, str(ctype) if ctype else "string") for name, ctype in types.items())
    return FileSchema("json", compression, columns, records, tuple(sorted(paths.values())))
