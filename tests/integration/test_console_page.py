"""GET /admin/ and its two files: served by the API itself, with headers that keep the page self-contained.

How the console behaves in a browser is in tests/browser/test_admin_console.py."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import app as app_module
from chalicelib.http.openapi import openapi_document
from tests.support.api import proxy_event

FILES = Path(__file__).resolve().parents[2] / "chalicelib" / "console"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _version(name: str) -> str:
    return hashlib.sha256((FILES / name).read_bytes()).hexdigest()[:12]


def test_console_page_runs_only_its_own_script_with_a_strict_policy(api):
    page = api.get("/admin/")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"
    assert "set-cookie" not in page.headers
    text = page.raw.decode()
    assert re.findall(r"<script[^>]*>", text) == [
        f'<script type="module" src="/admin/console.js?v={_version("console.js")}">'
    ]
    assert f'<link rel="stylesheet" href="/admin/console.css?v={_version("console.css")}">' in text
    assert "style=" not in text and "http://" not in text and "https://" not in text
    assert api.get("/admin").raw == page.raw


def test_console_files_are_served_whole_cached_a_year_and_name_nothing_outside(api):
    for name, media in (("console.js", "text/javascript"), ("console.css", "text/css")):
        reply = api.get(f"/admin/{name}?v={_version(name)}")
        assert reply.status == 200
        assert reply.headers["content-type"] == f"{media}; charset=utf-8"
        assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.raw == (FILES / name).read_bytes()
        assert "http://" not in reply.raw.decode() and "https://" not in reply.raw.decode()


def test_console_files_stay_small_for_the_function_zip():
    assert sum(path.stat().st_size for path in FILES.iterdir()) < 40_000


def test_the_console_keeps_the_stage_prefix_in_its_links():
    body = app_module.app(proxy_event("/admin", "/v1/admin/"), None)["body"]
    assert '<body data-api="/v1">' in body
    assert f'src="/v1/admin/console.js?v={_version("console.js")}"' in body


def test_the_console_and_the_admin_api_are_in_the_document():
    paths = openapi_document()["paths"]
    assert {"/admin/", "/admin/console.js", "/admin/console.css"} <= set(paths)
    assert set(paths["/api/admin/users/"]) == {"get", "post"}
    assert set(paths["/api/admin/users/{user_id}/"]) == {"get", "patch"}
    assert paths["/api/admin/log/"]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/admin/"]["get"]
    assert list(paths["/admin/console.css"]["get"]["responses"]["200"]["content"]) == ["text/css"]
