"""The handler's WSGI environ (localcloud/httpenviron.py) is moto's handler's, key for key:
both are built for the same requests (paths, header blocks, client addresses) and compared."""
from __future__ import annotations

import http.client
import io
import itertools
import sys

import pytest
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import DechunkedInput

from pipeline_lib.localcloud import httpenviron


class _Server:
    ssl_context = None
    multithread, multiprocess = True, False
    server_address = ("127.0.0.1", 4566)
    _server_version = "Werkzeug/3.1.9 Python/3.11.7"


class _Connection:  # a plain socket as werkzeug sees it: no getpeercert
    pass


PATHS = ["/", "/a%20b/c?x=1&y=%2F", "//bucket/key", "///x", "http://other:9/p?q=1", "/caf%C3%A9/\xe9?k=\xe9",
         "/_workbench/health", "*", "/p;params?x"]
BLOCKS = [
    b"Host: 127.0.0.1:4566\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Type: application/x-amz-json-1.0\r\n"
    b"Content-Length: 12\r\n\r\n",
    b"\r\n",
    b"X-A: 1\r\nx-a: 2\r\nContent-Length: 3\r\ncontent-length: 4\r\n\r\n",
    b"Host: h\r\nx-amz-meta-a_b: 1\r\nX-Amz-Meta-A_B: 2\r\nx-amz-meta-c_d: 3\r\nx-amz-meta-c-d: dashed\r\nX_Foo: x\r\n\r\n",
    b"Transfer-Encoding: gzip, chunked\r\nHost: h\r\n\r\n",
    b"Transfer-Encoding: identity\r\n\r\n",
    b"X-Folded: a\r\n b\r\n\r\n",
    b"X-Latin: caf\xe9\r\nHost: h\r\n\r\n",
    b"Host: h\r\nHost: i\r\n\r\n",
]


def _handler(path: str, block: bytes, client_address, command="POST", version="HTTP/1.1"):
    handler = MotoRequestHandler.__new__(MotoRequestHandler)
    handler.server, handler.connection = _Server(), _Connection()
    handler.client_address, handler.path, handler.command, handler.request_version = client_address, path, command, version
    handler.rfile = io.BytesIO(b"body")
    handler.headers = http.client.parse_headers(io.BytesIO(block))
    return handler


def _comparable(environ: dict, handler) -> dict:
    out = dict(environ)
    if isinstance(out["wsgi.input"], DechunkedInput):
        assert out["wsgi.input"]._rfile is handler.rfile
        out["wsgi.input"] = "dechunked"
    else:
        assert out["wsgi.input"] is handler.rfile
        out["wsgi.input"] = "rfile"
    assert out["werkzeug.socket"] is handler.connection and out["wsgi.errors"] is sys.stderr
    out["werkzeug.socket"] = "connection"
    return out


@pytest.mark.parametrize("path,block", list(itertools.product(PATHS, BLOCKS)))
def test_environ_is_motos(path, block):
    for client_address in [("127.0.0.1", 50000), "10.0.0.1", ()]:
        expected_handler = _handler(path, block, client_address)
        expected = _comparable(MotoRequestHandler.make_environ(expected_handler), expected_handler)
        handler = _handler(path, block, client_address)
        got = _comparable(httpenviron.make_environ(handler), handler)
        assert list(got.items()) == list(expected.items())  # the same keys, in the same order
        assert handler.client_address == expected_handler.client_address
