"""Custom::CDKBucketDeployment, provided natively.

CDK's handler (aws-cdk-lib's bucket-deployment-handler/index.py) shells out to the aws CLI from a
Lambda layer; this provider does what that handler does, with moto's S3 backend:

- Create/Update: each source zip (SourceBucketNames[i]/SourceObjectKeys[i]) is extracted (or,
  with Extract=false, copied as is) into one tree, SourceMarkers replaced in every extracted file,
  and the tree synced to s3://DestinationBucketName/DestinationBucketKeyPrefix: every file put
  (content type guessed from the name unless SystemMetadata sets it, UserMetadata as
  x-amz-meta-*), and with Prune (default true) every other object under the prefix deleted.
  Exclude/Include filter both, the later filter winning, as `aws s3 sync` does.
- Update whose destination changed (and RetainOnDelete false): the old destination is emptied
  first.
- Delete: the files are removed only when RetainOnDelete is false (default: true) and the bucket
  is not tagged as owned by a custom resource (`aws-cdk:cr-owned[:<prefix>]`).
- Physical id `aws.cdk.s3deployment.<uuid>`; Data: DestinationBucketArn, SourceObjectKeys (empty
  when OutputObjectKeys is false) and, when OutputObjectVersionIds is true, SourceObjectVersionIds.
"""
from __future__ import annotations

import fnmatch
import io
import json
import mimetypes
import posixpath
import uuid
import zipfile
from typing import Any

from ..cfn.base import ResourceError
from ..cfn.custom import CustomResource

OWNER_TAG = "aws-cdk:cr-owned"
# SystemMetadata keys (as CDK lower-cases them) -> the S3 metadata they set.
SYSTEM_METADATA = {
    "cache-control": "Cache-Control",
    "content-disposition": "Content-Disposition",
    "content-encoding": "Content-Encoding",
    "content-language": "Content-Language",
    "content-type": "Content-Type",
    "expires": "Expires",
    "website-redirect": "x-amz-website-redirect-location",
}


def as_directory(prefix: str) -> str:
    """A key prefix as `aws s3` treats a destination path: a folder ("a" means "a/")."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _flag(properties: dict[str, Any], name: str, default: str) -> bool:
    return str(properties.get(name, default)).lower() == "true"


def included(path: str, exclude: list[str], include: list[str]) -> bool:
    """Whether `aws s3 sync --exclude ... --include ...` (CDK passes every exclude first) keeps `path`."""
    keep = True
    for pattern in exclude:
        if fnmatch.fnmatchcase(path, pattern):
            keep = False
    for pattern in include:
        if fnmatch.fnmatchcase(path, pattern):
            keep = True
    return keep


def replace_markers(data: bytes, markers: dict[str, str], json_escape: bool) -> bytes:
    """The handler's marker substitution (tokens replaced byte-wise; JSON-escaped when asked)."""
    if not markers:
        return data
    tokens = {}
    for key, value in markers.items():
        if json_escape:
            encoded = json.dumps(value)
            value = encoded[1:-1] if encoded.startswith('"') and encoded.endswith('"') else encoded
        tokens[key.encode()] = str(value).encode()
    lines = data.splitlines(keepends=True)
    out = []
    for line in lines:
        for token, replacement in tokens.items():
            line = line.replace(token, replacement)
        out.append(line)
    return b"".join(out)


class BucketDeployment(CustomResource):
    TYPE = "Custom::CDKBucketDeployment"

    # -- S3, in-process ---------------------------------------------------------------------------
    def _read(self, bucket: str, key: str) -> bytes:
        s3 = self.backend("s3")
        if bucket not in s3.buckets:
            raise ResourceError(f"source bucket {bucket} does not exist (were the assets uploaded?)")
        found = s3.get_object(bucket, key)
        if found is None:
            raise ResourceError(f"source object s3://{bucket}/{key} does not exist (were the assets uploaded?)")
        return found.value

    def _keys(self, bucket: str, prefix: str) -> list[str]:
        s3 = self.backend("s3")
        if bucket not in s3.buckets:
            return []
        return sorted(
            name for name in list(s3.buckets[bucket].keys.keys())
            if name.startswith(prefix) and s3.get_object(bucket, name) is not None
        )

    def _remove_all(self, bucket: str, prefix: str) -> None:  # aws s3 rm --recursive
        s3 = self.backend("s3")
        for key in self._keys(bucket, prefix):
            s3.delete_object(bucket, key)

    def _owned(self, bucket: str, prefix: str) -> bool:
        tag = OWNER_TAG + (f":{prefix}" if prefix else "")
        try:
            tags = self.backend("s3").get_bucket_tagging(bucket).get("Tags", [])
        except Exception:
            return False
        return any(t["Key"].startswith(tag) for t in tags)

    # -- the provider ----------------------------------------------------------------------------
    def handle(self, request_type: str, properties: dict[str, Any], old_properties: dict[str, Any],
               physical_id: str) -> tuple[str, dict[str, Any]]:
        try:
            bucket_names = list(properties["SourceBucketNames"])
            object_keys = list(properties["SourceObjectKeys"])
            dest_bucket = properties["DestinationBucketName"]
        except KeyError as missing:
            raise ResourceError(f"missing request resource property {missing}") from None
        if len(bucket_names) != len(object_keys):
            raise ResourceError("SourceBucketNames and SourceObjectKeys must have the same length")
        if properties.get("DistributionId"):
            raise ResourceError("BucketDeployment with a CloudFront distribution is not supported by the local cloud")
        prefix = properties.get("DestinationBucketKeyPrefix", "")
        if prefix == "/":
            prefix = ""
        retain = _flag(properties, "RetainOnDelete", "true")

        if request_type == "Create":
            physical_id = f"aws.cdk.s3deployment.{uuid.uuid4()}"
        if request_type == "Delete":
            if not retain and not self._owned(dest_bucket, prefix):
                self._remove_all(dest_bucket, as_directory(prefix))
            return physical_id, {}
        if request_type == "Update" and not retain:
            old_bucket = old_properties.get("DestinationBucketName", "")
            old_prefix = old_properties.get("DestinationBucketKeyPrefix", "")
            if old_bucket and (old_bucket, old_prefix) != (dest_bucket, prefix):
                self._remove_all(old_bucket, as_directory("" if old_prefix == "/" else old_prefix))

        self._deploy(properties, bucket_names, object_keys, dest_bucket, prefix)
        data: dict[str, Any] = {
            "DestinationBucketArn": properties.get("DestinationBucketArn"),
            "SourceObjectKeys": object_keys if _flag(properties, "OutputObjectKeys", "true") else [],
        }
        if _flag(properties, "OutputObjectVersionIds", "false"):
            data["SourceObjectVersionIds"] = self._version_ids(dest_bucket, prefix, object_keys)
        return physical_id, data

    def _deploy(self, properties: dict[str, Any], bucket_names: list[str], object_keys: list[str],
                dest_bucket: str, prefix: str) -> None:
        markers = properties.get("SourceMarkers") or [{} for _ in bucket_names]
        markers_config = properties.get("SourceMarkersConfig") or [{} for _ in bucket_names]
        if len(markers) != len(bucket_names):
            raise ResourceError("'source_markers' and 's3_source_zips' must be the same length")
        extract = _flag(properties, "Extract", "true")
        tree: dict[str, bytes] = {}  # later sources overwrite earlier ones, as in one directory
        for i, (bucket, key) in enumerate(zip(bucket_names, object_keys)):
            archive = self._read(bucket, key)
            if not extract:
                tree[posixpath.basename(key)] = archive
                continue
            json_escape = str((markers_config[i] or {}).get("jsonEscape", "false")).lower() == "true"
            try:
                with zipfile.ZipFile(io.BytesIO(archive)) as zf:
                    for info in zf.infolist():
                        if info.is_dir():
                            continue
                        tree[info.filename] = replace_markers(zf.read(info), markers[i] or {}, json_escape)
            except zipfile.BadZipFile:
                raise ResourceError(f"s3://{bucket}/{key} is not a zip archive (set Extract to false to copy it)") from None

        exclude = list(properties.get("Exclude") or [])
        include = list(properties.get("Include") or [])
        system = {k.lower(): v for k, v in (properties.get("SystemMetadata") or {}).items()}
        user = {k.lower(): v for k, v in (properties.get("UserMetadata") or {}).items()}
        s3 = self.backend("s3")
        if dest_bucket not in s3.buckets:
            raise ResourceError(f"destination bucket {dest_bucket} does not exist")
        written = set()
        for path, data in sorted(tree.items()):
            if not included(path, exclude, include):
                continue
            key = as_directory(prefix) + path
            key_obj = s3.put_object(
                dest_bucket, key, data, storage=system.get("storage-class"), encryption=system.get("sse"),
                kms_key_id=system.get("sse-kms-key-id"),
            )
            metadata = {f"x-amz-meta-{k}": v for k, v in user.items()}
            for name, header in SYSTEM_METADATA.items():
                if name in system:
                    metadata[header] = system[name]
            if "Content-Type" not in metadata:
                guessed = mimetypes.guess_type(path)[0]
                if guessed:
                    metadata["Content-Type"] = guessed
            if metadata:
                key_obj.set_metadata(metadata)
            written.add(key)
        if _flag(properties, "Prune", "true"):
            base = as_directory(prefix)
            for key in self._keys(dest_bucket, base):
                if key not in written and included(key[len(base):], exclude, include):
                    s3.delete_object(dest_bucket, key)

    def _version_ids(self, bucket: str, prefix: str, object_keys: list[str]) -> list[str]:
        base = as_directory(prefix)
        found = []
        for key in object_keys:
            obj = self.backend("s3").get_object(bucket, base + posixpath.basename(key))
            version = getattr(obj, "version_id", None) if obj is not None else None
            found.append("" if not version or version == "null" else str(version))
        return found
