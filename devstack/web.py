"""The web app on its own origin (WEB_PORT), as CloudFront serves it deployed: the files of web/, config.js
written for the local API, index.html for the app's pages, and the site's security headers.

A thread of the stack's own process (static files need no process of their own); LocalStack starts and
stops it."""

from __future__ import annotations

import errno
import hashlib
import threading
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from deploy.site import (
    CACHE_CONTROL,
    CONFIG_FILE,
    INDEX_FILE,
    WEB_ROOT,
    config_script,
    content_type,
    is_page,
    origin_of,
    security_headers,
)
from devstack.files import STOP_POLL_SECONDS


class WebPortInUse(OSError):
    """WEB_PORT is taken."""


class SiteHandler(BaseHTTPRequestHandler):
    """GET and HEAD of the site's files; nothing else."""

    protocol_version = "HTTP/1.1"
    server_version = "SessionsWeb"
    sys_version = ""

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        self.site = site
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet, like the API's server
        return

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def _serve(self, *, with_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        found = self.site.resolve(path)
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, b"Not found.\n", "text/plain; charset=utf-8", with_body=with_body)
            return
        body, kind = found
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._send(HTTPStatus.NOT_MODIFIED, b"", None, with_body=False, etag=etag)
            return
        self._send(HTTPStatus.OK, body, kind, with_body=with_body, etag=etag)

    def _send(
        self, status: HTTPStatus, body: bytes, kind: str | None, *, with_body: bool, etag: str | None = None
    ) -> None:
        self.send_response(status)
        if kind:
            self.send_header("Content-Type", kind)
        if status != HTTPStatus.NOT_MODIFIED:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", CACHE_CONTROL)
        if etag:
            self.send_header("ETag", etag)
        for name, value in self.site.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if with_body and status != HTTPStatus.NOT_MODIFIED:
            self.wfile.write(body)


class Site:
    """What the server answers: web/'s files, config.js for `api_url`, index.html for the app's pages."""

    def __init__(self, api_url: str, storage_url: str, root: Path = WEB_ROOT) -> None:
        self.root = root.resolve()
        self.config = config_script(api_url)
        # Locally one endpoint (the local AWS) both takes the uploads and serves the media.
        storage = origin_of(storage_url)
        self.headers = security_headers(origin_of(api_url), storage, storage)

    def resolve(self, path: str) -> tuple[bytes, str] | None:
        """The body and content type for a URL path, or None (404)."""
        if path == f"/{CONFIG_FILE}":
            return self.config, content_type(CONFIG_FILE)
        if is_page(path):
            path = f"/{INDEX_FILE}"
        parts = [p for p in path.split("/") if p]
        # No way out of web/, and no hidden files (an editor's swap file, a .gitignore).
        if any(p.startswith(".") or "\\" in p or "\0" in p for p in parts):
            return None
        target = self.root.joinpath(*parts)
        if not target.is_file() or not target.resolve().is_relative_to(self.root):
            return None
        return target.read_bytes(), content_type(target.name)


class WebServer:
    """The site on 127.0.0.1:`port`, served by a thread until stop()."""

    def __init__(self, port: int, api_url: str, storage_url: str, root: Path = WEB_ROOT) -> None:
        self.port = port
        self.site = Site(api_url, storage_url, root)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Bind and serve; raises WebPortInUse when the port is taken."""
        try:
            server = ThreadingHTTPServer(("127.0.0.1", self.port), partial(SiteHandler, site=self.site))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise WebPortInUse(self.port) from exc
            raise
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": STOP_POLL_SECONDS}, name="web-app", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None
