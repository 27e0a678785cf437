"""The local API server's HTTP over raw sockets: HEAD without a body, and its own errors as JSON like the API's.

The bytes are written and read by hand: an HTTP client library would hide the very faults looked for here
(a body after a HEAD answer, or an HTML page instead of JSON).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from devstack.stack import ROOT


def _exchange(base: str, raw: bytes) -> bytes:
    """Send `raw` on one connection and read until the server closes it."""
    address = urlsplit(base)
    received = b""
    with socket.create_connection((address.hostname, address.port), timeout=30) as conn:
        conn.sendall(raw)
        try:
            while chunk := conn.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # closed with part of an oversized request unread: what was answered has arrived
    return received


def _parse(response: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status, headers, body


def test_head_answers_headers_only_so_the_next_answer_on_the_connection_is_intact(base):
    # Before the fix the 405 body followed the HEAD answer and was read as the start of the next response.
    received = _exchange(
        base,
        b"HEAD /health/ HTTP/1.1\r\nHost: local\r\n\r\n"
        b"GET /health/ HTTP/1.1\r\nHost: local\r\nConnection: close\r\n\r\n",
    )
    status, headers, rest = _parse(received)
    assert status == "HTTP/1.1 405 Method Not Allowed"
    assert headers["Content-Type"] == "application/json"
    status, headers, body = _parse(rest)
    assert (status, headers["Content-Type"], body) == ("HTTP/1.1 200 OK", "application/json", b'{"status":"ok"}')


BIG = b"x" * 65_600  # over http.server's 65,536-byte limit for one line


@pytest.mark.parametrize(
    ("raw", "status", "detail"),
    [
        (
            b"GET /health/ HTTP/1.1\r\nHost: local\r\nX-Big: " + BIG + b"\r\n\r\n",
            431,
            "Request header fields too large.",
        ),
        (
            b"GET /health/ HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(101)) + b"\r\n",
            431,
            "Request header fields too large.",
        ),
        (b"GET /" + BIG + b" HTTP/1.1\r\n\r\n", 414, "Request line too long."),
        (b"NOT A VALID REQUEST\r\n\r\n", 400, "Malformed request."),
        (b"GET /health/ HTTP/2.0\r\n\r\n", 505, "HTTP version not supported."),
        (b"POST /api/token/ HTTP/1.1\r\nHost: local\r\nContent-Length: twelve\r\n\r\n", 400, "Malformed request."),
        (
            b"POST /api/token/ HTTP/1.1\r\nHost: local\r\nContent-Length: 20000000\r\n\r\n",
            413,
            "Request body is too large.",
        ),
    ],
    ids=["header-line", "header-count", "request-line", "request-syntax", "http-version", "length", "payload"],
)
def test_errors_of_the_http_server_itself_are_json_in_the_api_shape(base, raw, status, detail):
    line, headers, body = _parse(_exchange(base, raw))
    assert line.split(" ", 2)[1] == str(status)
    assert (headers["Content-Type"], headers["Connection"]) == ("application/json", "close")
    assert (headers["Content-Length"], json.loads(body)) == (str(len(body)), {"detail": detail})


def test_an_error_answer_to_head_has_no_body_either(base):
    received = _exchange(base, b"HEAD /health/ HTTP/1.1\r\nHost: local\r\nX-Big: " + BIG + b"\r\n\r\n")
    line, headers, body = _parse(received)
    assert (line, headers["Content-Type"], body) == (
        "HTTP/1.1 431 Request Header Fields Too Large",
        "application/json",
        b"",
    )


def test_the_local_server_keeps_chalice_locals_per_thread_request():
    # chalice.local.create_local_server gives the app a per-thread current_request (the threaded server needs
    # it) and we swap in our handler and a larger backlog: if a chalice upgrade changes either, this fails.
    code = """
import json, threading
from devstack.api import EmulatedRequestHandler, build_server
local = build_server("127.0.0.1", 0)
app = local.app_object
app.current_request = "main thread's"
seen = []
def other():
    try:
        seen.append(app.current_request)
    except AttributeError:
        seen.append(None)
thread = threading.Thread(target=other)
thread.start()
thread.join()
handler = local.server.RequestHandlerClass
print(json.dumps([app.current_request, seen[0], handler.func is EmulatedRequestHandler]))
local.server.server_close()
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == ["main thread's", None, True]
