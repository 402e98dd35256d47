"""The S3 extension: its seams (bucket policies) and its CloudFormation types."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..extension import Extension
from .seams import build_seams

if TYPE_CHECKING:
    from ..cloud import LocalCloud


class S3Extension(Extension):
    name = "s3"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.seams = build_seams(cloud)

    def install(self) -> None:
        self.seams.apply()

    def status(self) -> dict[str, Any]:
        return {"seams": self.seams.applied}


def extension(cloud: "LocalCloud") -> S3Extension:
    return S3Extension(cloud)
