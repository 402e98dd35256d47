"""The cloud assembly's file assets: what to upload where, zipped as the CDK CLI zips (pure but
for reading the files)."""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from . import synth
from .errors import DeployError

TEMPLATE_BODY_LIMIT = 51_200
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # what the CDK CLI stamps on every entry of a directory asset
BOOTSTRAP_QUALIFIER = "hnb659fds"


@dataclass(frozen=True)
class Upload:
    """One object to put: `source` (a file; a directory is zipped first) to `bucket`/`key`."""

    source: Path
    zip_directory: bool
    bucket: str
    key: str


def uploads(assets: Iterable[synth.FileAsset]) -> list[Upload]:
    """What to upload for the assembly's file assets (destinations already substituted)."""
    out = []
    for asset in assets:
        if "${" in asset.bucket_name + asset.object_key:
            raise DeployError(
                f"asset {asset.asset_id} still has a placeholder in s3://{asset.bucket_name}/{asset.object_key}; "
                "pass the account and region to synth.asset_manifest"
            )
        if asset.packaging == "zip" and asset.source_path.is_dir():
            out.append(Upload(asset.source_path, True, asset.bucket_name, asset.object_key))
        elif asset.packaging in ("zip", "file") and asset.source_path.is_file():
            out.append(Upload(asset.source_path, False, asset.bucket_name, asset.object_key))
        else:
            raise DeployError(
                f"asset {asset.asset_id}: {asset.source_path} is missing or not usable as {asset.packaging!r} "
                "packaging; synthesize again"
            )
    return out


def zip_directory(directory: Path, out_file: Path) -> Path:
    """Zip `directory` deterministically, as the CDK CLI does: files only (symlinks followed),
    sorted by path, every entry dated 1980-01-01 with the file's permission bits, deflate level 9.
    The same tree always gives the same bytes."""
    files = sorted(
        (p for p in directory.rglob("*") if p.is_file()),
        key=lambda p: p.relative_to(directory).as_posix(),
    )
    with zipfile.ZipFile(out_file, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100000 | (path.stat().st_mode & 0o777)) << 16
            info.create_system = 3  # unix, so the permission bits mean what they say
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return out_file


def assets_bucket(account: str, region: str) -> str:
    return f"cdk-{BOOTSTRAP_QUALIFIER}-assets-{account}-{region}"


def template_argument(template_path: Path, template_upload: Upload | None, region: str) -> dict[str, str]:
    """TemplateBody (the synthesized file, byte for byte) or, when it is over the limit,
    TemplateURL of its uploaded copy, as the CDK CLI chooses."""
    body = template_path.read_bytes()
    if len(body) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": body.decode("utf-8")}
    if template_upload is None:
        raise DeployError(
            f"{template_path} is {len(body)} bytes, over CloudFormation's {TEMPLATE_BODY_LIMIT}-byte "
            "TemplateBody limit, and the assembly has no template asset to upload"
        )
    return {"TemplateURL": f"https://s3.{region}.amazonaws.com/{template_upload.bucket}/{template_upload.key}"}
