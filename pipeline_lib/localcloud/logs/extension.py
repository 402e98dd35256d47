"""The CloudWatch Logs extension: its checked declarations (seams.py) and its CloudFormation types."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..extension import Extension
from .seams import build_seams

if TYPE_CHECKING:
    from ..cloud import LocalCloud


class LogsExtension(Extension):
    name = "logs"

    def __init__(self, cloud: "LocalCloud"):
        super().__init__(cloud)
        self.seams = build_seams(cloud)

    def install(self) -> None:
        self.seams.apply()  # checks only: nothing of moto's logs is patched

    def status(self) -> dict[str, Any]:
        return {}


def extension(cloud: "LocalCloud") -> LogsExtension:
    return LogsExtension(cloud)
