"""The local cloud's HTTP handler: moto's (werkzeug's threaded dev server) with HTTP/1.1 keep-alive.

werkzeug's handler answers every request with `Connection: close` (it cannot tell where an
unread request body ends), so each boto3 call paid a TCP connect, a new server thread and a
close, and the response went out in two writes (headers, then body). Profiled under 8 seeding
writers, that was a third of the server's time. Here:
- the request body is read by its Content-Length (at once when small, else through a stream
  bounded by it, drained after the app), so the next request line is where it should be: the
  connection stays open (a chunked request body, or one without a valid length, still closes it);
- the header block is parsed without the email package for plain blocks (httpheaders.py);
- the app's answer is collected, then sent in one write, framed by its Content-Length (one is
  added where werkzeug would have used chunked encoding);
- the access-log line is built only if werkzeug's logger would write it;
- once the server is stopping (`server.closing`), a kept-open connection is closed unanswered.
Status, headers and body are the app's, as werkzeug sends them (tests/unit/test_http_keepalive.py).
"""
from __future__ import annotations

import functools
import http.client
import io
import logging
import socket
from http import HTTPStatus
from typing import Any

from . import afterresponse, httpheaders

__all__ = ["request_handler_class"]

log = logging.getLogger("pipeline_lib.localcloud")
# Answers up to this size go out as one write with their headers; larger ones (S3 objects) in
# the app's own chunks after the headers, so they are not copied once more.
ONE_WRITE_LIMIT = 1 << 20
_NO_BODY_STATUS = frozenset({204, 304})
# Request bodies up to this size are read before the app runs (larger ones, S3 uploads, are
# streamed to it).
SMALL_BODY_LIMIT = 1 << 20


@functools.cache
def request_handler_class() -> type:
    """The handler class (made on first use: moto is imported only once the server has set
    moto's settings)."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.exceptions import InternalServerError
    from werkzeug.wsgi import LimitedStream

    from . import httpenviron

    werkzeug_log = logging.getLogger("werkzeug")

    class KeepAliveRequestHandler(MotoRequestHandler):
        _body: Any = None

        def setup(self) -> None:
            super().setup()
            # Answers and 100 Continue go out as soon as written: with Nagle's algorithm a
            # small write waits for the client's (delayed, up to 40 ms) ACK of the previous one.
            if self.connection.family in (socket.AF_INET, socket.AF_INET6):
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def parse_request(self) -> bool:
            """http.server's (Python 3.11), with the header block parsed by httpheaders (the
            same message, without the email parser for plain blocks)."""
            self.command = None  # set in case of error on the first line
            self.request_version = version = self.default_request_version
            self.close_connection = True
            requestline = str(self.raw_requestline, "iso-8859-1")
            requestline = requestline.rstrip("\r\n")
            self.requestline = requestline
            words = requestline.split()
            if len(words) == 0:
                return False
            if len(words) >= 3:  # Enough to determine protocol version
                version = words[-1]
                try:
                    if not version.startswith("HTTP/"):
                        raise ValueError
                    base_version_number = version.split("/", 1)[1]
                    version_number = base_version_number.split(".")
                    if len(version_number) != 2:
                        raise ValueError
                    if any(not component.isdigit() for component in version_number):
                        raise ValueError("non digit in http version")
                    if any(len(component) > 10 for component in version_number):
                        raise ValueError("unreasonable length http version")
                    version_number = int(version_number[0]), int(version_number[1])
                except (ValueError, IndexError):
                    self.send_error(HTTPStatus.BAD_REQUEST, "Bad request version (%r)" % version)
                    return False
                if version_number >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                    self.close_connection = False
                if version_number >= (2, 0):
                    self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED,
                                    "Invalid HTTP version (%s)" % base_version_number)
                    return False
                self.request_version = version
            if not 2 <= len(words) <= 3:
                self.send_error(HTTPStatus.BAD_REQUEST, "Bad request syntax (%r)" % requestline)
                return False
            command, path = words[:2]
            if len(words) == 2:
                self.close_connection = True
                if command != "GET":
                    self.send_error(HTTPStatus.BAD_REQUEST, "Bad HTTP/0.9 request type (%r)" % command)
                    return False
            self.command, self.path = command, path
            if self.path.startswith("//"):  # gh-87389: no open redirect through //host paths
                self.path = "/" + self.path.lstrip("/")
            try:
                self.headers = httpheaders.parse_headers(self.rfile)
            except http.client.LineTooLong as err:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Line too long", str(err))
                return False
            except http.client.HTTPException as err:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers", str(err))
                return False
            conntype = self.headers.get("Connection", "")
            if conntype.lower() == "close":
                self.close_connection = True
            elif conntype.lower() == "keep-alive" and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            expect = self.headers.get("Expect", "")
            if (expect.lower() == "100-continue" and self.protocol_version >= "HTTP/1.1"
                    and self.request_version >= "HTTP/1.1"):
                if not self.handle_expect_100():
                    return False
            return True

        def handle_expect_100(self) -> bool:
            # run_wsgi answers 100 Continue (as werkzeug's does), once: http.server's would be a
            # second interim answer (AWS sends one), and before TCP_NODELAY the answer waited
            # behind it for the client's delayed ACK (a PutObject took 51 ms instead of 3).
            return True

        def make_environ(self) -> dict[str, Any]:
            environ = httpenviron.make_environ(self)  # moto's handler's, in one pass
            self._body = None
            if environ.get("wsgi.input_terminated"):  # chunked: werkzeug dechunks; no reuse after it
                self.close_connection = True
                return environ
            length = environ.get("CONTENT_LENGTH")
            if length is None or length == "":
                size = 0  # HTTP/1.1: no length and not chunked is no body
            elif length.isdigit():
                size = int(length)
            else:
                self.close_connection = True  # the request's end is unknown
                return environ
            if size > SMALL_BODY_LIMIT:
                self._body = environ["wsgi.input"] = LimitedStream(self.rfile, size)
                return environ
            # A small body read at once: the app's reads are from memory, nothing is left to
            # drain. One the client cut short reads (and fails) as the socket's stream would.
            data = self.rfile.read(size) if size else b""
            if len(data) == size:
                environ["wsgi.input"] = io.BytesIO(data)
            else:
                self._body = environ["wsgi.input"] = LimitedStream(io.BytesIO(data), size)
            return environ

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if werkzeug_log.isEnabledFor(logging.INFO):
                super().log_request(code, size)

        def run_wsgi(self) -> None:
            if getattr(self.server, "closing", False):
                # The cloud is stopping: as werkzeug's server, which stops accepting connections,
                # a request on a connection kept open is not answered either.
                self.close_connection = True
                return
            if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.environ = environ = self.make_environ()
            with afterresponse.collecting() as pending:
                try:
                    self._answer(environ)
                finally:
                    afterresponse.run(pending)  # what the request started, once its answer is out

        def _answer(self, environ: dict[str, Any]) -> None:
            try:
                status, headers, chunks = self._call_app(self.server.app, environ)
            except (ConnectionError, socket.timeout):
                self.close_connection = True
                return
            except Exception:
                if self.server.passthrough_errors:
                    raise
                log.exception("error on request %s %s", self.command, self.path)
                self.close_connection = True
                status, headers, chunks = self._call_app(InternalServerError(), environ)
            if self._body is not None:
                try:
                    self._body.exhaust()  # what the app left unread: the next request starts after it
                except Exception:  # a client gone mid-body
                    self.close_connection = True
            self._send(status, headers, chunks)

        @staticmethod
        def _call_app(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], list[bytes]]:
            answer: dict[str, Any] = {}
            chunks: list[bytes] = []

            def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                answer["status"], answer["headers"] = status, headers
                return chunks.append  # WSGI's legacy write()

            application_iter = app(environ, start_response)
            try:
                for chunk in application_iter:
                    if chunk:
                        chunks.append(chunk)
            finally:
                if hasattr(application_iter, "close"):
                    application_iter.close()
            return answer["status"], answer["headers"], chunks

        def _send(self, status: str, headers: list[tuple[str, str]], chunks: list[bytes]) -> None:
            code_text, _, message = status.partition(" ")
            code = int(code_text)
            self.send_response(code, message)
            length = sum(len(c) for c in chunks)
            declared = None
            for name, value in headers:
                self.send_header(name, value)
                if name.lower() == "content-length":
                    declared = value
            bodyless = self.command == "HEAD" or code < 200 or code in _NO_BODY_STATUS
            if bodyless:
                chunks, length = [], 0
            elif declared is None:
                self.send_header("Content-Length", str(length))
            elif declared.strip() != str(length):
                # Sent as the app gave it (as werkzeug does), but the client cannot find the next
                # answer after a body whose length is not the one declared.
                self.close_connection = True
            if self.close_connection:
                self.send_header("Connection", "close")
            buffered = getattr(self, "_headers_buffer", [])  # http.server's, filled by send_header
            buffered.append(b"\r\n")
            head = b"".join(buffered)
            self._headers_buffer = []
            if length <= ONE_WRITE_LIMIT:
                self.wfile.write(b"".join([head, *chunks]))
            else:
                self.wfile.write(head)
                for chunk in chunks:
                    self.wfile.write(chunk)

    return KeepAliveRequestHandler
