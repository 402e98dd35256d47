"""The Lambda worker protocol, its context and the worker pool, without a server."""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline_lib.localcloud.lambda_runtime import function_spec, worker
from pipeline_lib.localcloud.lambda_runtime.function_spec import FunctionSpec
from pipeline_lib.localcloud.lambda_runtime.runtime import (
    WORKER_SCRIPT,
    LambdaRuntime,
    WorkerExited,
    WorkerProcess,
    WorkerTimeout,
)
from pipeline_lib.localcloud.lifecycle import pid_alive

HANDLER = '''
import os, sys, time
print("importing app")

def handler(event, context):
    print("event", event)
    if event.get("stdin"):
        return {"stdin": sys.stdin.read()}
    if event.get("raise"):
        raise KeyError(event["raise"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("exit") is not None:
        sys.exit(event["exit"])
    if event.get("echo") is not None:
        return {"echo": event["echo"]}
    return {
        "pid": os.getpid(),
        "cwd": os.getcwd(),
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "log_group": context.log_group_name,
        "log_stream": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "client_context": context.client_context,
        "greeting": os.environ.get("GREETING"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
    }
'''


def package(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def make_spec(code: bytes, **overrides) -> FunctionSpec:
    values = dict(
        name="unit-fn", arn="arn:aws:lambda:us-east-1:123456789012:function:unit-fn", version="$LATEST",
        handler="app.handler", runtime="python3.12", environment={"GREETING": "hej"}, timeout=2.0,
        memory_mb=256, code_sha256=hashlib.sha256(code).hexdigest(), region="us-east-1",
        account_id="123456789012", log_group="/aws/lambda/unit-fn", code=code,
    )
    values.update(overrides)
    return FunctionSpec(**values)


# -- framing --------------------------------------------------------------------------------------
def test_frames_round_trip_header_and_raw_body():
    stream = io.BytesIO(worker.encode_frame({"type": "invoke", "n": 1}, b'{"big": "\xff"}')
                        + worker.encode_frame({"type": "empty"}))
    assert worker.read_frame(stream) == ({"type": "invoke", "n": 1}, b'{"big": "\xff"}')
    assert worker.read_frame(stream) == ({"type": "empty"}, b"")
    assert worker.read_frame(stream) is None


def test_a_truncated_frame_reads_as_end_of_stream():
    frame = worker.encode_frame({"type": "invoke"}, b"0123456789")
    assert worker.read_frame(io.BytesIO(frame[:-3])) is None


# -- handler loading and marshalling (in this process) ---------------------------------------------
@pytest.mark.parametrize(
    ("handler", "files", "error_type", "message"),
    [
        ("nodot", {}, "Runtime.MalformedHandlerName", "Bad handler 'nodot'"),
        ("missing_mod.handler", {}, "Runtime.ImportModuleError", "Unable to import module 'missing_mod'"),
        ("hmod.nope", {"hmod.py": "x = 1\n"}, "Runtime.HandlerNotFound", "Handler 'nope' missing on module 'hmod'"),
        ("smod.handler", {"smod.py": "def handler(:\n"}, "Runtime.UserCodeSyntaxError", "Syntax error in module 'smod'"),
        ("sys.handler", {}, "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys"),
    ],
)
def test_handler_faults_are_typed_like_lambda(tmp_path, monkeypatch, handler, files, error_type, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(worker.HandlerFault) as fault:
        worker.load_handler(handler)
    assert fault.value.error_type == error_type
    assert message in fault.value.message


def test_handler_path_with_slashes_is_a_package_path(tmp_path, monkeypatch):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "__init__.py").write_text("")
    (tmp_path / "src" / "deep_app.py").write_text("def go(event, context):\n    return 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert worker.load_handler("src/deep_app.go")(None, None) == 7


def test_results_marshal_like_lambda():
    assert json.loads(worker.marshal_result({"n": Decimal("3"), "f": Decimal("1.5")})) == {"n": 3, "f": 1.5}
    assert worker.marshal_result(b"raw") == b"raw"
    assert worker.marshal_result(None) == b"null"
    with pytest.raises(worker.HandlerFault) as fault:
        worker.marshal_result({"when": object()})
    assert fault.value.error_type == "Runtime.MarshalError"


def test_context_counts_down_to_its_deadline(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
    context = worker.LambdaContext("rid", int(time.time() * 1000) + 1500, "arn:x")
    assert 1000 < context.get_remaining_time_in_millis() <= 1500
    assert (context.function_name, context.memory_limit_in_mb, context.aws_request_id) == ("f", "512", "rid")
    assert worker.LambdaContext("rid", 0, "arn:x").get_remaining_time_in_millis() == 0


# -- pure texts and environment ---------------------------------------------------------------------
def test_reserved_variables_win_and_boto3_is_pointed_at_the_cloud():
    spec = make_spec(b"zip", environment={"AWS_REGION": "eu-west-9", "AWS_ENDPOINT_URL": "https://aws", "MINE": "1"})
    env = function_spec.worker_environment(spec, endpoint="http://127.0.0.1:4566", code_dir="/code",
                                           log_stream="s", path="/bin")
    assert env["MINE"] == "1"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["_HANDLER"] == "app.handler" and env["LAMBDA_TASK_ROOT"] == "/code"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256" and env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_CONFIG_FILE"] == "/dev/null"  # no developer profile leaks in


def test_fingerprint_follows_code_and_configuration():
    base = make_spec(b"one")
    assert make_spec(b"one").fingerprint == base.fingerprint
    assert make_spec(b"two").fingerprint != base.fingerprint
    assert make_spec(b"one", environment={"GREETING": "hallo"}).fingerprint != base.fingerprint
    assert make_spec(b"one", timeout=9.0).fingerprint != base.fingerprint


def test_lambda_texts():
    assert function_spec.timeout_error("r1", 3) == {
        "errorType": "Sandbox.Timedout", "errorMessage": "RequestId: r1 Error: Task timed out after 3.00 seconds"}
    report = function_spec.report_line("r1", 12.341, 128, 40, init_ms=99.5)
    assert report == ("REPORT RequestId: r1\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t"
                      "Max Memory Used: 40 MB\tInit Duration: 99.50 ms")
    assert function_spec.log_tail("é" * 3000).encode() == ("é" * 2048).encode()
    assert len(function_spec.log_tail("x" * 5000).encode()) == 4096


# -- one worker process ------------------------------------------------------------------------------
@pytest.fixture
def spawned(tmp_path: Path):
    (tmp_path / "app.py").write_text(HANDLER)
    spec = make_spec(b"")
    env = function_spec.worker_environment(spec, endpoint="http://127.0.0.1:9", code_dir=str(tmp_path),
                                           log_stream="2026/01/01/[$LATEST]abc", path=os.environ["PATH"])
    process = WorkerProcess([sys.executable, "-I", "-u", str(WORKER_SCRIPT)], env, str(tmp_path), "stream")
    process.wait_ready(10)
    yield process
    process.close(grace=0)


def call(process: WorkerProcess, event: dict, timeout: float = 5.0, **extra) -> tuple[dict, bytes]:
    header = {"type": "invoke", "request_id": "req-1", "deadline_ms": int(time.time() * 1000) + 2000,
              "invoked_function_arn": "arn:aws:lambda:us-east-1:123456789012:function:unit-fn", **extra}
    return process.call(header, json.dumps(event).encode(), timeout)


def test_worker_answers_with_the_result_and_keeps_prints_in_the_log(spawned, tmp_path):
    assert spawned.init_error is None
    assert spawned.take_log() == "importing app\n"

    answer, body = call(spawned, {"n": 1}, client_context={"custom": {"k": "v"}})

    assert answer["type"] == "result" and answer["request_id"] == "req-1"
    result = json.loads(body)
    assert result["pid"] == spawned.pid
    assert Path(result["cwd"]) == tmp_path
    assert result["request_id"] == "req-1"
    assert (result["function_name"], result["function_version"], result["memory"]) == ("unit-fn", "$LATEST", "256")
    assert result["arn"].endswith(":function:unit-fn")
    assert result["log_group"] == "/aws/lambda/unit-fn" and result["log_stream"] == "2026/01/01/[$LATEST]abc"
    assert 0 < result["remaining"] <= 2000
    assert result["client_context"] == {"custom": {"k": "v"}}
    assert result["greeting"] == "hej" and result["endpoint"] == "http://127.0.0.1:9"
    assert spawned.take_log() == "event {'n': 1}\n"


def test_the_handler_cannot_read_the_protocol_from_stdin(spawned):
    answer, body = call(spawned, {"stdin": True})
    assert json.loads(body) == {"stdin": ""}
    answer, body = call(spawned, {})  # the protocol is intact afterwards
    assert answer["type"] == "result"


def test_an_exception_is_lambda_s_error_payload_and_the_worker_stays(spawned):
    answer, body = call(spawned, {"raise": "missing-key"})

    assert answer["type"] == "error" and body == b""
    error = answer["error"]
    assert error["errorType"] == "KeyError" and error["errorMessage"] == "'missing-key'"
    assert error["requestId"] == "req-1"
    assert error["stackTrace"] and all("app.py" in frame for frame in error["stackTrace"])  # no bootstrap frames
    assert "[ERROR] KeyError: 'missing-key'" in spawned.take_log()
    assert call(spawned, {})[0]["type"] == "result"


def test_payloads_larger_than_the_pipes_cross_whole(spawned):
    """Events and results of several MB (Firehose's are up to 6 MB) cross the pipes, which the
    server widens where the system allows it (fewer waits per invocation, same bytes)."""
    import fcntl

    from pipeline_lib.localcloud.lambda_runtime.runtime import PIPE_BYTES

    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text()) if Path("/proc/sys/fs/pipe-max-size").exists() else 0
    if hasattr(fcntl, "F_GETPIPE_SZ") and limit >= PIPE_BYTES:
        assert fcntl.fcntl(spawned._responses, fcntl.F_GETPIPE_SZ) == PIPE_BYTES
        assert fcntl.fcntl(spawned.proc.stdin.fileno(), fcntl.F_GETPIPE_SZ) == PIPE_BYTES
    text = "".join(chr(0x41 + i % 26) for i in range(3 * 2**20 + 17))
    answer, body = call(spawned, {"echo": text})
    assert answer["type"] == "result" and json.loads(body) == {"echo": text}
    assert call(spawned, {})[0]["type"] == "result"  # the framing is intact afterwards


def test_a_slow_handler_times_out(spawned):
    with pytest.raises(WorkerTimeout):
        call(spawned, {"sleep": 5}, timeout=0.3)
    spawned.kill()


def test_a_handler_that_exits_ends_the_worker(spawned):
    with pytest.raises(WorkerExited) as exited:
        call(spawned, {"exit": 3})
    assert exited.value.detail == "exit status 3"


# -- the pool -----------------------------------------------------------------------------------------
@pytest.fixture
def runtime(tmp_path):
    logs: list[tuple[str, list[str]]] = []
    rt = LambdaRuntime(tmp_path, "http://127.0.0.1:9", log_sink=lambda spec, stream, lines: logs.append((stream, lines)),
                       max_workers=2, async_retry_delays=(0.0, 0.0))
    rt.logs = logs  # type: ignore[attr-defined]
    yield rt
    rt.stop()


def test_warm_reuse_then_new_code_gets_a_new_worker(runtime):
    spec = make_spec(package({"app.py": HANDLER}))
    first = json.loads(runtime.invoke_spec(spec, b"{}").payload)
    second = json.loads(runtime.invoke_spec(spec, b"{}").payload)
    assert first["pid"] == second["pid"]

    updated = make_spec(package({"app.py": "def handler(e, c):\n    import os\n    return os.getpid()\n"}))
    third = runtime.invoke_spec(updated, b"{}")

    assert json.loads(third.payload) != first["pid"]
    assert not pid_alive(first["pid"])  # the stale worker was retired
    stream, lines = runtime.logs[0]
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", stream)
    assert runtime.logs[1][0] == stream  # one stream per worker
    assert lines[0] == "importing app"
    assert lines[1].startswith("START RequestId: ") and lines[-1].startswith("REPORT RequestId: ")
    assert "Init Duration" in lines[-1] and "Init Duration" not in runtime.logs[1][1][-1]  # cold, then warm


def test_concurrency_is_capped_per_function(runtime):
    spec = make_spec(package({"app.py": HANDLER}))
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda _: runtime.invoke_spec(spec, b'{"sleep": 0.2}'), range(6)))
    assert all(r.function_error is None for r in results)
    assert len({json.loads(r.payload)["pid"] for r in results}) <= 2


def test_async_invocations_retry_twice_then_give_up(runtime, tmp_path):
    attempts = tmp_path / "attempts.txt"
    source = (f"def handler(event, context):\n    open({str(attempts)!r}, 'a').write('x')\n"
              "    raise RuntimeError('always')\n")
    spec = make_spec(package({"app.py": source}))

    accepted = runtime.invoke_spec(spec, b"{}", "Event")

    assert accepted.status_code == 202 and accepted.payload == b""
    assert runtime.flush(10) == {"async_pending": 0}
    assert attempts.read_text() == "xxx"


def test_only_python_runs_and_a_bad_package_is_named(runtime):
    nodejs = runtime.invoke_spec(make_spec(package({"index.js": "exports.handler = 1"}), runtime="nodejs20.x"), b"{}")
    assert nodejs.function_error == "Unhandled" and nodejs.error["errorType"] == "Runtime.Unsupported"
    not_a_zip = runtime.invoke_spec(make_spec(b"plain bytes"), b"{}")
    assert not_a_zip.error["errorType"] == "Runtime.InvalidZipFile"
    assert "could not unzip" in not_a_zip.error["errorMessage"]


def test_in_process_api_resolves_names_arns_and_versions(tmp_path):
    """What the Firehose engine and custom resources call: moto's state, no HTTP, no seams."""
    import types

    import boto3
    from moto import mock_aws

    from pipeline_lib.localcloud.lambda_runtime import FunctionNotFound, LambdaExtension

    source = "def handler(event, context):\n    return [{version}, event['x'], context.function_version]\n"
    with mock_aws(config={"lambda": {"use_docker": False}}):
        cloud = types.SimpleNamespace(state_dir=str(tmp_path), endpoint="http://127.0.0.1:9", region="us-east-1",
                                      account_id="123456789012", scaled=lambda seconds: 0.0)
        extension = LambdaExtension(cloud)
        try:
            role = boto3.client("iam", region_name="us-east-1").create_role(
                RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            lam = boto3.client("lambda", region_name="us-east-1")
            arn = lam.create_function(FunctionName="f", Runtime="python3.12", Role=role, Handler="app.handler",
                                      Code={"ZipFile": package({"app.py": source.format(version=1)})},
                                      Publish=True)["FunctionArn"]
            lam.update_function_code(FunctionName="f", ZipFile=package({"app.py": source.format(version=2)}))

            def run(function: str, qualifier: str | None = None) -> list:
                result = extension.runtime.invoke(function, {"x": "y"}, qualifier=qualifier)
                assert result.function_error is None, result.payload
                return json.loads(result.payload)

            assert run("f") == run(arn) == run(f"{arn}:$LATEST") == [2, "y", "$LATEST"]
            assert run("f", "1") == run(f"{arn}:1") == run("f:1") == [1, "y", "1"]
            with pytest.raises(FunctionNotFound, match="Function not found: nope"):
                extension.runtime.invoke("nope", b"{}")
        finally:
            extension.runtime.stop()


# -- the seams (checked, not applied: this process may host other moto users) -----------------------
def test_lambda_seams_match_the_pinned_moto(bare_cloud):
    from pipeline_lib.localcloud.lambda_runtime.seams import build_seams

    build_seams(bare_cloud).check()  # also LambdaBackend.invoke, which the runtime calls


def test_lambda_seams_apply_once_and_restore(bare_cloud):
    from moto.awslambda.models import LambdaBackend, LambdaFunction
    from moto.awslambda_simple.models import LambdaSimpleBackend

    from pipeline_lib.localcloud.lambda_runtime import seams
    from pipeline_lib.localcloud.seam import is_patched
    from pipeline_lib.localcloud.seam import original as moto_original

    found = seams.build_seams(bare_cloud)
    original = moto_original(LambdaFunction, "invoke")  # moto's, whatever another test applied before
    try:
        found.apply()
        patched = (LambdaFunction.invoke, LambdaSimpleBackend.invoke, LambdaBackend.delete_function)
        found.apply()  # installing twice is installing once
        assert (LambdaFunction.invoke, LambdaSimpleBackend.invoke, LambdaBackend.delete_function) == patched
        assert found.applied and is_patched(LambdaFunction, "invoke")
        assert LambdaSimpleBackend.invoke is seams.simple_backend_invoke
    finally:
        found.restore()
    assert LambdaFunction.invoke is original


def test_stepfunctions_seams_match_the_pinned_moto(bare_cloud):
    from pipeline_lib.localcloud.stepfunctions.seams import build_seams

    seams = build_seams(bare_cloud)
    seams.check()
    # boto_client_for, in every module holding it
    assert [line for line in seams.describe() if ".boto_client_for(" in line]


def test_stepfunctions_output_and_error_names():
    import datetime as dt

    from pipeline_lib.localcloud.stepfunctions.integrations import json_value, pascal_service_name, service_error_name

    when = dt.datetime(2026, 3, 4, 12, 34, 56, 789000, tzinfo=dt.timezone.utc)
    assert json_value({"a": [when], "b": b"\x00"}) == {"a": ["2026-03-04T12:34:56.789Z"], "b": "AA=="}
    assert [pascal_service_name(s) for s in ("Glue", "DynamoDB", "ACM PCA", "SFN", "CloudWatch Logs")] == [
        "Glue", "DynamoDb", "AcmPca", "Sfn", "CloudWatchLogs"]
    assert service_error_name("glue") == "Glue" and service_error_name("sfn") == "Sfn"
