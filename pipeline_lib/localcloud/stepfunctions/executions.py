"""Executions the cloud holds that are RUNNING: halted when the cloud stops (their interpreter
threads end at their next state instead of calling a cloud that is gone or replaced), and
resumed when a loaded state holds them.

Resuming: AWS keeps a Standard execution running and runs each of its states once. An
interpreter thread of another process cannot be continued, so the execution continues from its
saved history: the states it completed are not run again; the top-level state it was in (entered,
not exited) runs again from its entered input, as a retry would run it; a state that had exited
is followed by its `Next` with its output. Its history keeps the events already written and goes
on with their ids; `$$.Execution` is the original one. What is not carried over: a Map or
Parallel state in progress runs again as a whole (its iterations are not resumed one by one),
and a `.waitForTaskToken` task's token is a new one.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from ..seam import SeamSet

__all__ = ["declare", "running", "halt", "resume", "resume_point", "ResumePoint"]

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
    # What resuming reads and calls.
    from moto.stepfunctions.parser.asl.component.common.flow.start_at import StartAt
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_manager import (
        EventHistoryContext, EventIdGenerator, EventManager,
    )
    from moto.stepfunctions.parser.asl.eval.states import States

    seams.reads(Execution, "state_machine", "input_data")
    seams.expect(Execution, "_get_start_execution_worker", ("self",))
    seams.expect(Execution, "_get_start_execution_worker_comm", ("self",))
    seams.reads(ExecutionWorker, "env", "_evaluation_details", "_execution_communication")
    seams.expect(ExecutionWorker, "_get_evaluation_entrypoint", ("self",))
    seams.expect(ExecutionWorker, "_get_evaluation_environment", ("self",))
    seams.reads(Environment, "event_manager", "event_history_context", "states", "variable_store")
    seams.reads(EventManager, "_history_event_list", "_event_id_gen")
    seams.reads(EventIdGenerator, "_next_id")
    seams.expect(EventHistoryContext, "__init__", ("self", "previous_event_id"))
    seams.expect(States, "reset", ("self", "input_value"))
    seams.reads(Program, "start_at")
    seams.reads(StartAt, "start_at_name")


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


@dataclass(frozen=True)
class ResumePoint:
    state: str  # the top-level state to run next
    input: Any  # its input
    after: str  # "start" (no state ran yet), "entered" (it runs again) or "exited" (its Next)


_BLOCKS = ("Map", "Parallel")


def resume_point(definition: dict[str, Any], events: list[dict[str, Any]], execution_input: Any) -> ResumePoint:
    """Where an execution continues, from its definition and history (pure; see the module
    docstring). Events inside a Map or Parallel state are skipped: the state runs again whole."""
    states = definition.get("States", {})
    point = ResumePoint(definition["StartAt"], execution_input, "start")
    inside: str | None = None  # a Map/Parallel state in progress: its inner events are skipped
    for event in events:
        kind = event.get("type", "")
        kind = str(getattr(kind, "value", kind))  # moto's HistoryEventType is a (str, Enum)
        entered = event.get("stateEnteredEventDetails")
        exited = event.get("stateExitedEventDetails")
        if entered is not None and kind.endswith("StateEntered"):
            name = entered.get("name")
            if inside is not None or name not in states:
                continue
            point = ResumePoint(name, json.loads(entered.get("input") or "null"), "entered")
            if states[name].get("Type") in _BLOCKS:
                inside = name
        elif exited is not None and kind.endswith("StateExited"):
            name = exited.get("name")
            if name not in states or (inside is not None and name != inside):
                continue
            inside = None
            follow = states[name].get("Next")
            if follow and states[name].get("Type") != "Choice":
                point = ResumePoint(follow, json.loads(exited.get("output") or "null"), "exited")
            # else (a Choice, or an End state): it runs again from its entered input (pure, or last)
    return point


def _events(worker: Any) -> list[dict[str, Any]]:
    env = getattr(worker, "env", None) if worker is not None else None
    if env is None:
        return []
    return list(env.event_manager._history_event_list)


def resume(execution: Any) -> ResumePoint:
    """Continue a RUNNING execution of a loaded state in a new interpreter thread."""
    from threading import Thread

    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    old = execution.exec_worker
    history = _events(old)
    definition = json.loads(execution.state_machine.definition)
    point = resume_point(definition, history, execution.input_data)
    worker: ExecutionWorker = execution._get_start_execution_worker()
    variables = getattr(getattr(old, "env", None), "variable_store", None)

    def continue_execution() -> None:
        program = worker._get_evaluation_entrypoint()
        env = worker._get_evaluation_environment()
        worker.env = env
        if variables is not None:
            env.variable_store = variables  # JSONata `Assign`ed variables of the states that ran
        manager = env.event_manager
        manager._history_event_list = list(history)
        last_id = max((int(e.get("id", 0)) for e in history), default=0)
        manager._event_id_gen._next_id = last_id + 1
        env.event_history_context = EventHistoryContext(previous_event_id=last_id)
        if not history:  # it had not started: as a fresh start, ExecutionStarted first
            worker._execution_logic()
            return
        env.states.reset(point.input)
        program.start_at.start_at_name = point.state
        program.eval(env)
        worker._execution_communication.terminated()

    execution.exec_worker = worker
    log.info("execution %s resumed at state %s (%s)", execution.exec_arn, point.state, point.after)
    Thread(target=continue_execution, name="sfn-resumed", daemon=True).start()
    return point
