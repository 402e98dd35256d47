"""CloudWatch Logs: nothing of moto is patched; what the local cloud calls and reads of moto's
logs backend (the Lambda runtime's logs, the crawler's log, AWS::Logs::LogStream) is declared
here, so a moto upgrade that changes it fails at start."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..seam import SeamSet

if TYPE_CHECKING:
    from ..cloud import LocalCloud


def build_seams(cloud: "LocalCloud | None" = None) -> SeamSet:
    from moto.logs.models import LogsBackend

    from .. import moto_backends

    seams = SeamSet("logs")
    seams.reads(LogsBackend, "groups")
    seams.expect(LogsBackend, "create_log_stream")
    seams.expect(LogsBackend, "ensure_log_group", ("self", "log_group_name"))
    seams.expect(LogsBackend, "ensure_log_stream", ("self", "log_group_name", "log_stream_name"))
    seams.expect(LogsBackend, "put_log_events", ("self", "log_group_name", "log_stream_name", "log_events"))
    moto_backends.declare(seams)
    return seams
