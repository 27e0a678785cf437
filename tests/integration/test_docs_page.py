"""GET /api/docs/ and the Redoc script it runs: served by the API itself, with headers that keep it self-contained.

How the page behaves in a browser is in tests/browser/test_docs_page.py."""

from __future__ import annotations

import re
from importlib.metadata import distribution
from pathlib import Path

import app as app_module
from chalicelib.http.docs import REDOC_DIR, REDOC_DISTRIBUTION
from tests.support.api import proxy_event

VERSION = distribution(REDOC_DISTRIBUTION).version
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def test_docs_page_runs_only_the_apis_own_script_and_links_to_the_document(api):
    page = api.get("/api/docs/")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    text = page.raw.decode()
    assert re.findall(r"<script[^>]*>", text) == [f'<script src="/api/docs/redoc/?v={VERSION}">']
    assert '<redoc spec-url="/api/schema/">' in text
    assert '<a href="/api/schema/">/api/schema/</a>' in text
    assert "http://" not in text and "https://" not in text


def test_redoc_script_is_served_with_its_licences_a_long_cache_and_no_outside_address(api):
    script = api.get("/api/docs/redoc/")
    assert script.status == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["x-content-type-options"] == "nosniff"
    folder = Path(str(distribution(REDOC_DISTRIBUTION).locate_file(REDOC_DIR)))
    bundle = (folder / "bundles/redoc.standalone.js").read_text(encoding="utf-8")
    served = script.raw.decode()
    notice, _, rest = served.partition("\n*/\n")
    assert "Copyright (c) 2015-present, Rebilly, Inc." in notice  # Redoc's MIT licence
    assert "ReDoc - OpenAPI/Swagger-generated API Reference Documentation" in notice  # what it bundles
    # The bundle itself, unchanged except for the one image it would fetch from Redocly's CDN.
    assert rest == bundle.replace("https://cdn.redoc.ly/redoc/logo-mini.svg", "data:,")
    assert rest != bundle
    assert "cdn.redoc.ly" not in served


def test_docs_page_keeps_the_stage_prefix_in_its_links_with_or_without_the_slash():
    # On API Gateway the page is under a stage (/v1/api/docs): its links must keep it.
    for path in ("/v1/api/docs", "/v1/api/docs/"):
        event = proxy_event("/api/docs", path)
        response = app_module.app(event, None)
        assert response["statusCode"] == 200
        assert f'<script src="/v1/api/docs/redoc/?v={VERSION}">' in response["body"]
        assert '<a href="/v1/api/schema/">/v1/api/schema/</a>' in response["body"]
