"""The WSGI environ of a request, as moto's request handler builds it (werkzeug's environ, then
moto's keys for S3 metadata headers with underscores), in one pass over the headers.

werkzeug's `make_environ` walks the headers, then moto's walks them twice more (a set of every
header's environ key, then the underscored ones) and werkzeug asks a plain socket for a TLS peer
certificate through a raised AttributeError. Here: one walk, the underscored headers (S3
metadata only) set aside for moto's rule, and the certificate asked only of a TLS socket. The
dict is the same, key for key (tests/unit/test_http_environ.py compares it with moto's).
Imports moto: import it where moto may be (httpserver.request_handler_class).
"""
from __future__ import annotations

import sys
from typing import Any
from urllib.parse import unquote, urlsplit

from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug._internal import _wsgi_encoding_dance
from werkzeug.http import parse_set_header
from werkzeug.serving import DechunkedInput

__all__ = ["make_environ"]


def make_environ(handler: Any) -> dict[str, Any]:
    """`MotoRequestHandler.make_environ(handler)`'s dict (werkzeug 3.1, moto 5.2)."""
    server = handler.server
    if server.ssl_context is not None:  # werkzeug's own, certificate and all
        return MotoRequestHandler.make_environ(handler)
    request_url = urlsplit(handler.path)
    if not handler.client_address:
        handler.client_address = ("<local>", 0)
    elif isinstance(handler.client_address, str):
        handler.client_address = (handler.client_address, 0)
    # No scheme but a path starting with two slashes: the first segment was taken for the netloc.
    if not request_url.scheme and request_url.netloc:
        path_info = f"/{request_url.netloc}{request_url.path}"
    else:
        path_info = request_url.path
    path_info = unquote(path_info)
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": handler.rfile,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": server.multithread,
        "wsgi.multiprocess": server.multiprocess,
        "wsgi.run_once": False,
        "werkzeug.socket": handler.connection,
        "SERVER_SOFTWARE": handler.server_version,
        "REQUEST_METHOD": handler.command,
        "SCRIPT_NAME": "",
        "PATH_INFO": _wsgi_encoding_dance(path_info),
        "QUERY_STRING": _wsgi_encoding_dance(request_url.query),
        "REQUEST_URI": _wsgi_encoding_dance(handler.path),
        "RAW_URI": _wsgi_encoding_dance(handler.path),
        "REMOTE_ADDR": handler.address_string(),
        "REMOTE_PORT": handler.port_integer(),
        "SERVER_NAME": server.server_address[0],
        "SERVER_PORT": str(server.server_address[1]),
        "SERVER_PROTOCOL": handler.request_version,
    }
    underscored = []
    for name, value in handler.headers.items():
        if "_" in name:  # werkzeug drops these (X_Foo would pass for X-Foo); moto keeps S3's below
            underscored.append((name, value))
            continue
        key = name.upper().replace("-", "_")
        value = value.replace("\r\n", "")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
            if key in environ:
                value = f"{environ[key]},{value}"
        environ[key] = value
    if "chunked" in parse_set_header(environ.get("HTTP_TRANSFER_ENCODING")):
        environ["wsgi.input_terminated"] = True
        environ["wsgi.input"] = DechunkedInput(environ["wsgi.input"])
    if request_url.scheme and request_url.netloc:  # an absolute URL: its host is the host
        environ["HTTP_HOST"] = request_url.netloc
    # moto: an S3 metadata header with underscores, under its own key unless a dashed header
    # has that key (the keys of dashed headers are the ones werkzeug set from them).
    names: dict[str, str] = {}
    values: dict[str, list[str]] = {}
    if underscored:
        dashed_keys = {environ_key_for_header(name) for name, _ in handler.headers.items() if "_" not in name}
        for name, value in underscored:
            if not should_preserve_original_header_name(name):
                continue
            key = environ_key_for_header(name)
            if key in dashed_keys:
                continue
            names.setdefault(key, name)
            values.setdefault(key, []).append(value.replace("\r\n", ""))
        for key, key_values in values.items():
            environ[key] = ",".join(key_values)
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
    return environ

