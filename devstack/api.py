"""`chalice local` for the stage, served through the API Gateway emulation."""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from chalice.cli.factory import CLIFactory
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, ThreadedHTTPServer

from chalicelib.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent


class EmulatedRequestHandler(ChaliceRequestHandler):
    """chalice local's HTTP handler, sharing one emulated gateway (and its policy cache) across requests."""

    def __init__(self, request: Any, client_address: Any, server: Any, gateway: Any) -> None:
        self.local_gateway = gateway
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the app logs each request as JSON
        return

    def __getattr__(self, name: str) -> Any:
        # http.server answers methods without a do_* handler (TRACE, CONNECT, made-up ones) with an HTML 501;
        # API Gateway routes them like any request, so the emulation decides (a JSON 404 or 405).
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)


class _Server(ThreadedHTTPServer):
    # The standard library's backlog of 5 resets connections when many clients arrive at once.
    request_queue_size = 256


def build_server(host: str, port: int, stage: str = "local") -> ThreadedHTTPServer:
    """Load the app with the stage's environment and bind the server (requests run in threads)."""
    from devstack.gateway import EmulatedGateway

    factory = CLIFactory(project_dir=str(ROOT), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app
    get_settings()  # like a Lambda cold start: refuse to serve with an invalid configuration
    # What `chalice local` does: keep current_request per thread.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    gateway = EmulatedGateway(app, config)
    return _Server((host, port), functools.partial(EmulatedRequestHandler, gateway=gateway))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    for noisy in ("pynamodb", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    server = build_server(args.host, args.port, args.stage)
    # Explicit, because a shell that starts jobs in the background makes them ignore SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"Serving on http://{args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
