"""The local Athena API: query executions run by the engine in a small worker pool, their result
files and work groups; the catalog views (`catalog_api`) and named queries and prepared statements
(`saved_queries`) answer their own actions.

`AthenaService.handle(action, account, region, params)` answers one API call with the response
dict (AWS's shapes, as in botocore's athena service model) or raises `errors.ApiError`. It knows
moto only through `Backends` (three look-ups the extension builds from moto's backend dicts).
"""
from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .. import afterresponse
from . import metrics, results
from .backends import Backends
from .catalog import MotoGlueCatalog
from .catalog_api import AWS_DATA_CATALOG, CatalogApi
from .errors import ApiError, InvalidRequest
from .executions import Execution, Failure, Result
from .paging import list_page, page_offset, page_token, with_token
from .saved_queries import SavedQueries
from .sqltext import parse_deallocate, parse_execute, parse_prepare
from .storage import MotoS3Storage
from .workgroups import (
    PRIMARY,
    apply_updates,
    effective_result_configuration,
    work_group_api,
    work_group_summary,
)

__all__ = ["AWS_DATA_CATALOG", "AthenaService", "Backends"]

log = logging.getLogger("pipeline_lib.localcloud.athena")

DEFAULT_WORKERS = 4
MAX_RESULTS_PAGE = 1000
# Parsed result rows held in memory for GetQueryResults (values, most recently used kept); older
# CSV results are read back from their file, as Athena reads its own results.
HELD_VALUES = 5_000_000
# GetQueryExecution on an execution still QUEUED/RUNNING answers once it finishes or after this
# long, whichever comes first (woken by the finish, never a sleep). The answer is what Athena would
# give at that moment; only its latency changes, and a polling client (awswrangler polls at once,
# then every second) sees a short query's final state on its first poll instead of a second later.
POLL_HOLD_SECONDS = 0.25


@dataclass
class _Region:
    """The state one account's Athena holds in one region (beyond moto's work groups)."""

    executions: "OrderedDict[str, Execution]" = field(default_factory=OrderedDict)
    tokens: dict[str, str] = field(default_factory=dict)
    work_groups_created: dict[str, datetime] = field(default_factory=dict)


def _split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise InvalidRequest(f"{uri} is not a valid S3 location: it must start with s3://")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


class _EncryptedResults:
    """Result files written with the ResultConfiguration's EncryptionConfiguration (SSE_S3, SSE_KMS),
    as S3 reports it on the objects; CSE_KMS (client-side) is stored as given."""

    _SSE = {"SSE_S3": "AES256", "SSE_KMS": "aws:kms"}

    def __init__(self, storage: MotoS3Storage, configuration: dict[str, Any] | None):
        self._storage = storage
        option = (configuration or {}).get("EncryptionOption")
        self._encryption = self._SSE.get(option or "")
        self._kms_key = (configuration or {}).get("KmsKey") if option == "SSE_KMS" else None

    def put_object(self, bucket: str, key: str, body: bytes) -> None:
        self._storage.put_object(bucket, key, body, encryption=self._encryption, kms_key_id=self._kms_key)


class AthenaService:
    def __init__(self, backends: Backends, workers: int = DEFAULT_WORKERS):
        self.backends = backends
        self._regions: dict[tuple[str, str], _Region] = {}
        self._lock = threading.RLock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="athena-query")
        self._sequence = 0
        self._held: "OrderedDict[str, tuple[list[list[str | None]], int]]" = OrderedDict()
        self._held_values = 0
        self.counts = {"queries_started": 0, "queries_succeeded": 0, "queries_failed": 0, "queries_cancelled": 0}
        self.catalog_api = CatalogApi(backends)
        self.saved = SavedQueries(lambda account, region, name: self._work_group(account, region, name).name)
        self._actions: dict[str, Callable[[str, str, dict[str, Any]], dict[str, Any]]] = {
            **{name: getattr(self, f"_{name}") for name in OWN_ACTIONS},
            **{name: getattr(self.catalog_api, name) for name in CatalogApi.ACTIONS},
            **{name: getattr(self.saved, name) for name in SavedQueries.ACTIONS},
        }

    # -- plumbing --------------------------------------------------------------------------------
    def handle(self, action: str, account: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
        return self._actions[action](account, region, params)

    def _region(self, account: str, region: str) -> _Region:
        with self._lock:
            return self._regions.setdefault((account, region), _Region())

    def shutdown(self) -> None:
        with self._lock:
            running = [e for r in self._regions.values() for e in r.executions.values() if not e.finished]
        for execution in running:
            execution.cancel("The local cloud stopped")
        self._pool.shutdown(wait=False, cancel_futures=True)

    def running(self) -> int:
        with self._lock:
            return sum(1 for r in self._regions.values() for e in r.executions.values() if not e.finished)

    def wait(self, timeout: float) -> bool:
        """Until every execution accepted so far has finished (or `timeout`)."""
        import time

        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def catalog(self, account: str, region: str) -> MotoGlueCatalog:
        return MotoGlueCatalog(self.backends.glue(account, region))

    def storage(self, account: str, region: str) -> MotoS3Storage:
        return MotoS3Storage(self.backends.s3(account, region))

    # -- work groups -------------------------------------------------------------------------------
    def _work_group(self, account: str, region: str, name: str | None) -> Any:
        name = name or PRIMARY
        work_group = self.backends.athena(account, region).work_groups.get(name)
        if work_group is None:
            raise InvalidRequest(f"WorkGroup {name} is not found.")
        return work_group

    def _created(self, account: str, region: str, name: str) -> datetime:
        state = self._region(account, region)
        with self._lock:
            return state.work_groups_created.setdefault(name, datetime.now(timezone.utc))

    def _create_work_group(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        backend = self.backends.athena(account, region)
        name = p["Name"]
        if name in backend.work_groups:
            raise InvalidRequest(f"WorkGroup {name} already exists")
        backend.create_work_group(name, dict(p.get("Configuration") or {}), p.get("Description", ""), p.get("Tags") or [])
        with self._lock:
            self._region(account, region).work_groups_created[name] = datetime.now(timezone.utc)
        return {}

    def _get_work_group(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        work_group = self._work_group(account, region, p.get("WorkGroup"))
        return {"WorkGroup": work_group_api(work_group, self._created(account, region, work_group.name))}

    def _list_work_groups(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        groups = sorted(self.backends.athena(account, region).work_groups.values(), key=lambda g: g.name)
        summaries = [work_group_summary(g, self._created(account, region, g.name)) for g in groups]
        page, token = list_page(summaries, p.get("NextToken"), p.get("MaxResults"), 50, "work-groups")
        return with_token({"WorkGroups": page}, token)

    def _update_work_group(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        work_group = self._work_group(account, region, p.get("WorkGroup"))
        apply_updates(work_group, p)
        return {}

    def _delete_work_group(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        work_group = self._work_group(account, region, p.get("WorkGroup"))
        name = work_group.name
        if name == PRIMARY:
            raise InvalidRequest("The primary workgroup cannot be deleted")
        state = self._region(account, region)
        with self._lock:
            executions = [i for i, e in state.executions.items() if e.work_group == name]
        if executions or self.saved.holds(account, region, name):
            if not p.get("RecursiveDeleteOption"):
                raise InvalidRequest(f"WorkGroup {name} is not empty")
            for execution_id in executions:
                state.executions[execution_id].cancel("The work group was deleted")
            with self._lock:
                for execution_id in executions:
                    state.executions.pop(execution_id, None)
            self.saved.drop_work_group(account, region, name)
        self.backends.athena(account, region).delete_work_group(name)
        with self._lock:
            state.work_groups_created.pop(name, None)
        return {}

    # -- StartQueryExecution -----------------------------------------------------------------------
    def _start_query_execution(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        from .engine import MalformedQuery, parse_check, statement_type

        query = p.get("QueryString")
        if not query or not query.strip():
            raise InvalidRequest("QueryString must not be empty")
        work_group = self._work_group(account, region, p.get("WorkGroup"))
        if getattr(work_group, "state", "ENABLED") != "ENABLED":
            raise InvalidRequest(f"WorkGroup {work_group.name} is disabled.")
        state = self._region(account, region)
        token = p.get("ClientRequestToken")
        context = dict(p.get("QueryExecutionContext") or {})
        fingerprint = (query, json.dumps(context, sort_keys=True), json.dumps(p.get("ResultConfiguration"), sort_keys=True),
                       work_group.name, json.dumps(p.get("ExecutionParameters")))
        if token:
            with self._lock:
                known = state.tokens.get(token)
            if known is not None:
                if state.executions[known].fingerprint != fingerprint:
                    raise InvalidRequest("Idempotent parameters do not match")
                return {"QueryExecutionId": known}

        execution_parameters = p.get("ExecutionParameters")
        sql, params = query, execution_parameters
        execute = parse_execute(query)
        if execute is not None:
            prepared = self.saved.prepared_statement(account, region, work_group.name, execute.name)
            if prepared is None:
                raise InvalidRequest(f"Prepared statement {execute.name} was not found in workGroup {work_group.name}.")
            sql = prepared["QueryStatement"]
            if execute.using and execution_parameters:
                raise InvalidRequest("Use either EXECUTE ... USING or ExecutionParameters, not both")
            params = execute.using or execution_parameters
        action = None
        prepare, deallocate = parse_prepare(query), parse_deallocate(query)
        try:
            parse_check(prepare[1] if prepare else sql)
        except MalformedQuery as exc:
            raise InvalidRequest(exc.message, athena_error_code="MALFORMED_QUERY") from None
        if prepare is not None:
            action = self._prepare_action(account, region, work_group.name, *prepare)
        elif deallocate is not None:
            action = self._deallocate_action(account, region, work_group.name, deallocate)

        result_configuration = effective_result_configuration(work_group, p.get("ResultConfiguration"))
        output = result_configuration.get("OutputLocation")
        if not output:
            raise InvalidRequest(
                "No output location provided. An output location is required either through the Workgroup "
                "result configuration setting or as an API input.")
        _split_s3(output)
        output_dir = output if output.endswith("/") else output + "/"
        kind = statement_type(sql)
        execution_id = str(uuid.uuid4())
        # DDL and utility output is text, the rest CSV; once the query ran, the file it wrote is named.
        result_configuration["OutputLocation"] = f"{output_dir}{execution_id}.{'csv' if kind == 'DML' else 'txt'}"
        reuse = p.get("ResultReuseConfiguration") or {"ResultReuseByAgeConfiguration": {"Enabled": False}}
        execution = Execution(
            id=execution_id, query=query, sql=sql, params=list(params) if params else None, statement_type=kind,
            work_group=work_group.name, context=context, result_configuration=result_configuration,
            output_dir=output_dir, execution_parameters=execution_parameters, region=region, account_id=account,
            token=token, fingerprint=fingerprint, action=action, on_finish=self._finished,
            reuse_configuration=reuse,
        )
        earlier = self._reusable(state, execution)
        with self._lock:
            if token and token in state.tokens:  # a concurrent retry won the race
                return {"QueryExecutionId": state.tokens[token]}
            state.executions[execution_id] = execution
            if token:
                state.tokens[token] = execution_id
            self.counts["queries_started"] += 1
            self._sequence += 1
            sequence = self._sequence
        if earlier is not None:
            execution.reuse(earlier)
        else:
            # Queued now (QUEUED until a worker takes it); handed to the pool once the answer is sent.
            afterresponse.defer(lambda: self._submit(execution, sequence))
        return {"QueryExecutionId": execution_id}

    def _submit(self, execution: Execution, sequence: int) -> None:
        try:
            self._pool.submit(self._run, execution, sequence)
        except RuntimeError:  # the pool was shut down (the cloud stopped or was replaced meanwhile)
            execution.cancel("The local cloud stopped")

    def resubmit(self, execution: Execution) -> None:
        """Queue again an execution a loaded state holds unfinished (resume.py): what the save
        could not keep (its finish hook, a PREPARE's or DEALLOCATE's action) is rebuilt."""
        execution.on_finish = self._finished
        prepare, deallocate = parse_prepare(execution.query), parse_deallocate(execution.query)
        if prepare is not None:
            execution.action = self._prepare_action(execution.account_id, execution.region, execution.work_group, *prepare)
        elif deallocate is not None:
            execution.action = self._deallocate_action(execution.account_id, execution.region, execution.work_group,
                                                       deallocate)
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
        self._pool.submit(self._run, execution, sequence)

    def _reusable(self, state: _Region, execution: Execution) -> Execution | None:
        """An earlier execution whose result this one may reuse (ResultReuseByAgeConfiguration):
        the same query text, context, parameters and work group, a SELECT-like result set that
        SUCCEEDED within MaxAgeInMinutes (default 60) and whose result file still exists."""
        by_age = execution.reuse_configuration.get("ResultReuseByAgeConfiguration") or {}
        if not by_age.get("Enabled") or execution.action is not None or execution.statement_type != "DML":
            return None
        max_age = float(by_age.get("MaxAgeInMinutes") or 60) * 60
        now = datetime.now(timezone.utc)
        with self._lock:
            candidates = list(reversed(state.executions.values()))
        for earlier in candidates:
            result = earlier.result
            if (earlier.state != "SUCCEEDED" or result is None or not result.header or earlier.completed is None
                    or (now - earlier.completed).total_seconds() > max_age
                    or (earlier.query, earlier.context, earlier.params, earlier.work_group)
                    != (execution.query, execution.context, execution.params, execution.work_group)):
                continue
            bucket, key = _split_s3(result.csv_location or "")
            if self.storage(execution.account_id, execution.region).exists(bucket, key):
                return earlier
        return None

    def _prepare_action(self, account: str, region: str, work_group: str, name: str,
                        statement: str) -> Callable[[], Failure | None]:
        def prepare() -> Failure | None:
            self.saved.prepare(account, region, work_group, name, statement)
            return None

        return prepare

    def _deallocate_action(self, account: str, region: str, work_group: str, name: str) -> Callable[[], Failure | None]:
        def deallocate() -> Failure | None:
            if self.saved.deallocate(account, region, work_group, name):
                return None
            # Trino's words and code for an unknown prepared statement (Session.getPreparedStatement);
            # ErrorType 1301 "General entity not found" (Athena error catalog, error-reference.html).
            return Failure("NOT_FOUND", f"Prepared statement not found: {name}", 2, 1301)

        return deallocate

    # -- running ---------------------------------------------------------------------------------
    def _run(self, execution: Execution, sequence: int) -> None:
        try:
            self._run_unguarded(execution, sequence)
        except Exception as exc:  # never leave an execution RUNNING forever
            log.exception("query %s: internal error", execution.id)
            execution.fail(Failure("GENERIC_INTERNAL_ERROR", f"{type(exc).__name__}: {exc}", 1, 200, True))

    def _finished(self, execution: Execution, state: str) -> None:
        """As an execution enters its final state (before clients can see it): counts, metrics."""
        with self._lock:
            self.counts[{"SUCCEEDED": "queries_succeeded", "FAILED": "queries_failed",
                         "CANCELLED": "queries_cancelled"}[state]] += 1
        self._publish_metrics(execution, state)

    def _publish_metrics(self, execution: Execution, state: str) -> None:
        """AWS/Athena metrics, when the work group publishes them (PublishCloudWatchMetricsEnabled)."""
        if self.backends.cloudwatch is None:
            return
        try:
            work_group = self.backends.athena(execution.account_id, execution.region).work_groups.get(execution.work_group)
            if work_group is None or not (work_group.configuration or {}).get("PublishCloudWatchMetricsEnabled"):
                return
            self.backends.cloudwatch(execution.account_id, execution.region).put_metric_data(
                metrics.NAMESPACE, metrics.metric_data(execution, state))
        except Exception:  # metrics must never change a query's outcome
            log.exception("query %s: publishing CloudWatch metrics failed", execution.id)

    def _run_unguarded(self, execution: Execution, sequence: int) -> None:
        from .engine import AthenaQueryError, Query

        if not execution.start():
            return  # cancelled while queued
        account, region = execution.account_id, execution.region
        storage = self.storage(account, region)
        catalog_name = execution.context.get("Catalog") or AWS_DATA_CATALOG  # the engine resolves it
        bucket, _ = _split_s3(execution.output_dir)
        if not storage.bucket_exists(bucket):
            execution.fail(Failure("INVALID_OUTPUT_LOCATION", f"Unable to verify/create output bucket {bucket}", 2,
                                   1306))  # ErrorType 1306: Amazon S3 bucket not found (error-reference.html)
            return
        if execution.action is not None:
            failure = execution.action()
            if failure is not None:
                execution.fail(failure)
                return
            _EncryptedResults(storage, execution.result_configuration.get("EncryptionConfiguration")).put_object(
                bucket, f"{_split_s3(execution.output_dir)[1]}{execution.id}.txt", b"")
            execution.succeed(Result(columns=[], rows=[], header=False, update_count=0), 0, None)
            return
        query = Query(
            execution.sql, catalog=self.catalog(account, region), storage=storage,
            database=execution.context.get("Database") or "default", catalog_name=catalog_name,
            params=execution.params, query_id=execution.id, output_location=execution.output_dir,
        )
        with execution.lock:
            execution.running_query = query
        if execution.cancel_requested.is_set():
            query.cancel()
        try:
            outcome = query.run()
        except AthenaQueryError as exc:
            if execution.cancel_requested.is_set():
                execution.mark_cancelled()
            else:
                execution.fail(Failure(exc.error_name, exc.message, exc.error_category, exc.error_type, exc.retryable))
            return
        finally:
            with execution.lock:
                execution.running_query = None
        result, manifest = self._write_results(execution, outcome, results.engine_query_id(sequence=sequence))
        execution.succeed(result, outcome.data_scanned_bytes, manifest)

    def _write_results(self, execution: Execution, outcome: Any, engine_id: str) -> tuple[Result, str | None]:
        """The result files of a finished query (AWS's names and formats); the API's Result."""
        bucket, prefix = _split_s3(execution.output_dir)
        base = f"{prefix}{execution.id}"
        storage = _EncryptedResults(self.storage(execution.account_id, execution.region),
                                    execution.result_configuration.get("EncryptionConfiguration"))
        columns = [column.to_api() for column in outcome.columns]
        manifest = None
        rows: list[list[str | None]] = []
        output_bytes = 0
        if outcome.result_format == "csv":
            rows = [list(row) for row in outcome.render_rows()]
            body = results.csv_bytes([c["Name"] for c in columns], rows)
            storage.put_object(bucket, f"{base}.csv", body)
            storage.put_object(bucket, f"{base}.csv.metadata", results.metadata_bytes(engine_id, columns))
            output_bytes = len(body)
            location = f"s3://{bucket}/{base}.csv"
        elif outcome.result_format == "txt":
            rows = [list(row) for row in outcome.render_rows()]
            body = outcome.render_text().encode("utf-8")
            storage.put_object(bucket, f"{base}.txt", body)
            storage.put_object(bucket, f"{base}.txt.metadata", results.metadata_bytes(engine_id, columns))
            output_bytes = len(body)
            location = f"s3://{bucket}/{base}.txt"
        else:
            location = execution.result_configuration["OutputLocation"]
            if outcome.update_count is not None:  # CTAS, INSERT INTO, UNLOAD: what was written
                storage.put_object(bucket, f"{base}-manifest.csv", results.manifest_bytes(outcome.written_files))
                storage.put_object(bucket, f"{base}.metadata", results.metadata_bytes(engine_id, columns))
                manifest = f"s3://{bucket}/{base}-manifest.csv"
            elif execution.statement_type == "DDL":  # DDL without output: an empty text result
                storage.put_object(bucket, f"{base}.txt", b"")
                location = f"s3://{bucket}/{base}.txt"
        with execution.lock:
            execution.result_configuration["OutputLocation"] = location
        csv = outcome.result_format == "csv"
        result = Result(columns=columns if outcome.result_format != "none" else [], rows=None if csv else rows,
                        header=csv, update_count=outcome.update_count or 0, row_count=len(rows),
                        output_bytes=output_bytes, csv_location=location if csv else None)
        if csv:
            self._hold(execution.id, rows, len(columns))
        return result, manifest

    # -- result rows held in memory ----------------------------------------------------------------
    def _hold(self, execution_id: str, rows: list[list[str | None]], width: int) -> None:
        cost = len(rows) * max(width, 1)
        with self._lock:
            previous = self._held.pop(execution_id, None)
            if previous is not None:
                self._held_values -= previous[1]
            self._held[execution_id] = (rows, cost)
            self._held_values += cost
            while self._held_values > HELD_VALUES and len(self._held) > 1:
                _, (_, dropped) = self._held.popitem(last=False)
                self._held_values -= dropped

    def _rows(self, execution: Execution) -> list[list[str | None]]:
        result = execution.result
        assert result is not None
        if result.rows is not None:
            return result.rows
        # GetQueryResults reads the result file (Athena needs s3:GetObject on it): gone is an error.
        bucket, key = _split_s3(result.csv_location or "")
        storage = self.storage(execution.account_id, execution.region)
        if not storage.exists(bucket, key):
            raise InvalidRequest(f"Unable to read the query results: {result.csv_location} does not exist")
        with self._lock:
            held = self._held.get(execution.id)
            if held is not None:
                self._held.move_to_end(execution.id)
                return held[0]
        try:
            body = storage.get_object(bucket, key)
        except KeyError:
            raise InvalidRequest(f"Unable to read the query results: {result.csv_location} does not exist") from None
        rows = results.parse_csv(body)[1:]
        self._hold(execution.id, rows, len(result.columns))
        return rows

    # -- reading executions ------------------------------------------------------------------------
    def _execution(self, account: str, region: str, execution_id: str | None) -> Execution:
        execution = self._region(account, region).executions.get(execution_id or "")
        if execution is None:
            raise InvalidRequest(f"QueryExecution {execution_id} was not found")
        return execution

    def _get_query_execution(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(account, region, p.get("QueryExecutionId"))
        if not execution.finished:
            execution.wait_finished(POLL_HOLD_SECONDS)
        return {"QueryExecution": execution.to_api()}

    def _batch_get_query_execution(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        ids = p.get("QueryExecutionIds") or []
        if not 1 <= len(ids) <= 50:
            raise InvalidRequest("QueryExecutionIds must hold 1 to 50 ids")
        found, missing = [], []
        executions = self._region(account, region).executions
        for execution_id in ids:
            execution = executions.get(execution_id)
            if execution is None:
                missing.append({"QueryExecutionId": execution_id, "ErrorCode": "INVALID_INPUT",
                                "ErrorMessage": f"QueryExecution {execution_id} was not found"})
            else:
                found.append(execution.to_api())
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def _list_query_executions(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        work_group = self._work_group(account, region, p.get("WorkGroup")).name
        with self._lock:
            ids = [e.id for e in reversed(self._region(account, region).executions.values()) if e.work_group == work_group]
        page, token = list_page(ids, p.get("NextToken"), p.get("MaxResults"), 50, f"executions:{work_group}")
        return with_token({"QueryExecutionIds": page}, token)

    def _stop_query_execution(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        self._execution(account, region, p.get("QueryExecutionId")).cancel()
        return {}

    def _get_query_runtime_statistics(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(account, region, p.get("QueryExecutionId"))
        return {"QueryRuntimeStatistics": execution.runtime_statistics()}

    def _get_query_results(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        execution = self._execution(account, region, p.get("QueryExecutionId"))
        if execution.state == "FAILED" and execution.failure is not None:
            raise InvalidRequest(execution.failure.reason)
        if execution.state != "SUCCEEDED" or execution.result is None:
            raise InvalidRequest(f"Query has not yet finished. Current state: {execution.state}")
        size = p.get("MaxResults")
        size = MAX_RESULTS_PAGE if size is None else int(size)
        if not 1 <= size <= MAX_RESULTS_PAGE:
            raise InvalidRequest(f"MaxResults must be between 1 and {MAX_RESULTS_PAGE}")
        result = execution.result
        offset = page_offset(p.get("NextToken"), execution.id)
        header = 1 if result.header else 0
        held = self._rows(execution) if offset + size > header else []
        total = header + result.row_count
        end = min(offset + size, total)
        rows = []
        for index in range(offset, end):
            values = [c["Name"] for c in result.columns] if index < header else held[index - header]
            rows.append({"Data": [{} if v is None else {"VarCharValue": v} for v in values]})
        out: dict[str, Any] = {
            "UpdateCount": result.update_count,
            "ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": result.columns}},
        }
        if end < total:
            out["NextToken"] = page_token(execution.id, end)
        return out


# The API actions the service answers itself (as `_<name>`); CatalogApi and SavedQueries answer theirs.
OWN_ACTIONS: tuple[str, ...] = (
    "create_work_group", "get_work_group", "list_work_groups", "update_work_group", "delete_work_group",
    "start_query_execution", "get_query_execution", "batch_get_query_execution", "list_query_executions",
    "stop_query_execution", "get_query_results", "get_query_runtime_statistics",
)
# Every action (moto's AthenaResponse method names) the seams route to the service.
ACTIONS: tuple[str, ...] = OWN_ACTIONS + CatalogApi.ACTIONS + SavedQueries.ACTIONS

__all__ += ["ACTIONS", "ApiError"]
