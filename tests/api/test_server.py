"""``adlens serve``'s uvicorn set-up: slow headers are cut off, uvicorn's access log is off, adlens logs."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from adlens.api.server import HeaderTimeoutProtocol, log_config, uvicorn_options

from .conftest import serving


async def _hello(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class _Quick(HeaderTimeoutProtocol):
    header_timeout = 0.3


def test_a_client_sending_its_headers_slowly_is_cut_off():
    with serving(_hello, http=_Quick, lifespan="off") as url:
        address = urlsplit(url).hostname, urlsplit(url).port
        with socket.create_connection(address, timeout=30) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # never finishes its headers
            assert slow.recv(100) == b""  # closed by the server (the socket's timeout only guards a hang)
        with socket.create_connection(address, timeout=30) as quick:
            quick.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert quick.recv(100).startswith(b"HTTP/1.1 200")


def test_huge_headers_are_refused():
    with serving(_hello, http=HeaderTimeoutProtocol, lifespan="off") as url:
        address = urlsplit(url).hostname, urlsplit(url).port
        with socket.create_connection(address, timeout=30) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Junk: " + b"j" * 100_000 + b"\r\n\r\n")
            assert client.recv(100).startswith(b"HTTP/1.1 400")


def test_uvicorn_runs_with_adlens_logs_and_without_its_access_log():
    options = uvicorn_options("info")
    assert options["access_log"] is False and options["http"] is HeaderTimeoutProtocol
    assert options["timeout_keep_alive"] > 0
    assert log_config("debug")["loggers"]["adlens"]["level"] == "DEBUG"
