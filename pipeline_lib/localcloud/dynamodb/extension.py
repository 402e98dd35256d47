"""The DynamoDB extension: moto's DynamoDB with a cheaper request path (seams.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..extension import Extension
from .seams import build_seams

if TYPE_CHECKING:
    from ..cloud import LocalCloud


class DynamoDBExtension(Extension):
    name = "dynamodb"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.seams = build_seams(cloud)

    def install(self) -> None:
        self.seams.apply()

    def status(self) -> dict[str, Any]:
        return {}


def extension(cloud: "LocalCloud") -> DynamoDBExtension:
    return DynamoDBExtension(cloud)
