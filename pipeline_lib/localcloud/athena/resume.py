"""Query executions that were QUEUED or RUNNING when the state was saved, after a load.

AWS runs an accepted query to its end. A query that only reads (SELECT, WITH, VALUES, SHOW,
DESCRIBE, EXPLAIN; PREPARE and DEALLOCATE PREPARE, which set a name to a text) gives the same
answer when run again from its start, so the loaded execution is queued again under its id and
runs to completion: a client polling it sees it end SUCCEEDED (or FAILED for its own reasons).
A statement that writes (CREATE TABLE AS, INSERT INTO, UNLOAD, other DDL) may have written part of
its output before the stop, and running it again could write rows twice; it ends FAILED with a
system error saying so (retryable: the caller checks the output and runs it again), as Athena
reports a query its service could not finish.
"""
from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Iterable

from .executions import Execution, Failure

if TYPE_CHECKING:
    from .service import AthenaService

__all__ = ["reruns", "INTERRUPTED", "resume_executions"]

log = logging.getLogger("pipeline_lib.localcloud.athena")

_READS = frozenset({"SELECT", "WITH", "VALUES", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "TABLE", "PREPARE", "DEALLOCATE"})
_FIRST_WORD = re.compile(r"^(?:\s+|--[^\n]*\n?|/\*.*?\*/|\()*([A-Za-z]+)", re.DOTALL)

# ErrorCategory 1 (SYSTEM), ErrorType 100 (internal service error), as the Athena error catalog
# lists them; Retryable: resubmitting may succeed.
INTERRUPTED = Failure(
    "GENERIC_INTERNAL_ERROR",
    "The query was running when the local cloud stopped. It writes (CREATE TABLE AS, INSERT INTO, "
    "UNLOAD or DDL) and may have written part of its output, so it is not run again: check its "
    "output location and submit it again.",
    category=1, error_type=100, retryable=True,
)


def reruns(sql: str) -> bool:
    """Whether a statement is run again from its start after a load (it only reads)."""
    match = _FIRST_WORD.match(sql or "")
    return bool(match) and match.group(1).upper() in _READS


def resume_executions(service: "AthenaService", executions: Iterable[Execution]) -> dict[str, int]:
    """Queue the loaded unfinished executions that only read again; fail the others."""
    counts = {"rerun": 0, "failed": 0}
    for execution in executions:
        if execution.finished:
            continue
        execution._submitted_at = time.monotonic()  # this process's clock (statistics)
        execution._started_at = None
        if reruns(execution.query) and reruns(execution.sql):
            execution.state = "QUEUED"
            service.resubmit(execution)
            counts["rerun"] += 1
        else:
            execution.state = "RUNNING"
            execution.fail(INTERRUPTED)
            counts["failed"] += 1
    if any(counts.values()):
        log.info("athena: unfinished queries of the loaded state: %s", counts)
    return counts
