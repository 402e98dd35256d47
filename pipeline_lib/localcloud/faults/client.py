"""The control API's client side: show, set and clear a running cloud's faults; crash it."""
from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any, Mapping

from .config import FaultConfigError

__all__ = ["clear", "crash", "set_faults", "show"]


def _call(endpoint: str, method: str, body: Mapping[str, Any] | None = None, timeout: float = 10.0) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{endpoint}/_workbench/faults", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback only)
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = json.loads(exc.read() or b"{}").get("error", str(exc))
        if exc.code == 400:
            raise FaultConfigError(detail) from None
        raise RuntimeError(f"the local cloud refused the fault settings: {detail}") from None


def show(endpoint: str) -> dict[str, Any]:
    return _call(endpoint, "GET")


def set_faults(endpoint: str, settings: Mapping[str, Any], replace: bool = False) -> dict[str, Any]:
    return _call(endpoint, "POST", {"set": dict(settings), "replace": replace})


def clear(endpoint: str) -> dict[str, Any]:
    return _call(endpoint, "DELETE")


def crash(endpoint: str) -> None:
    """Kill the cloud at once (SIGKILL, as `kill -9`): nothing is saved, nothing shut down."""
    try:
        _call(endpoint, "POST", {"crash": True}, timeout=5.0)
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, OSError):
        pass  # the process died before it answered: that is the crash
