"""CloudWatch Logs: moto's, plus AWS::Logs::LogStream for stacks (cloudformation.py)."""
from __future__ import annotations

from .extension import LogsExtension, extension

__all__ = ["LogsExtension", "extension"]
