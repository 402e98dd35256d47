"""S3 object names of Firehose deliveries (developer guide, "Configure Amazon S3 object name
format"): `<evaluated prefix><suffix>` with the suffix
`<DeliveryStreamName>-<DeliveryStreamVersion>-<yyyy-MM-dd-HH-mm-ss>-<uuid><file extension>`.

The version starts at 1 and grows with every configuration change. The file extension is the
destination's FileExtension when set (it replaces the default, it is not appended), else
`.parquet` / `.orc` with record format conversion, else the compression's: `.gz` (GZIP),
`.zip` (ZIP), `.snappy` (Snappy and HADOOP_SNAPPY: the guide tables `.hsnappy` for the latter,
but the service writes `.snappy`), nothing for UNCOMPRESSED.
"""
from __future__ import annotations

import re
import uuid
from datetime import datetime

from .prefixes import to_utc

COMPRESSION_EXTENSIONS = {
    "UNCOMPRESSED": "",
    "GZIP": ".gz",
    "ZIP": ".zip",
    "Snappy": ".snappy",
    "HADOOP_SNAPPY": ".snappy",
}
CONVERSION_EXTENSIONS = {"parquet": ".parquet", "orc": ".orc"}
# API constraints (ExtendedS3DestinationConfiguration.FileExtension, DeliveryStreamName).
_FILE_EXTENSION = re.compile(r"^(|\.[0-9a-z!\-_.*'()]+)$")
MAX_FILE_EXTENSION = 128
_STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")


def default_extension(compression: str = "UNCOMPRESSED", *, parquet: bool = False, orc: bool = False) -> str:
    """The extension Firehose appends when FileExtension is not set."""
    if parquet:
        return CONVERSION_EXTENSIONS["parquet"]
    if orc:
        return CONVERSION_EXTENSIONS["orc"]
    try:
        return COMPRESSION_EXTENSIONS[compression]
    except KeyError:
        raise ValueError(
            f"unknown CompressionFormat {compression!r}; valid: {', '.join(COMPRESSION_EXTENSIONS)}"
        ) from None


def validate_file_extension(extension: str) -> str:
    """Check a FileExtension as the API does (a dot, then 0-9 a-z ! - _ . * ' ( ); at most 128)."""
    if len(extension) > MAX_FILE_EXTENSION or not _FILE_EXTENSION.match(extension):
        raise ValueError(
            f"FileExtension {extension!r} is invalid: it must start with '.' and use only 0-9 a-z ! - _ . * ' ( ) "
            f"(at most {MAX_FILE_EXTENSION} characters)"
        )
    return extension


def object_key(
    prefix: str,
    delivery_stream_name: str,
    version: int,
    when: datetime,
    file_extension: str,
    uid: str | None = None,
) -> str:
    """The key of one delivered object. `prefix` is already evaluated; `when` (timezone-aware)
    is written in UTC; `uid` defaults to a fresh uuid4."""
    if not _STREAM_NAME.match(delivery_stream_name or ""):
        raise ValueError(f"invalid delivery stream name {delivery_stream_name!r} (1-64 of a-z A-Z 0-9 _ . -)")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"the delivery stream version starts at 1, got {version!r}")
    stamp = to_utc(when).strftime("%Y-%m-%d-%H-%M-%S")
    return f"{prefix}{delivery_stream_name}-{version}-{stamp}-{uid or uuid.uuid4()}{file_extension}"
