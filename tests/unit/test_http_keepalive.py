"""The local cloud's HTTP handler (localcloud/httpserver.py) keeps connections open and answers
as werkzeug's own handler does: the same WSGI app is served by werkzeug's threaded server with
moto's handler and with ours, and every answer's status, headers and body are compared (framing
aside: werkzeug closes every connection and chunks a body without a length)."""
from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator

import pytest
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import make_server

from pipeline_lib.localcloud.httpserver import SMALL_BODY_LIMIT, request_handler_class

FRAMING = {"date", "connection", "transfer-encoding", "content-length"}


def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/echo":  # reads its body
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/unread":  # answers without reading the body it was sent
        start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", "2")])
        return [b"{}"]
    if path == "/chunks":  # no length: werkzeug chunks it, we frame it by its length
        start_response("200 OK", [("x-amzn-requestid", "abc")])
        return iter([b"part one, ", b"", b"part two"])
    if path == "/head":
        start_response("200 OK", [("Content-Length", "12345"), ("ETag", '"e"')])
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [b"x" * 12345]
    if path == "/empty":
        start_response("204 No Content", [])
        return []
    if path == "/fails":
        raise RuntimeError("the app failed")
    if path == "/short":  # declares more than it sends
        start_response("200 OK", [("Content-Length", "10")])
        return [b"12345"]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


@pytest.fixture()
def servers() -> Iterator[dict[str, int]]:
    ports, running = {"servers": {}}, []
    for name, handler in (("werkzeug", MotoRequestHandler), ("ours", request_handler_class())):
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        ports[name] = server.server_port
        ports["servers"][name] = server
        running.append(server)
    yield ports
    for server in running:
        server.shutdown()
        server.server_close()


REQUESTS = [
    ("GET", "/", None, {}),
    ("POST", "/echo", b'{"TableName": "t"}', {"Content-Type": "application/x-amz-json-1.0"}),
    ("POST", "/unread", b"a body nobody reads" * 100, {}),
    ("POST", "/echo", b"streamed, not read at once " * 50000, {}),  # above SMALL_BODY_LIMIT
    ("POST", "/unread", b"streamed and drained " * 60000, {}),
    ("PUT", "/echo", b"sent after 100 Continue", {"Expect": "100-continue"}),
    ("GET", "/chunks", None, {}),
    ("HEAD", "/head", None, {}),
    ("GET", "/head", None, {}),
    ("DELETE", "/empty", None, {}),
    ("GET", "/fails", None, {}),
    ("GET", "/", None, {}),
]


def _answer(response: http.client.HTTPResponse) -> tuple[int, list[tuple[str, str]], bytes]:
    body = response.read()
    headers = [(k, v) for k, v in response.getheaders() if k.lower() not in FRAMING]
    return response.status, headers, body


def test_answers_as_werkzeug_on_one_connection(servers):
    ours = http.client.HTTPConnection("127.0.0.1", servers["ours"])
    for method, path, body, headers in REQUESTS:
        expected_connection = http.client.HTTPConnection("127.0.0.1", servers["werkzeug"])
        expected_connection.request(method, path, body=body, headers=headers)
        expected = _answer(expected_connection.getresponse())
        expected_connection.close()

        ours.request(method, path, body=body, headers=headers)
        response = ours.getresponse()
        first_socket = ours.sock
        got = _answer(response)
        assert got == expected, (method, path)
        if path != "/fails":  # an app error closes the connection, as werkzeug does
            assert response.getheader("Connection") is None, path
            assert ours.sock is first_socket and ours.sock is not None, f"{path} closed the connection"
        if method != "HEAD" and got[0] not in (204, 304):
            assert response.getheader("Content-Length") == str(len(got[2]))
    ours.close()


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


# A small body is read before the app runs; a large one is streamed to it and drained after it.
@pytest.mark.parametrize("size", [5000, SMALL_BODY_LIMIT + 5000], ids=["small", "large"])
def test_pipelined_requests_after_an_unread_body(servers, size):
    body = b"z" * size
    two = (b"POST /unread HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
           + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    received = _raw(servers["ours"], two)
    assert received.count(b"HTTP/1.1 ") == 2
    assert received.endswith(b"hello")


def test_a_chunked_request_closes_the_connection(servers):
    chunked = (b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n0\r\n\r\n" + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    received = _raw(servers["ours"], chunked)
    assert received.count(b"HTTP/1.1 ") == 1
    assert b"Connection: close" in received


def test_http_10_closes_the_connection(servers):
    received = _raw(servers["ours"], b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n")
    assert received.count(b"HTTP/1.0 ") + received.count(b"HTTP/1.1 ") == 1
    assert received.endswith(b"hello")


def test_a_stopping_server_answers_no_more_on_open_connections(servers):
    connection = http.client.HTTPConnection("127.0.0.1", servers["ours"])
    connection.request("GET", "/")
    assert connection.getresponse().read() == b"hello"
    servers["servers"]["ours"].closing = True  # what server.py sets when the cloud stops
    connection.request("GET", "/")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        connection.getresponse()
    connection.close()


def test_a_body_shorter_than_declared_closes_the_connection(servers):
    received = _raw(servers["ours"], b"GET /short HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert received.count(b"HTTP/1.1 ") == 1
    assert b"Connection: close" in received and received.endswith(b"12345")


def test_a_body_cut_short_closes_the_connection(servers):
    # The client declares 10 bytes, sends 3 and stops sending: no next request can follow.
    received = _raw(servers["ours"], b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    assert received.count(b"HTTP/1.1 ") == 1
    assert b"Connection: close" in received


def test_one_100_continue(servers):
    received = _raw(servers["ours"], b"PUT /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                                     b"Content-Length: 2\r\n\r\nok")
    assert received.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
    assert received.count(b"100 Continue") == 1 and received.endswith(b"\r\n\r\nok")


def test_connections_send_without_delay():
    # Nagle's algorithm held a write back until the client's delayed ACK of the previous one.
    seen = []

    class Recording(request_handler_class()):
        def setup(self):
            super().setup()
            seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Recording)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert _raw(server.server_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").endswith(b"hello")
    finally:
        server.shutdown()
        server.server_close()
    assert seen and all(seen)
