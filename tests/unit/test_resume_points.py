"""Where work running at a save continues after a load (pure parts): a Step Functions
execution's resume point from its history, and which Athena statements run again."""
from __future__ import annotations

import json
import threading

import pytest

from pipeline_lib.localcloud.athena.resume import reruns
from pipeline_lib.localcloud.stepfunctions.executions import ResumePoint, resume_point
from pipeline_lib.localcloud.state.inplace import Gate

DEFINITION = {
    "StartAt": "Prepare",
    "States": {
        "Prepare": {"Type": "Pass", "Next": "Route"},
        "Route": {"Type": "Choice", "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Fan"}],
                  "Default": "Done"},
        "Fan": {"Type": "Map", "ItemsPath": "$.items", "Next": "Done",
                "ItemProcessor": {"StartAt": "Prepare", "States": {"Prepare": {"Type": "Pass", "End": True}}}},
        "Done": {"Type": "Succeed"},
    },
}


def entered(kind: str, name: str, value, id_: int) -> dict:
    return {"id": id_, "type": f"{kind}StateEntered",
            "stateEnteredEventDetails": {"name": name, "input": json.dumps(value)}}


def exited(kind: str, name: str, value, id_: int) -> dict:
    return {"id": id_, "type": f"{kind}StateExited",
            "stateExitedEventDetails": {"name": name, "output": json.dumps(value)}}


def test_an_execution_with_no_state_run_starts_at_its_start():
    assert resume_point(DEFINITION, [{"id": 1, "type": "ExecutionStarted"}], {"a": 1}) == \
        ResumePoint("Prepare", {"a": 1}, "start")


def test_a_state_entered_and_not_exited_runs_again_from_its_input():
    events = [entered("Pass", "Prepare", {"a": 1}, 2)]
    assert resume_point(DEFINITION, events, {"a": 1}) == ResumePoint("Prepare", {"a": 1}, "entered")


def test_an_exited_state_is_followed_by_its_next_with_its_output():
    events = [entered("Pass", "Prepare", {"a": 1}, 2), exited("Pass", "Prepare", {"go": True}, 3)]
    assert resume_point(DEFINITION, events, {"a": 1}) == ResumePoint("Route", {"go": True}, "exited")


def test_an_exited_choice_is_decided_again_from_its_input():
    events = [entered("Pass", "Prepare", {}, 2), exited("Pass", "Prepare", {"go": True}, 3),
              entered("Choice", "Route", {"go": True}, 4), exited("Choice", "Route", {"go": True}, 5)]
    assert resume_point(DEFINITION, events, {}) == ResumePoint("Route", {"go": True}, "entered")


def test_a_map_in_progress_runs_again_whole_whatever_its_iterations_did():
    items = {"go": True, "items": [1, 2]}
    events = [entered("Choice", "Route", items, 4), exited("Choice", "Route", items, 5),
              entered("Map", "Fan", items, 6),
              entered("Pass", "Prepare", 1, 7), exited("Pass", "Prepare", 1, 8)]  # an iteration, same name
    assert resume_point(DEFINITION, events, {}) == ResumePoint("Fan", items, "entered")
    events.append(exited("Map", "Fan", [1, 2], 9))
    assert resume_point(DEFINITION, events, {}) == ResumePoint("Done", [1, 2], "exited")


@pytest.mark.parametrize("sql, again", [
    ("SELECT 1", True),
    ("  -- a comment\n/* another */ (SELECT 1)", True),
    ("WITH t AS (SELECT 1) SELECT * FROM t", True),
    ("SHOW TABLES", True),
    ("describe orders", True),
    ("EXPLAIN SELECT 1", True),
    ("PREPARE p FROM SELECT 1", True),
    ("DEALLOCATE PREPARE p", True),
    ("CREATE TABLE t AS SELECT 1", False),
    ("INSERT INTO t SELECT 1", False),
    ("UNLOAD (SELECT 1) TO 's3://b/p/' WITH (format = 'PARQUET')", False),
    ("DROP TABLE t", False),
    ("MSCK REPAIR TABLE t", False),
    ("", False),
])
def test_only_statements_that_read_run_again(sql, again):
    assert reruns(sql) is again


def test_a_closed_gate_holds_new_requests_and_waits_for_those_inside():
    gate = Gate()
    gate.enter()  # a request inside
    gate.close()
    assert not gate.drained(0.05)
    passed = threading.Event()

    def request() -> None:
        gate.enter()
        passed.set()
        gate.leave()

    thread = threading.Thread(target=request)
    thread.start()
    assert not passed.wait(0.1)  # held while closed
    gate.leave()
    assert gate.drained(1)
    gate.open()
    assert passed.wait(5)
    thread.join()


def _execution(query: str, state: str):
    from pipeline_lib.localcloud.athena.executions import Execution

    return Execution(id=f"q-{abs(hash(query))}", query=query, sql=query, params=None, statement_type="DML",
                     work_group="primary", context={}, result_configuration={"OutputLocation": "s3://r/x.csv"},
                     output_dir="s3://r/", execution_parameters=None, region="us-east-1", account_id="123456789012",
                     state=state)


def test_unfinished_reads_are_queued_again_and_writes_fail_with_a_retryable_system_error():
    from pipeline_lib.localcloud.athena.resume import resume_executions

    class Service:
        def __init__(self):
            self.queued = []

        def resubmit(self, execution):
            self.queued.append(execution.id)

    read, write, done = (_execution("SELECT 1", "RUNNING"), _execution("INSERT INTO t SELECT 1", "QUEUED"),
                         _execution("SELECT 2", "SUCCEEDED"))
    service = Service()
    assert resume_executions(service, [read, write, done]) == {"rerun": 1, "failed": 1}
    assert service.queued == [read.id] and read.state == "QUEUED"
    assert write.state == "FAILED" and done.state == "SUCCEEDED"
    # Athena's error catalog: category 1 = SYSTEM, type 100 = internal service error.
    assert write.failure.to_api() == {
        "ErrorCategory": 1, "ErrorType": 100, "Retryable": True,
        "ErrorMessage": "GENERIC_INTERNAL_ERROR: The query was running when the local cloud stopped. It writes "
                        "(CREATE TABLE AS, INSERT INTO, UNLOAD or DDL) and may have written part of its output, so it "
                        "is not run again: check its output location and submit it again."}
