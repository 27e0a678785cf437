"""GET /api/schema/ (the OpenAPI document), GET /api/docs/ (a page that renders it) and the renderer's script."""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.http.contract import HTML, JAVASCRIPT
from chalicelib.http.openapi import openapi_document
from chalicelib.http.requests import base_path
from chalicelib.http.routing import Router
from chalicelib.http.views import OPENAPI_DOCUMENT

if TYPE_CHECKING:
    from importlib.metadata import Distribution

docs_bp = Blueprint(__name__)
routes = Router(docs_bp)

DOCS_PATH = "/api/docs"
# Redoc's standalone bundle comes from a PyPI package, so its bytes travel in the dependency layer rather than
# in the function zip. The package's __init__ imports Django, so the files are located through its metadata.
REDOC_DISTRIBUTION = "drf-spectacular-sidecar"
REDOC_DIR = "drf_spectacular_sidecar/static/drf_spectacular_sidecar/redoc"
YEAR = 365 * 24 * 3600
# Redoc's sidebar credits Redocly with a logo from Redocly's CDN; the page loads nothing from outside (its CSP
# would refuse it anyway), so the served copy points the image at nothing: it fails, and Redoc then hides it,
# leaving the "API docs by Redocly" link.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

# Only the API's own scripts run: no inline script, no CDN. Redoc injects its styles (styled-components),
# runs its search index in a worker made from a blob, and fetches the document from the same origin.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

# Redoc starts by itself on a <redoc spec-url> element and replaces its content, so what is inside is the
# fallback a reader sees without JavaScript or when the script fails.
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Sessions Marketplace API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
</head>
<body>
  <redoc spec-url="{schema}">
    <main>
      <h1>Sessions Marketplace API reference</h1>
      <p>This page renders the API's OpenAPI 3.1 document with Redoc, which needs JavaScript.</p>
      <p>The document itself, in JSON: <a href="{schema}">{schema}</a></p>
    </main>
  </redoc>
  <script src="{script}"></script>
</body>
</html>
"""


@routes.route(
    "/api/schema", "GET", summary="This OpenAPI 3.1 document", responses={200: OPENAPI_DOCUMENT}, uses_database=False
)
def schema() -> dict[str, Any]:
    """The OpenAPI document."""
    return openapi_document()


@routes.route("/api/docs", "GET", summary="A page rendering the document", responses={200: HTML}, uses_database=False)
def docs() -> Response:
    """Human-readable API documentation."""
    # Links are absolute and keep whatever precedes /api/docs: relative ones would break when the page is asked
    # for without its trailing slash.
    prefix = base_path(routes.request, DOCS_PATH)
    page = PAGE.format(
        schema=html.escape(f"{prefix}/api/schema/"),
        # The version in the query makes a new bundle a new URL, so browsers may keep this one for a year.
        script=html.escape(f"{prefix}{DOCS_PATH}/redoc/?v={_redoc_distribution().version}"),
    )
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=page, status_code=200, headers=headers)


@routes.route(
    "/api/docs/redoc",
    "GET",
    summary="Redoc's standalone script (MIT), which the documentation page runs",
    responses={200: JAVASCRIPT},
    uses_database=False,
)
def redoc_script() -> Response:
    """Redoc, served by the API itself so that the page needs nothing from outside."""
    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/javascript; charset=utf-8",
        "Cache-Control": f"public, max-age={YEAR}, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(body=_redoc_bundle(), status_code=200, headers=headers)


def _redoc_distribution() -> Distribution:
    # importlib.metadata costs more to import than every route of this module: only these pages pay for it.
    from importlib.metadata import distribution

    return distribution(REDOC_DISTRIBUTION)


@lru_cache(maxsize=1)
def _redoc_bundle() -> str:
    """The bundle, headed by Redoc's licence and those of the libraries it bundles; read on first use (1.1 MB)."""
    folder = Path(str(_redoc_distribution().locate_file(REDOC_DIR)))
    licences = [
        (folder / name).read_text(encoding="utf-8") for name in ("LICENSE", "bundles/redoc.standalone.js.LICENSE.txt")
    ]
    # The bundle's first line points to a LICENSE.txt beside it, which is not served: the notices go in here.
    notice = "/*! Redoc, served by the Sessions Marketplace API. Its licence and those of the libraries it bundles:\n\n"
    notice += "\n\n".join(text.replace("*/", "* /") for text in licences) + "\n*/\n"
    bundle = (folder / "bundles/redoc.standalone.js").read_text(encoding="utf-8")
    return notice + bundle.replace(REDOCLY_LOGO, "data:,")
