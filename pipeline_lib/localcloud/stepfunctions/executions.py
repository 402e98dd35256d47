"""Executions the cloud holds that are RUNNING: halted when the cloud stops (their interpreter
threads end at their next state instead of calling a cloud that is gone or replaced)."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Iterable, Iterator

from ..seam import SeamSet

__all__ = ["declare", "running", "halt"]

log = logging.getLogger("pipeline_lib.localcloud.stepfunctions")


def declare(seams: SeamSet) -> None:
    """The attributes of moto's models read here."""
    from moto.stepfunctions.models import StateMachine, StepFunctionBackend
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    seams.reads(StepFunctionBackend, "state_machines")
    seams.reads(StateMachine, "executions")
    seams.reads(Execution, "exec_status", "exec_worker", "exec_arn")
    seams.expect(ExecutionWorker, "stop", ("self", "stop_date", "error", "cause"))


def running(backends: Iterable[Any]) -> Iterator[Any]:
    """Every execution whose status is RUNNING, over the given Step Functions backends."""
    from moto.stepfunctions.parser.api import ExecutionStatus

    for backend in backends:
        for machine in list(backend.state_machines):
            for execution in list(getattr(machine, "executions", [])):
                if getattr(execution, "exec_status", None) == ExecutionStatus.RUNNING:
                    yield execution


def halt(backends: Iterable[Any]) -> int:
    """Stop the interpreter threads of the running executions; how many."""
    count = 0
    now = dt.datetime.now(dt.timezone.utc)
    for execution in running(backends):
        worker = execution.exec_worker
        if worker is None:
            continue
        try:
            worker.stop(stop_date=now, error="States.Runtime", cause="The local cloud stopped")
            count += 1
        except Exception:  # stopping the others matters more
            log.warning("cannot halt execution %s", execution.exec_arn, exc_info=True)
    return count
