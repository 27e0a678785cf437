"""GET /admin/: the staff console, a page and its script and style sheet, served by the API itself.

They hold no data: the page signs in through POST /api/token/ and reads everything through the admin API,
which only staff may call. Tokens stay in the tab's sessionStorage, never in a cookie."""

from __future__ import annotations

import hashlib
import html
from functools import cache
from pathlib import Path

from chalice.app import Blueprint, Response

from chalicelib.http.contract import CSS, HTML, JAVASCRIPT
from chalicelib.http.requests import base_path
from chalicelib.http.routing import Router

console_bp = Blueprint(__name__)
routes = Router(console_bp)

CONSOLE_PATH = "/admin"
FILES = Path(__file__).resolve().parent.parent / "console"
YEAR = 365 * 24 * 3600
# Only the console's own script runs and only the API is called: no inline script or style, nothing from
# elsewhere, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


@cache
def _file(name: str) -> tuple[str, str]:
    """A console file's text and a version naming its content (read on first use)."""
    text = (FILES / name).read_text(encoding="utf-8")
    return text, hashlib.sha256(text.encode()).hexdigest()[:12]


def _answer(body: str, media: str, cache_control: str) -> Response:
    headers: dict[str, str | list[str]] = {
        "Content-Type": f"{media}; charset=utf-8",
        "Cache-Control": cache_control,
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return Response(body=body, status_code=200, headers=headers)


def _asset(name: str, media: str) -> Response:
    # The page names each file with its version, so a changed file is a new URL and browsers may keep one
    # for a year.
    return _answer(_file(name)[0], media, f"public, max-age={YEAR}, immutable")


@routes.route(
    "/admin", "GET", summary="The staff console (signs in within the page)", responses={200: HTML}, uses_database=False
)
def console() -> Response:
    """The console's page; its links keep whatever precedes /admin (an API Gateway stage such as /v1)."""
    prefix = base_path(routes.request, CONSOLE_PATH)
    page = _file("index.html")[0].format(
        api=html.escape(prefix),
        script=html.escape(f"{prefix}{CONSOLE_PATH}/console.js?v={_file('console.js')[1]}"),
        style=html.escape(f"{prefix}{CONSOLE_PATH}/console.css?v={_file('console.css')[1]}"),
    )
    return _answer(page, HTML, "no-cache")


@routes.route(
    "/admin/console.js", "GET", summary="The staff console's script", responses={200: JAVASCRIPT}, uses_database=False
)
def console_script() -> Response:
    """The console's script (a JavaScript module)."""
    return _asset("console.js", JAVASCRIPT)


@routes.route(
    "/admin/console.css", "GET", summary="The staff console's style sheet", responses={200: CSS}, uses_database=False
)
def console_style() -> Response:
    """The console's style sheet."""
    return _asset("console.css", CSS)
