"""`local up / status / env / down` as a user runs them (through the CLI, in subprocesses)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline_lib.localcloud import lifecycle
from pipeline_lib.localcloud.statedir import CloudRecord, StateDir

pytestmark = pytest.mark.integration


def cli(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline_lib", *args],
        capture_output=True, text=True, env=env or {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
        timeout=120, check=check,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_up_status_env_down(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    port = free_port()
    try:
        first = cli("local", "up", "--state-dir", state, "--port", str(port))
        assert first.stdout.strip() == f"http://127.0.0.1:{port}"
        assert "listening on 127.0.0.1 only (loopback" in first.stderr
        record = json.loads((tmp_path / "state" / "cloud.json").read_text())
        # A second `up` finds the running cloud instead of starting another.
        again = cli("local", "up", "--state-dir", state)
        assert again.stdout.strip() == first.stdout.strip()
        assert json.loads((tmp_path / "state" / "cloud.json").read_text())["pid"] == record["pid"]

        status = json.loads(cli("local", "status", "--state-dir", state, "--json").stdout)
        assert status["running"] is True
        assert status["pid"] == record["pid"]
        assert status["endpoint"] == f"http://127.0.0.1:{port}"
        assert "s3 buckets" in status["holds"]
        human = cli("local", "status", "--state-dir", state).stdout
        assert f"running at http://127.0.0.1:{port}" in human and "since" in human
        # It says it listens on loopback only, and that IAM is enforced for service roles.
        assert "listening on 127.0.0.1 only (loopback: not reachable from other machines)" in human
        assert status["extensions"]["iam"]["setting"] == "PIPELINE_IAM=roles"

        exports = cli("local", "env", "--state-dir", state).stdout
        assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{port}" in exports
        # Only those exports: plain boto3 in a fresh shell reaches the cloud (no project imports).
        script = "import boto3; s3 = boto3.client('s3'); s3.create_bucket(Bucket='plain-client-bucket'); print(len(s3.list_buckets()['Buckets']))"
        out = subprocess.run(
            ["bash", "-c", f'eval "$({sys.executable} -m pipeline_lib local env --state-dir {state})" && {sys.executable} -c "{script}"'],
            capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "1"
        assert json.loads(cli("local", "status", "--state-dir", state, "--json").stdout)["holds"]["s3 buckets"] == 1

        # It binds loopback only.
        with pytest.raises(OSError):
            socket.create_connection((_non_loopback_address(), port), timeout=1).close()
    finally:
        down = cli("local", "down", "--state-dir", state)
    assert down.stdout.strip() == "stopped"
    assert lifecycle.find(state) is None
    assert cli("local", "status", "--state-dir", state, check=False).returncode == 1
    assert cli("local", "down", "--state-dir", state).stdout.strip() == "not running"


def _non_loopback_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET: no packet is sent for a UDP connect
            address = s.getsockname()[0]
        except OSError:
            pytest.skip("no non-loopback interface to probe")
    if address.startswith("127."):
        pytest.skip("no non-loopback interface to probe")
    return address


def test_concurrent_ups_start_one_cloud(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    results: list[lifecycle.Running] = []
    threads = [threading.Thread(target=lambda: results.append(lifecycle.up(port=0, state_dir=state))) for _ in range(3)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(results) == 3
        assert len({r.record.pid for r in results}) == 1
    finally:
        lifecycle.down(state)


def test_a_second_server_on_the_same_state_dir_refuses(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    running = lifecycle.up(port=0, state_dir=state)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline_lib.localcloud.server", "--state-dir", state, "--port", "0"],
            capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 2
        assert "another local cloud already runs" in proc.stderr
        assert lifecycle.find(state).record.pid == running.record.pid
    finally:
        lifecycle.down(state)


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        with pytest.raises(lifecycle.LocalCloudError, match="Choose another port"):
            lifecycle.up(port=port, state_dir=str(tmp_path / "state"))


def test_a_taken_port_is_a_clear_cli_error_without_traceback(tmp_path: Path) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        out = cli("local", "up", "--state-dir", str(tmp_path / "state"), "--port", str(port), check=False)
    assert out.returncode == 2
    assert "Choose another port" in out.stderr
    assert "Traceback" not in out.stderr


def test_down_signals_nothing_for_a_stale_record(tmp_path: Path) -> None:
    """After a crash the record's pid may belong to an unrelated process by now: `down` must
    leave it alone (no cloud holds the state dir's lock) and clear the record."""
    state = StateDir(tmp_path / "state")
    state.ensure()
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state.write_record(CloudRecord(
            pid=unrelated.pid, host="127.0.0.1", port=free_port(), started_at="2026-01-01T00:00:00+00:00",
            state_dir=str(state.path), time_scale=0.05, version="0",
        ))
        assert lifecycle.find(str(state.path)) is None
        assert lifecycle.down(str(state.path), timeout=5) is False
        assert unrelated.poll() is None
        assert state.read_record() is None
    finally:
        unrelated.kill()
        unrelated.wait()
