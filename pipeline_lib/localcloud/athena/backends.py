"""The moto backends the local Athena reads and writes, as look-ups by (account, region): built by
the seams from moto's backend dicts, passed to the service and the catalog views (the one thing
they know of moto)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Backends"]


@dataclass(frozen=True)
class Backends:
    """moto's backends, looked up by (account, region)."""

    athena: Callable[[str, str], Any]
    glue: Callable[[str, str], Any]
    s3: Callable[[str, str], Any]
    cloudwatch: Callable[[str, str], Any] | None = None
