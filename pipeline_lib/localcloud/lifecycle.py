"""Start, find, inspect and stop the local cloud (the client side of `python -m pipeline_lib local`)."""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from .statedir import DEFAULT_REGION, CloudRecord, StateDir

DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class LocalCloudError(RuntimeError):
    pass


@dataclass(frozen=True)
class Running:
    endpoint: str
    record: CloudRecord | None  # None when found through AWS_ENDPOINT_URL only


def _get_json(url: str, timeout: float = 2.0, data: bytes | None = None) -> Any:
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (loopback only)
        return json.loads(resp.read() or b"null")


def health(endpoint: str, timeout: float = 2.0) -> dict | None:
    try:
        return _get_json(f"{endpoint}/_workbench/health", timeout)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def server_holds_lock(state: StateDir) -> bool:
    """Whether a cloud process holds the state dir's server lock: true for its whole life, false
    once it has exited (crashed, killed, or a zombie not yet reaped), whatever pid it had."""
    try:
        handle = open(state.lock_file, "rb")
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def find(state_dir: str | None = None) -> Running | None:
    """The running cloud of this state dir, if one answers."""
    state = StateDir(state_dir)
    record = state.read_record()
    if record is None or not pid_alive(record.pid):
        return None
    answer = health(record.endpoint)
    if not answer or answer.get("pid") != record.pid:
        return None
    return Running(record.endpoint, record)


@contextmanager
def _up_lock(state: StateDir) -> Iterator[None]:
    state.ensure()
    with open(state.up_lock_file, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks: a concurrent `up` waits, then finds ours
        yield


def up(port: int | None = None, state_dir: str | None = None, time_scale: float | None = None,
       timeout: float = 60.0) -> Running:
    """Start the cloud in the background unless it runs; return once it answers."""
    state = StateDir(state_dir)
    with _up_lock(state):
        running = find(state_dir)
        if running:
            if port and running.record and running.record.port != port:
                raise LocalCloudError(
                    f"a local cloud already runs on {state.path} at port {running.record.port}; "
                    f"run `python -m pipeline_lib local down` first to move it to {port}"
                )
            return running
        state.clear_record()
        cmd = [sys.executable, "-m", "pipeline_lib.localcloud.server", "--state-dir", str(state.path)]
        if port is not None:
            cmd += ["--port", str(port)]
        if time_scale is not None:
            cmd += ["--time-scale", str(time_scale)]
        env = dict(os.environ)
        # The server sets its own endpoint and dummy credentials; a user's profile or session
        # token (possibly for a profile that does not exist here) must not reach it.
        for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(var, None)
        log = open(state.server_log, "ab")
        log_start = log.tell()  # the log is appended to: show only this start's lines
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, start_new_session=True,  # survives the shell that started it
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise LocalCloudError(
                    f"the local cloud exited with code {proc.returncode}; its log says:\n{_tail(state, log_start)}"
                )
            record = state.read_record()
            if record and record.pid == proc.pid and health(record.endpoint):
                return Running(record.endpoint, record)
            time.sleep(0.1)
        proc.terminate()
        raise LocalCloudError(
            f"the local cloud did not answer within {timeout:.0f}s; log:\n{_tail(state, log_start)}"
        )


def _tail(state: StateDir, start: int = 0, lines: int = 30) -> str:
    """The last `lines` lines of the server log written from byte `start` on."""
    try:
        with open(state.server_log, "rb") as handle:
            handle.seek(start)
            text = handle.read().decode(errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(no log)"


def down(state_dir: str | None = None, timeout: float = 180.0) -> bool:
    """Stop the cloud cleanly; True if one was running. A clean stop delivers what is in flight
    and saves the state (up to 120 s of flush, then the save), hence the generous timeout."""
    state = StateDir(state_dir)
    record = state.read_record()
    # Without the lock held the record is stale (the cloud crashed or is a zombie) and its pid
    # may belong to an unrelated process by now: signal nothing.
    if record is None or not pid_alive(record.pid) or not server_holds_lock(state):
        state.clear_record()
        return False
    os.kill(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(record.pid) and server_holds_lock(state):
        _reap(record.pid)
        time.sleep(0.05)
    if pid_alive(record.pid) and server_holds_lock(state):
        os.kill(record.pid, signal.SIGKILL)
    _reap(record.pid)
    state.clear_record()
    return True


def _reap(pid: int) -> None:
    """Reap `pid` when it is our child (tests start clouds in-process); harmless otherwise."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def status(state_dir: str | None = None) -> dict[str, Any]:
    running = find(state_dir)
    if not running:
        return {"running": False, "state_dir": str(StateDir(state_dir).path)}
    detail = _get_json(f"{running.endpoint}/_workbench/status", timeout=10)
    return {"running": True, "state_dir": str(StateDir(state_dir).path), **detail}


def flush(endpoint: str, timeout: float = 300.0) -> dict[str, Any]:
    """Return when everything the cloud accepted so far is delivered (Firehose → S3 and so on)."""
    body = json.dumps({"timeout": timeout}).encode()
    return _get_json(f"{endpoint}/_workbench/flush", timeout=timeout + 30, data=body)


def client_env(endpoint: str, region: str | None = None) -> dict[str, str]:
    region = region or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    return {
        "AWS_ENDPOINT_URL": endpoint,
        **DUMMY_CREDENTIALS,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }


def env_exports(endpoint: str, region: str | None = None) -> str:
    lines = [f"export {k}={v}" for k, v in client_env(endpoint, region).items()]
    # A profile or session token would override the dummy credentials.
    lines.append("unset AWS_PROFILE AWS_SESSION_TOKEN")
    return "\n".join(lines)


def ensure_running(state_dir: str | None = None) -> str:
    """The endpoint of the local cloud: AWS_ENDPOINT_URL if set, else the state dir's, else start one."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        if not health(endpoint):
            raise LocalCloudError(
                f"AWS_ENDPOINT_URL={endpoint} does not answer as a local cloud; unset it or run "
                "`python -m pipeline_lib local up`"
            )
        return endpoint
    return up(state_dir=state_dir).endpoint
