"""`chalice local` for the stage, served through the API Gateway emulation."""

from __future__ import annotations

import argparse
import base64
import errno
import json
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Mapping
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from chalice.cli.factory import CLIFactory
from chalice.local import LocalDevServer, create_local_server

from chalicelib.http.gateway_responses import GATEWAY_RESPONSES
from chalicelib.settings import check_startup, get_settings
from devstack.files import PORT_IN_USE_EXIT, STOP_POLL_SECONDS

ROOT = Path(__file__).resolve().parent.parent
# The standard library's backlog of 5 resets connections when many clients arrive at once.
LISTEN_BACKLOG = 256
# API Gateway refuses larger payloads (REQUEST_TOO_LARGE) without reading them; so do we.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
# Answers http.server gives itself (the request never reaches the gateway), in the API's DRF shape.
OWN_ERRORS = {
    HTTPStatus.BAD_REQUEST: "Malformed request.",
    HTTPStatus.REQUEST_URI_TOO_LONG: "Request line too long.",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "Request header fields too large.",
    HTTPStatus.HTTP_VERSION_NOT_SUPPORTED: "HTTP version not supported.",
}


def _json(detail: str) -> bytes:
    return json.dumps({"detail": detail}, separators=(",", ":")).encode()


class EmulatedRequestHandler(BaseHTTPRequestHandler):
    """HTTP in front of the emulated gateway (one, with its policy cache, shared by every request).

    It writes responses itself rather than through chalice's handler, to answer as API Gateway does: no body
    for HEAD (or a body left on a keep-alive connection would be read as the next response), JSON for every
    error, and payloads over API Gateway's limit refused unread.
    """

    protocol_version = "HTTP/1.1"

    def __init__(self, request: Any, client_address: Any, server: Any, gateway: Any) -> None:
        self.local_gateway = gateway
        super().__init__(request, client_address, server)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the app logs each request as JSON
        return

    def __getattr__(self, name: str) -> Any:
        # Every method goes to the gateway: http.server would answer those without a do_* handler (TRACE,
        # CONNECT, made-up ones) with an HTML 501, where API Gateway routes them like any request.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def _handle(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self.send_error(HTTPStatus.BAD_REQUEST)
            return
        if length > MAX_PAYLOAD_BYTES:
            self.close_connection = True  # the body is left unread
            too_large = GATEWAY_RESPONSES["REQUEST_TOO_LARGE"]
            self._respond(413, {**dict(too_large.headers), "Connection": "close"}, too_large.body().encode())
            return
        body = self.rfile.read(length) if length else None
        try:
            response = self.local_gateway.handle_request(
                method=self.command, path=self.path, headers=dict(self.headers), body=body
            )
        except Exception:  # noqa: BLE001 - a bug in the emulation: answer as the gateway would, and show it
            traceback.print_exc()
            failure = GATEWAY_RESPONSES["DEFAULT_5XX"]
            self._respond(failure.status or 502, dict(failure.headers), failure.body().encode())
            return
        headers: dict[str, Any] = {**response["headers"], **response.get("multiValueHeaders", {})}
        payload = response.get("body")
        if payload is not None and response.get("isBase64Encoded"):
            payload = base64.b64decode(payload)
        elif isinstance(payload, str):
            payload = payload.encode("utf-8")
        self._respond(response["statusCode"], headers, payload)

    def _respond(self, status: int, headers: Mapping[str, Any], body: bytes | None) -> None:
        self.send_response(status)
        if body is not None and not any(name.lower() == "content-type" for name in headers):
            self.send_header("Content-Type", "application/json")  # what chalice local defaults to
        self.send_header("Content-Length", str(len(body or b"")))
        for name, value in headers.items():
            if name.lower() != "content-length":
                for one in value if isinstance(value, list) else [value]:
                    self.send_header(name, one)
        self.end_headers()
        if body and self.command != "HEAD" and status >= 200 and status not in (204, 304):
            self.wfile.write(body)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (request line or headers too long, malformed request...) as JSON."""
        if self.request_version == "HTTP/0.9":
            # http.server's default before the request line is understood; it would omit status and headers.
            self.request_version = self.protocol_version
        kind = "DEFAULT_5XX" if code >= 500 else "DEFAULT_4XX"
        try:
            detail = OWN_ERRORS.get(HTTPStatus(code)) or f"{HTTPStatus(code).phrase}."
        except ValueError:
            detail = "Bad request."
        self.close_connection = True  # what is left on the connection cannot be trusted
        headers = {**dict(GATEWAY_RESPONSES[kind].headers), "Connection": "close"}
        headers.pop("Retry-After", None)  # retrying the same malformed request will not help
        self._respond(code, headers, _json(detail))


def build_server(host: str, port: int, stage: str = "local") -> LocalDevServer:
    """Load the app with the stage's environment and bind the server (requests run in threads).

    A variable set in the process environment wins over the stage's value in .chalice/config.json (the
    default), as for manage.py; chalice itself would let config.json overwrite it.
    """
    from devstack.gateway import EmulatedGateway

    # chalice writes the stage's variables into the environ it is given: give it a copy, and only fill in
    # what the real environment does not set.
    config = CLIFactory(project_dir=str(ROOT), environ=dict(os.environ)).create_config_obj(chalice_stage_name=stage)
    for name, value in config.environment_variables.items():
        os.environ.setdefault(name, value)
    app = config.chalice_app
    check_startup(get_settings())  # like a Lambda cold start: refuse to serve with an invalid configuration
    # chalice's public constructor of the `chalice local` server: it also makes app.current_request
    # per thread, which the threaded server needs.
    local = create_local_server(app, config, host, port)
    gateway = EmulatedGateway(app, config, domain_name=f"{host}:{port}")
    local.server.RequestHandlerClass = partial(EmulatedRequestHandler, gateway=gateway)
    local.server.socket.listen(LISTEN_BACKLOG)  # raises the backlog of the socket already listening
    return local


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    for noisy in ("pynamodb", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        server = build_server(args.host, args.port, args.stage).server
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"API: port {args.port} is already in use", file=sys.stderr, flush=True)
        sys.exit(PORT_IN_USE_EXIT)
    # Explicit, because a shell that starts jobs in the background makes them ignore SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"Serving on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever(poll_interval=STOP_POLL_SECONDS)
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
