"""The local cloud listens on loopback only: it refuses any other address before binding, both
where the socket is bound and on its command line."""
from __future__ import annotations

import socket

import pytest

from pipeline_lib.localcloud import server


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.org"])
def test_bind_refuses_non_loopback_addresses(host):
    with pytest.raises(server.NotLoopback, match="loopback only"):
        server.bind_socket(host, 0)


def test_bind_accepts_loopback():
    sock = server.bind_socket("127.0.0.1", 0)
    try:
        assert sock.getsockname()[0] == "127.0.0.1"
        assert sock.family == socket.AF_INET
    finally:
        sock.close()


def test_server_command_line_refuses_a_non_loopback_host(capsys):
    with pytest.raises(SystemExit) as exited:
        server.main(["--host", "0.0.0.0", "--port", "0"])
    assert exited.value.code == 2
    assert "listens on loopback only" in capsys.readouterr().err
