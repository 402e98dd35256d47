"""Parquet bytes handed to DuckDB without a copy to disk: an fsspec filesystem over a dict.

DuckDB reads Parquet through it with its own reader (column and row-group pruning, parallel
decoding), asking for byte ranges; the bytes are the S3 objects the scan fetched. Each query puts
its objects under its own prefix and removes them when it ends.
"""

from __future__ import annotations

import datetime as dt
import io
import threading

from fsspec.spec import AbstractFileSystem

__all__ = ["BlobFileSystem", "PROTOCOL"]

PROTOCOL = "athenalocal"


class BlobFileSystem(AbstractFileSystem):
    protocol = PROTOCOL
    cachable = False

    def __init__(self) -> None:
        super().__init__()
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # -- the engine's side ----------------------------------------------------------------------
    def put(self, path: str, body: bytes) -> str:  # noqa: D401 - fsspec's put is not used by DuckDB
        with self._lock:
            self._blobs[path] = body
        return f"{PROTOCOL}://{path}"

    def drop_prefix(self, prefix: str) -> None:
        with self._lock:
            for key in [k for k in self._blobs if k.startswith(prefix)]:
                del self._blobs[key]

    # -- what DuckDB calls ----------------------------------------------------------------------
    def _blob(self, path: str) -> bytes:
        key = self._strip_protocol(path)
        with self._lock:
            try:
                return self._blobs[key]
            except KeyError:
                raise FileNotFoundError(path) from None

    def _open(self, path, mode="rb", **kwargs):
        if "r" not in mode:
            raise PermissionError("read-only")
        return io.BytesIO(self._blob(path))

    def cat_file(self, path, start=None, end=None, **kwargs):
        return self._blob(path)[start:end]

    def info(self, path, **kwargs):
        key = self._strip_protocol(path)
        return {"name": key, "size": len(self._blob(path)), "type": "file"}

    # DuckDB asks for each path it was given (never a pattern: the engine lists the objects
    # itself) whether it exists, and its size, several times per statement: answered from the
    # dict directly, without fsspec's generic glob/find walk.
    def glob(self, path, maxdepth=None, **kwargs):
        key = self._strip_protocol(path)
        if any(c in key for c in "*?["):
            return super().glob(path, maxdepth=maxdepth, **kwargs)
        with self._lock:
            found = key in self._blobs
        if kwargs.get("detail"):
            return {key: {"name": key, "size": len(self._blobs[key]), "type": "file"}} if found else {}
        return [key] if found else []

    def exists(self, path, **kwargs):
        with self._lock:
            return self._strip_protocol(path) in self._blobs

    def ls(self, path, detail=True, **kwargs):
        key = self._strip_protocol(path).rstrip("/")
        with self._lock:
            names = [k for k in self._blobs if k == key or k.startswith(key + "/")]
        infos = [{"name": k, "size": len(self._blobs[k]), "type": "file"} for k in names]
        return infos if detail else names

    def modified(self, path):
        return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

    def created(self, path):
        return self.modified(path)
