"""The CloudWatch Logs extension: no seams, only its CloudFormation types."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..extension import Extension

if TYPE_CHECKING:
    from ..cloud import LocalCloud


class LogsExtension(Extension):
    name = "logs"


def extension(cloud: "LocalCloud") -> LogsExtension:
    return LogsExtension(cloud)
