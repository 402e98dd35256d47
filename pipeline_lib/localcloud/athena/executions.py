"""One query execution: its request, its state machine (QUEUED -> RUNNING -> SUCCEEDED | FAILED |
CANCELLED), its statistics and its result, and how GetQueryExecution shows it."""
from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["FINAL_STATES", "Execution", "Failure", "Result"]

FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
ENGINE_VERSION = {"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}


@dataclass(frozen=True)
class Failure:
    """Why an execution FAILED: StateChangeReason == AthenaError.ErrorMessage == f"{name}: {message}"."""

    name: str
    message: str
    category: int = 2  # 1 system, 2 user, 3 other
    error_type: int = 1000
    retryable: bool = False

    @property
    def reason(self) -> str:
        return f"{self.name}: {self.message}"

    def to_api(self) -> dict[str, Any]:
        return {"ErrorCategory": self.category, "ErrorType": self.error_type, "Retryable": self.retryable,
                "ErrorMessage": self.reason}


@dataclass
class Result:
    """What GetQueryResults pages through once the execution SUCCEEDED."""

    columns: list[dict[str, Any]]  # ColumnInfo, API shape
    rows: list[list[str | None]] | None  # rendered values (VarCharValue), header NOT included; None:
    # a CSV result set whose rows the service no longer holds (read back from `csv_location`)
    header: bool  # a CSV result set: the column names come first, as a row
    update_count: int
    row_count: int = 0
    output_bytes: int = 0
    csv_location: str | None = None


@dataclass
class Execution:
    id: str
    query: str  # as submitted (an EXECUTE stays an EXECUTE)
    sql: str  # what runs (the prepared statement's text for an EXECUTE)
    params: list[str] | None  # literal SQL text each (ExecutionParameters or EXECUTE ... USING)
    statement_type: str
    work_group: str
    context: dict[str, str]
    result_configuration: dict[str, Any]  # effective; OutputLocation names the result file
    output_dir: str  # "s3://bucket/prefix/" the result files go to
    execution_parameters: list[str] | None
    region: str
    account_id: str
    token: str | None = None
    fingerprint: tuple = ()
    reuse_configuration: dict[str, Any] = field(default_factory=lambda: {
        "ResultReuseByAgeConfiguration": {"Enabled": False}})
    reused: bool = False  # its result is an earlier execution's (ResultReuseByAgeConfiguration)
    submitted: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    state: str = "QUEUED"
    failure: Failure | None = None
    cancel_reason: str | None = None
    completed: datetime | None = None
    data_scanned: int = 0
    manifest_location: str | None = None
    result: Result | None = None
    _submitted_at: float = field(default_factory=time.monotonic)
    _started_at: float | None = None
    _finished_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    cancel_requested: threading.Event = field(default_factory=threading.Event, repr=False)
    running_query: Any = None  # the engine's Query while it runs (for cancel)
    on_finish: Any = None  # (execution, final state) -> None, called as the execution finishes
    action: Any = None  # a statement the service runs itself (PREPARE, DEALLOCATE PREPARE): () -> Failure | None

    # -- the state machine ---------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.state in FINAL_STATES

    def start(self) -> bool:
        """QUEUED -> RUNNING; False when the execution was cancelled while queued."""
        with self.lock:
            if self.state != "QUEUED":
                return False
            self.state = "RUNNING"
            self._started_at = time.monotonic()
            return True

    def _finish(self, state: str) -> None:
        """Called with `lock` held: `on_finish` (counts, metrics) runs before any reader can see the
        final state, so a client that sees it also sees what the finish published."""
        self._finished_at = time.monotonic()
        self.completed = datetime.now(timezone.utc)
        if self.on_finish is not None:
            self.on_finish(self, state)
        self.state = state

    def succeed(self, result: Result, data_scanned: int, manifest_location: str | None) -> None:
        with self.lock:
            self.result = result
            self.data_scanned = data_scanned
            self.manifest_location = manifest_location
            self._finish("SUCCEEDED")

    def reuse(self, earlier: "Execution") -> None:
        """SUCCEEDED at once with `earlier`'s result (same rows, same result file, nothing scanned)."""
        with self.lock:
            self.state = "RUNNING"
            self._started_at = time.monotonic()
            self.reused = True
            self.result = earlier.result
            self.result_configuration["OutputLocation"] = earlier.result_configuration["OutputLocation"]
            self._finish("SUCCEEDED")

    def fail(self, failure: Failure, data_scanned: int = 0) -> None:
        with self.lock:
            if self.finished:
                return
            self.failure = failure
            self.data_scanned = data_scanned
            self._finish("FAILED")

    def cancel(self, reason: str = "Query cancelled by user") -> bool:
        """Request a stop; a QUEUED execution is CANCELLED at once. True when it was not finished."""
        with self.lock:
            if self.finished:
                return False
            self.cancel_requested.set()
            self.cancel_reason = reason
            if self.state == "QUEUED":
                self._finish("CANCELLED")
            query = self.running_query
        if query is not None:
            query.cancel()
        return True

    def mark_cancelled(self) -> None:
        with self.lock:
            if not self.finished:
                self._finish("CANCELLED")

    # -- timings ---------------------------------------------------------------------------------
    def _ms(self, start: float | None, end: float | None) -> int:
        if start is None:
            return 0
        return max(0, int(((end if end is not None else time.monotonic()) - start) * 1000))

    @property
    def queue_ms(self) -> int:
        end = self._started_at if self._started_at is not None else self._finished_at
        return self._ms(self._submitted_at, end)

    @property
    def engine_ms(self) -> int:
        return self._ms(self._started_at, self._finished_at)

    @property
    def total_ms(self) -> int:
        return self._ms(self._submitted_at, self._finished_at)

    # -- API shapes ------------------------------------------------------------------------------
    def statistics(self) -> dict[str, Any]:
        stats: dict[str, Any] = {
            "EngineExecutionTimeInMillis": self.engine_ms,
            "DataScannedInBytes": self.data_scanned,
            "TotalExecutionTimeInMillis": self.total_ms,
            "QueryQueueTimeInMillis": self.queue_ms,
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": 0,
            "ResultReuseInformation": {"ReusedPreviousResult": self.reused},
        }
        if self.manifest_location:
            stats["DataManifestLocation"] = self.manifest_location
        return stats

    def status(self) -> dict[str, Any]:
        status: dict[str, Any] = {"State": self.state, "SubmissionDateTime": self.submitted.timestamp()}
        if self.completed is not None:
            status["CompletionDateTime"] = self.completed.timestamp()
        if self.state == "FAILED" and self.failure is not None:
            status["StateChangeReason"] = self.failure.reason
            status["AthenaError"] = self.failure.to_api()
        elif self.state == "CANCELLED":
            status["StateChangeReason"] = self.cancel_reason or "Query cancelled by user"
        return status

    def to_api(self) -> dict[str, Any]:
        with self.lock:
            out: dict[str, Any] = {
                "QueryExecutionId": self.id,
                "Query": self.query,
                "StatementType": self.statement_type,
                "ResultConfiguration": dict(self.result_configuration),
                "ResultReuseConfiguration": copy.deepcopy(self.reuse_configuration),
                "QueryExecutionContext": dict(self.context),
                "Status": self.status(),
                "Statistics": self.statistics(),
                "WorkGroup": self.work_group,
                "EngineVersion": dict(ENGINE_VERSION),
            }
            if self.execution_parameters is not None:
                out["ExecutionParameters"] = list(self.execution_parameters)
            return out

    def runtime_statistics(self) -> dict[str, Any]:
        with self.lock:
            timeline = {
                "QueryQueueTimeInMillis": self.queue_ms,
                "ServicePreProcessingTimeInMillis": 0,
                "QueryPlanningTimeInMillis": 0,
                "EngineExecutionTimeInMillis": self.engine_ms,
                "ServiceProcessingTimeInMillis": 0,
                "TotalExecutionTimeInMillis": self.total_ms,
            }
            out: dict[str, Any] = {"Timeline": timeline}
            if self.result is not None:
                output_rows = self.result.update_count if not self.result.header else self.result.row_count
                out["Rows"] = {"InputBytes": self.data_scanned, "OutputBytes": self.result.output_bytes,
                               "OutputRows": output_rows}
                out["OutputStage"] = {"StageId": 0, "State": "FINISHED", "InputBytes": self.data_scanned,
                                      "OutputBytes": self.result.output_bytes, "OutputRows": output_rows,
                                      "ExecutionTime": self.engine_ms}
            return out
