"""The header block is read as http.server reads it (localcloud/httpheaders.py): every block,
plain, odd or fuzzed, gives the message http.client.parse_headers gives (the same headers in
order, payload, defects, unix-from), with the same errors and the same bytes left unread; and
the handler's parse_request answers every request line as http.server's does."""
from __future__ import annotations

import http.client
import io
import random

import pytest
from moto.moto_server.werkzeug_app import MotoRequestHandler

from pipeline_lib.localcloud import httpheaders
from pipeline_lib.localcloud.httpserver import request_handler_class

BOTO_BLOCK = (b"Host: 127.0.0.1:4566\r\nAccept-Encoding: identity\r\nX-Amz-Target: AmazonAthena.GetWorkGroup\r\n"
              b"Content-Type: application/x-amz-json-1.1\r\nUser-Agent: Boto3/1.44.8 md/Botocore#1.44.8\r\n"
              b"X-Amz-Date: 20260101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential=testing/20260101/"
              b"us-east-1/athena/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc\r\n"
              b"amz-sdk-invocation-id: 9940d078\r\namz-sdk-request: attempt=1; max=3\r\nContent-Length: 24\r\n\r\n")

PLAIN = [
    BOTO_BLOCK,
    b"\r\n",
    b"\n",
    b"Host: x\n\n",
    b"X-A: 1\r\nx-a: 2\r\nX-B: 3\r\nX-A: 4\r\n\r\n",  # duplicates, in order, any case
    b"X:v\r\nY:\t \t v w \t \r\nZ:\r\nE: \r\n\r\n",  # no blank after the colon, blanks kept inside/after
    b"X_Foo: underscored\r\nx-amz-meta-a_b: c\r\n\r\n",
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Type: application/json\r\n\r\n",
    b"X: a\x00b\x7f\r\n\r\n",
    b"X: caf\xe9 \xff\r\n\r\n",  # latin-1, as http.client decodes
    b"(weird)!name#: v\r\n\r\n",
    b"X: a\r\n\r\nGET /next HTTP/1.1\r\n",  # what follows the blank line stays unread
    b"X: a\x0bb\x0cc\x1cd\x85e\r\n\r\n",  # breaks for str.splitlines, not for the FeedParser
]
ODD = [
    b"X: a\r\n b\r\n\tc\r\n\r\n",  # obsolete line folding
    b" X: first line folded\r\nY: z\r\n\r\n",
    b"Bogus\r\nX: y\r\n\r\n",  # no colon: the FeedParser ends the headers there
    b": no name\r\nX: y\r\n\r\n",
    b"From someone\r\nX: y\r\n\r\n",
    b"X: y\r\nFrom someone\r\nZ: w\r\n\r\n",
    b"X: a\rb\r\nY: c\r\n\r\n",  # a bare CR splits the line for the FeedParser
    b"X : spaced name\r\n\r\n",
    b"\xe9t\xe9: v\r\n\r\n",
    b"X: a\r\n",  # the input ends before the blank line
    b"X: a",
    b"",
    b"Content-Type: multipart/form-data; boundary=zz\r\n\r\n--zz\r\n",
    b"Content-Type: message/rfc822\r\n\r\n",
    b"Content-Type: MULTIPART/mixed\r\nX: y\r\n\r\n",
    b"X: a\r\r\n\r\n",
    b"X: a\r\n\r \n",
]
LIMITS = [
    b"".join(b"X-%d: v\r\n" % i for i in range(99)) + b"\r\n",  # 100 lines with the blank one: accepted
    b"".join(b"X-%d: v\r\n" % i for i in range(100)) + b"\r\n",  # one more: too many headers
    b"X: " + b"v" * 65531 + b"\r\n\r\n",  # a line of exactly 65536 bytes
    b"X: " + b"v" * 65532 + b"\r\n\r\n",  # one byte too long
]


def _state(message) -> dict:
    """A message's whole state, comparable (defects by type and text, inner messages by state)."""
    state = dict(vars(message), type=type(message))
    state["defects"] = [(type(d), str(d)) for d in state["defects"]]
    if isinstance(state["_payload"], list):
        state["_payload"] = [_state(part) for part in state["_payload"]]
    return state


def _outcome(parse, block: bytes):
    fp = io.BytesIO(block)
    try:
        message = parse(fp)
    except Exception as exc:
        return ("raised", type(exc), str(exc), fp.read())
    return (_state(message), message.items(), message.get_all("x-a"), message.keys(), fp.read())


@pytest.mark.parametrize("block", PLAIN + ODD + LIMITS)
def test_every_block_gives_http_clients_message(block):
    assert _outcome(httpheaders.parse_headers, block) == _outcome(http.client.parse_headers, block)


def test_fuzzed_blocks_give_http_clients_message():
    rng = random.Random(20260601)
    pieces = [b"X-A", b"x-a", b"Host", b"Content-Type", b": ", b":", b" ", b"\t", b"\r\n", b"\n", b"\r",
              b"v", b"multipart/x", b"From ", b"\xe9", b"\x85", b"\x0b", b"\x00", b"_", b"(", b"=;,"]
    for _ in range(3000):
        block = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        block += rng.choice([b"\r\n\r\n", b"\n\n", b"\r\n", b""]) + rng.choice([b"", b"body"])
        assert _outcome(httpheaders.parse_headers, block) == _outcome(http.client.parse_headers, block), block
    names = [b"X-A", b"x-a", b"Content-Type", b"X_B", b"(n)", b"", b" X", b"From X", b"\xe9"]
    values = [b"", b" ", b"\t", b"v", b" multipart/x", b"message/y", b"\xe9\xff", b"\x85", b"\x0c", b"\r", b"\x00"]
    for _ in range(3000):  # blocks of lines, most of them plain
        lines = [rng.choice(names) + rng.choice([b":", b": ", b""]) + b"".join(rng.choices(values, k=3))
                 + rng.choice([b"\r\n", b"\r\n", b"\n", b"\r"]) for _ in range(rng.randint(0, 6))]
        block = b"".join(lines) + rng.choice([b"\r\n", b"\n", b""])
        assert _outcome(httpheaders.parse_headers, block) == _outcome(http.client.parse_headers, block), block


def test_plain_blocks_do_not_use_the_email_parser(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the email parser was used")

    monkeypatch.setattr(httpheaders.email.parser, "Parser", refuse)
    for block in PLAIN:
        httpheaders.parse_headers(io.BytesIO(block))
    with pytest.raises(AssertionError):  # the check above can fail: odd blocks do use it
        httpheaders.parse_headers(io.BytesIO(ODD[0]))


class _Server:
    _server_version = "Werkzeug/test"


def _parsed(handler_class: type, raw: bytes):
    handler = handler_class.__new__(handler_class)  # no socket: the parse alone
    requestline, _, rest = raw.partition(b"\n")
    handler.raw_requestline = requestline + b"\n" if _ else requestline
    handler.rfile, handler.wfile = io.BytesIO(rest), io.BytesIO()
    handler.server, handler.client_address = _Server(), ("127.0.0.1", 1)
    handler.request_version = handler.command = None
    handler.protocol_version = "HTTP/1.1"
    handler.date_time_string = lambda *_: "Mon, 01 Jun 2026 00:00:00 GMT"
    ok = handler.parse_request()
    headers = handler.headers.items() if getattr(handler, "headers", None) is not None else None
    return (ok, handler.command, getattr(handler, "path", None), handler.request_version, handler.close_connection,
            getattr(handler, "requestline", None), headers, handler.wfile.getvalue(), handler.rfile.read())


class _StockOneContinue(MotoRequestHandler):
    """http.server's parse_request, with the 100 Continue left to run_wsgi (as ours does)."""

    def handle_expect_100(self):
        return True


REQUESTS = [
    b"GET / HTTP/1.1\r\n" + BOTO_BLOCK + b"body",
    b"POST /x?y=1 HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"PUT /k HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nz",
    b"PUT /k HTTP/1.0\r\nExpect: 100-Continue\r\n\r\n",
    b"GET //evil.example/x HTTP/1.1\r\n\r\n",
    b"GET /\r\n",  # HTTP/0.9
    b"POST /\r\n",
    b"GET / HTTP/2.0\r\n\r\n",
    b"GET / HTTP/1.1.1\r\n\r\n",
    b"GET / FTP/1.1\r\n\r\n",
    b"GET / HTTP/01234567890.1\r\n\r\n",
    b"GET / x HTTP/1.1\r\n\r\n",
    b"GET\r\n",
    b"\r\n",
    b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + LIMITS[1],
    b"GET / HTTP/1.1\r\n" + LIMITS[3],
    b"GET / HTTP/1.1\r\nX: \xe9\r\nConnection: Close\r\n\r\n",
]


@pytest.mark.parametrize("raw", REQUESTS)
def test_parse_request_answers_as_http_servers(raw):
    assert _parsed(request_handler_class(), raw) == _parsed(_StockOneContinue, raw)
