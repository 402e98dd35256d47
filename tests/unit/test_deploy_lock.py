"""Two deploys into one cloud assembly directory: the second waits for the first, and says so."""
from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

import pytest

from pipeline_lib import deploy
from pipeline_lib._deploy.lock import LOCK_FILE, assembly_lock

WAIT = 10.0  # generous bound for a thread to reach a point; never slept, only waited on


def test_a_second_deploy_waits_for_the_first_and_says_why(tmp_path: Path):
    out_dir = tmp_path / "cdk.out"
    first_in, first_may_leave = threading.Event(), threading.Event()
    second_waiting, second_in = threading.Event(), threading.Event()
    timeline: list[str] = []
    messages: list[str] = []

    def first() -> None:
        with assembly_lock(out_dir, lambda _m: None):
            timeline.append("first in")
            first_in.set()
            first_may_leave.wait(WAIT)
            timeline.append("first out")

    def second() -> None:
        def say(message: str) -> None:
            messages.append(message)
            if "waiting" in message:
                second_waiting.set()

        with assembly_lock(out_dir, say):
            timeline.append("second in")
            second_in.set()

    one = threading.Thread(target=first)
    one.start()
    assert first_in.wait(WAIT)
    two = threading.Thread(target=second)
    two.start()
    try:
        assert second_waiting.wait(WAIT), messages
        assert not second_in.is_set()  # it said it waits, and it does
    finally:
        first_may_leave.set()
        one.join(WAIT)
        two.join(WAIT)
    assert timeline == ["first in", "first out", "second in"]
    assert messages[0] == f"another deploy (pid {os.getpid()}) is using {out_dir}; waiting…"


def test_an_idle_directory_is_taken_at_once_and_left_free(tmp_path: Path):
    out_dir = tmp_path / "new" / "cdk.out"  # created when missing
    messages: list[str] = []
    with assembly_lock(out_dir, messages.append):
        pass
    with assembly_lock(out_dir, messages.append):  # released: no wait the second time
        pass
    assert messages == []
    assert (out_dir / LOCK_FILE).read_text() == ""


def test_a_failing_deploy_releases_the_lock(tmp_path: Path):
    with pytest.raises(RuntimeError, match="synth failed"):
        with assembly_lock(tmp_path, lambda _m: None):
            raise RuntimeError("synth failed")
    with open(tmp_path / LOCK_FILE) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError if still held


def test_deploy_holds_the_lock_for_the_whole_local_deploy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    seen: dict[str, bool] = {}

    def fake_deploy_local(session, stack_name, context, out_dir, progress, say, synthesize):
        # Stands in for synth + publish + stack operation: is the directory taken meanwhile?
        with open(out_dir / LOCK_FILE) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                seen["held"] = False
            except BlockingIOError:
                seen["held"] = True
        return {"TableName": "t"}

    monkeypatch.setattr(deploy, "deploy_local", fake_deploy_local)
    outputs = deploy.deploy(backend="local", out_dir=tmp_path, boto3_session=object(), progress=False)
    assert outputs == {"TableName": "t"} and seen == {"held": True}
