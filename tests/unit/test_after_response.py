"""Work a request defers (localcloud/afterresponse.py) runs once, after the answer is on the wire:
the client has read the whole answer before the deferred work starts; an app that fails still has
its deferred work run; outside a request, `defer` runs the work at once."""
from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from pipeline_lib.localcloud import afterresponse
from pipeline_lib.localcloud.httpserver import request_handler_class

client_has_answer = threading.Event()
ran: list[tuple[str, bool]] = []
ran_event = threading.Event()


def _record(path: str) -> None:
    # The client sets client_has_answer once it has read the whole answer; the deferred work waits
    # for it (bounded): it was set only if the answer had been sent before this work started.
    ran.append((path, client_has_answer.wait(timeout=10)))
    ran_event.set()


def app(environ, start_response):
    path = environ["PATH_INFO"]
    afterresponse.defer(lambda: _record(path))
    if path == "/fails":
        raise RuntimeError("the app failed")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


@pytest.fixture()
def port() -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=request_handler_class())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def fresh() -> None:
    client_has_answer.clear()
    ran_event.clear()
    ran.clear()


@pytest.mark.parametrize("path, status", [("/", 200), ("/fails", 500)])
def test_deferred_work_runs_once_after_the_answer_was_read(port: int, path: str, status: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    assert response.status == status
    assert ran == []  # not before the client let it go on (it is waiting for that)
    client_has_answer.set()
    assert ran_event.wait(timeout=10)
    assert ran == [(path, True)]
    connection.close()


def test_outside_a_request_defer_runs_now() -> None:
    seen = []
    afterresponse.defer(lambda: seen.append(1))
    assert seen == [1]


def test_collecting_then_run_runs_each_once_even_if_one_fails() -> None:
    seen = []
    with afterresponse.collecting() as pending:
        afterresponse.defer(lambda: seen.append("a"))
        afterresponse.defer(lambda: 1 / 0)
        afterresponse.defer(lambda: seen.append("b"))
        assert seen == []
    afterresponse.run(pending)
    afterresponse.run(pending)
    assert seen == ["a", "b"]


def test_a_query_handed_on_after_its_service_stopped_is_cancelled_not_left_queued() -> None:
    from pipeline_lib.localcloud.athena.backends import Backends
    from pipeline_lib.localcloud.athena.executions import Execution
    from pipeline_lib.localcloud.athena.service import AthenaService

    def unused(*_args):
        raise AssertionError("no backend is needed")

    service = AthenaService(Backends(athena=unused, glue=unused, s3=unused, cloudwatch=None))
    execution = Execution(id="e1", query="SELECT 1", sql="SELECT 1", params=None, statement_type="DML",
                          work_group="primary", context={}, result_configuration={}, output_dir="s3://b/",
                          execution_parameters=None, region="us-east-1", account_id="123456789012")
    service.shutdown()  # the cloud stopped between the answer and the hand-over
    service._submit(execution, 1)
    assert execution.state == "CANCELLED"
    assert execution.status()["StateChangeReason"] == "The local cloud stopped"
