"""Named queries and prepared statements (per account and region; prepared statements belong to a
work group): the API actions, and what StartQueryExecution needs for EXECUTE, PREPARE and
DEALLOCATE PREPARE."""
from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from .errors import InvalidRequest, ResourceNotFound
from .paging import list_page, with_token

__all__ = ["SavedQueries"]


def _check_syntax(statement: str) -> None:
    from .engine import MalformedQuery, parse_check

    try:
        parse_check(statement)
    except MalformedQuery as exc:
        raise InvalidRequest(exc.message, athena_error_code="MALFORMED_QUERY") from None


class _Store:
    def __init__(self) -> None:
        self.named: "OrderedDict[str, dict[str, Any]]" = OrderedDict()
        self.named_tokens: dict[str, str] = {}
        self.prepared: dict[tuple[str, str], dict[str, Any]] = {}


class SavedQueries:
    ACTIONS = ("create_named_query", "get_named_query", "update_named_query", "delete_named_query",
               "list_named_queries", "batch_get_named_query",
               "create_prepared_statement", "get_prepared_statement", "update_prepared_statement",
               "delete_prepared_statement", "list_prepared_statements", "batch_get_prepared_statement")

    def __init__(self, work_group_name: Callable[[str, str, str | None], str]):
        """`work_group_name(account, region, name)`: the existing work group's name (InvalidRequest
        when there is none; None means primary)."""
        self._work_group = work_group_name
        self._stores: dict[tuple[str, str], _Store] = {}
        self._lock = threading.RLock()

    def _store(self, account: str, region: str) -> _Store:
        with self._lock:
            return self._stores.setdefault((account, region), _Store())

    # -- what StartQueryExecution uses -------------------------------------------------------------
    def prepared_statement(self, account: str, region: str, work_group: str, name: str) -> dict[str, Any] | None:
        return self._store(account, region).prepared.get((work_group, name))

    def prepare(self, account: str, region: str, work_group: str, name: str, statement: str) -> None:
        """PREPARE name FROM statement: creates or replaces (as Trino does) the work group's statement."""
        with self._lock:
            self._store(account, region).prepared[(work_group, name)] = {
                "StatementName": name, "QueryStatement": statement, "WorkGroupName": work_group,
                "LastModifiedTime": datetime.now(timezone.utc).timestamp()}

    def deallocate(self, account: str, region: str, work_group: str, name: str) -> bool:
        with self._lock:
            return self._store(account, region).prepared.pop((work_group, name), None) is not None

    def holds(self, account: str, region: str, work_group: str) -> bool:
        """Whether the work group holds named queries or prepared statements."""
        store = self._store(account, region)
        with self._lock:
            return (any(q["WorkGroup"] == work_group for q in store.named.values())
                    or any(group == work_group for group, _ in store.prepared))

    def drop_work_group(self, account: str, region: str, work_group: str) -> None:
        """DeleteWorkGroup with RecursiveDeleteOption: the work group's named queries and statements go too."""
        store = self._store(account, region)
        with self._lock:
            for query_id in [i for i, q in store.named.items() if q["WorkGroup"] == work_group]:
                del store.named[query_id]
            for key in [k for k in store.prepared if k[0] == work_group]:
                del store.prepared[key]

    # -- named queries -----------------------------------------------------------------------------
    def create_named_query(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        for required in ("Name", "Database", "QueryString"):
            if not p.get(required):
                raise InvalidRequest(f"{required} must be given")
        work_group = self._work_group(account, region, p.get("WorkGroup"))
        store = self._store(account, region)
        token = p.get("ClientRequestToken")
        with self._lock:
            if token and token in store.named_tokens:
                return {"NamedQueryId": store.named_tokens[token]}
            query_id = str(uuid.uuid4())
            store.named[query_id] = {"Name": p["Name"], "Database": p["Database"], "QueryString": p["QueryString"],
                                     "NamedQueryId": query_id, "WorkGroup": work_group,
                                     **({"Description": p["Description"]} if p.get("Description") else {})}
            if token:
                store.named_tokens[token] = query_id
        return {"NamedQueryId": query_id}

    def _named(self, account: str, region: str, query_id: str | None) -> dict[str, Any]:
        named = self._store(account, region).named.get(query_id or "")
        if named is None:
            raise InvalidRequest(f"NamedQuery {query_id} was not found")
        return named

    def get_named_query(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        return {"NamedQuery": dict(self._named(account, region, p.get("NamedQueryId")))}

    def update_named_query(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        named = self._named(account, region, p.get("NamedQueryId"))
        with self._lock:
            named.update({k: p[k] for k in ("Name", "QueryString", "Description") if k in p})
        return {}

    def delete_named_query(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        self._named(account, region, p.get("NamedQueryId"))
        with self._lock:
            self._store(account, region).named.pop(p["NamedQueryId"], None)
        return {}

    def list_named_queries(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        work_group = self._work_group(account, region, p.get("WorkGroup"))
        with self._lock:
            ids = [q["NamedQueryId"] for q in self._store(account, region).named.values() if q["WorkGroup"] == work_group]
        page, token = list_page(ids, p.get("NextToken"), p.get("MaxResults"), 50, f"named:{work_group}")
        return with_token({"NamedQueryIds": page}, token)

    def batch_get_named_query(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        found, missing = [], []
        named = self._store(account, region).named
        for query_id in p.get("NamedQueryIds") or []:
            if query_id in named:
                found.append(dict(named[query_id]))
            else:
                missing.append({"NamedQueryId": query_id, "ErrorCode": "INVALID_INPUT",
                                "ErrorMessage": f"NamedQuery {query_id} was not found"})
        return {"NamedQueries": found, "UnprocessedNamedQueryIds": missing}

    # -- prepared statements -----------------------------------------------------------------------
    def create_prepared_statement(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        work_group = self._work_group(account, region, p.get("WorkGroup"))
        name, statement = p.get("StatementName") or "", p.get("QueryStatement") or ""
        _check_syntax(statement)
        store = self._store(account, region)
        with self._lock:
            if (work_group, name) in store.prepared:
                raise InvalidRequest(f"Prepared statement {name} already exists in workGroup {work_group}")
            store.prepared[(work_group, name)] = {
                "StatementName": name, "QueryStatement": statement, "WorkGroupName": work_group,
                "LastModifiedTime": datetime.now(timezone.utc).timestamp(),
                **({"Description": p["Description"]} if p.get("Description") else {}),
            }
        return {}

    def _prepared(self, account: str, region: str, p: dict[str, Any]) -> tuple[tuple[str, str], dict[str, Any]]:
        work_group = self._work_group(account, region, p.get("WorkGroup"))
        key = (work_group, p.get("StatementName") or "")
        statement = self._store(account, region).prepared.get(key)
        if statement is None:
            raise ResourceNotFound(f"PreparedStatement {key[1]} was not found in workGroup {work_group}.")
        return key, statement

    def get_prepared_statement(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        return {"PreparedStatement": dict(self._prepared(account, region, p)[1])}

    def update_prepared_statement(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        _, statement = self._prepared(account, region, p)
        _check_syntax(p.get("QueryStatement") or "")
        with self._lock:
            statement["QueryStatement"] = p["QueryStatement"]
            statement["LastModifiedTime"] = datetime.now(timezone.utc).timestamp()
            if "Description" in p:
                statement["Description"] = p["Description"]
        return {}

    def delete_prepared_statement(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        key, _ = self._prepared(account, region, p)
        with self._lock:
            self._store(account, region).prepared.pop(key, None)
        return {}

    def list_prepared_statements(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        work_group = self._work_group(account, region, p.get("WorkGroup"))
        with self._lock:
            summaries = [{"StatementName": s["StatementName"], "LastModifiedTime": s["LastModifiedTime"]}
                         for (group, _), s in sorted(self._store(account, region).prepared.items()) if group == work_group]
        page, token = list_page(summaries, p.get("NextToken"), p.get("MaxResults"), 50, f"prepared:{work_group}")
        return with_token({"PreparedStatements": page}, token)

    def batch_get_prepared_statement(self, account: str, region: str, p: dict[str, Any]) -> dict[str, Any]:
        work_group = self._work_group(account, region, p.get("WorkGroup"))
        found, missing = [], []
        prepared = self._store(account, region).prepared
        for name in p.get("PreparedStatementNames") or []:
            if (work_group, name) in prepared:
                found.append(dict(prepared[(work_group, name)]))
            else:
                missing.append({"StatementName": name, "ErrorCode": "INVALID_INPUT",
                                "ErrorMessage": f"PreparedStatement {name} was not found in workGroup {work_group}."})
        return {"PreparedStatements": found, "UnprocessedPreparedStatementNames": missing}
