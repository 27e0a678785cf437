"""How the site is served: the local web server (make run's WEB_PORT) and the deployed CloudFront function
follow one rule for which paths load the app; config.js tells the pages where the API is; the site's own
files carry the security headers; and the app's date and retry arithmetic, run in the browser."""

from __future__ import annotations

import json
import re

import pytest
import requests
from playwright.sync_api import Page

from deploy.site import CONFIG_FILE, ROUTING_FUNCTION, WEB_ROOT, is_page, site_files

PATHS = [
    "/",
    "/events",
    "/events/01ARZ3NDEKTSV4RRFFQ69G5FAV",
    "/events/01ARZ3NDEKTSV4RRFFQ69G5FAV/",
    "/reset-password",
    "/dashboard/events/new",
    "/styles.css",
    "/app/main.js",
    "/missing.js",
    "/events/some.thing",
    # An organizer's page, whatever the username holds (dots too); a file under it is still a file.
    "/@creator_user",
    "/@ann.lee",
    "/@ann.lee/",
    "/@ann%40example.com",
    "/@ann/missing.js",
]


def test_pages_load_the_app_and_files_are_files(stack):
    index = (WEB_ROOT / "index.html").read_bytes()
    for path in PATHS:
        reply = requests.get(stack.web_url + path, timeout=10)
        if is_page(path):
            assert (reply.status_code, reply.content) == (200, index), path
            assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
        elif (WEB_ROOT / path.lstrip("/")).is_file():
            assert (reply.status_code, reply.content) == (200, (WEB_ROOT / path.lstrip("/")).read_bytes()), path
        else:
            assert reply.status_code == 404, path
    assert requests.get(stack.web_url + "/app/main.js", timeout=10).headers["Content-Type"] == (
        "text/javascript; charset=utf-8"
    )


def test_the_deployed_routing_function_follows_the_same_rule(page: Page, stack):
    page.goto(stack.web_url + "/")
    rewritten = page.evaluate(
        f"(paths) => {{ {ROUTING_FUNCTION}; return paths.map((uri) => handler({{request: {{uri}}}}).uri); }}",
        PATHS,
    )
    assert rewritten == ["/index.html" if is_page(p) else p for p in PATHS]


def test_every_file_of_the_site_has_an_extension_so_that_no_file_is_taken_for_a_page():
    assert site_files()
    assert [key for key, _ in site_files() if is_page("/" + key)] == []


def test_config_js_names_the_api_and_is_generated_not_committed(stack):
    reply = requests.get(f"{stack.web_url}/{CONFIG_FILE}", timeout=10)
    assert reply.status_code == 200
    assert reply.text == f"window.SESSIONS_CONFIG = {json.dumps({'apiUrl': stack.url + '/'})};\n"
    assert not (WEB_ROOT / CONFIG_FILE).exists()


def test_nothing_outside_the_site_is_served(stack):
    for path in ("/../README.md", "/%2e%2e/README.md", "/app/%2e%2e/%2e%2e/Makefile", "/.gitignore", "/app/"):
        reply = requests.get(stack.web_url + path, timeout=10)
        assert reply.status_code in (200, 404), path
        assert reply.content in ((WEB_ROOT / "index.html").read_bytes(), b"Not found.\n"), path
    assert requests.post(stack.web_url + "/", timeout=10).status_code == 501


def test_answers_carry_the_security_headers_and_validators(stack):
    reply = requests.get(stack.web_url + "/events", timeout=10)
    csp = reply.headers["Content-Security-Policy"]
    # The API for calls and the reference's script; the local AWS takes the uploads and serves the media.
    assert csp == (
        f"default-src 'none'; script-src 'self' {stack.url}; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: {stack.aws_url}; font-src 'self' data:; "
        f"connect-src 'self' {stack.url} {stack.aws_url}; worker-src blob:; manifest-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Cache-Control"] == "no-cache"
    again = requests.get(stack.web_url + "/events", headers={"If-None-Match": reply.headers["ETag"]}, timeout=10)
    assert (again.status_code, again.content) == (304, b"")


# The app's own arithmetic, run where it runs. Europe/Paris in 2030: summer time from 31 March 02:00 (clocks
# jump to 03:00) to 27 October 03:00 (clocks go back to 02:00).
ZONED = [
    ("2030-06-01T18:30", "Europe/Paris", "2030-06-01T16:30:00.000Z"),
    ("2030-01-15T09:00", "Europe/Paris", "2030-01-15T08:00:00.000Z"),
    ("2030-03-31T02:30", "Europe/Paris", "2030-03-31T01:30:00.000Z"),  # skipped: 03:30 summer time
    ("2030-10-27T02:30", "Europe/Paris", "2030-10-27T00:30:00.000Z"),  # twice: the first one
    ("2030-06-01T18:30", "America/New_York", "2030-06-01T22:30:00.000Z"),
    ("2030-06-01T18:30", "Asia/Kolkata", "2030-06-01T13:00:00.000Z"),
    ("2030-06-01T18:30", "UTC", "2030-06-01T18:30:00.000Z"),
]


@pytest.fixture
def app_page(page: Page, stack) -> Page:
    """A page of the site's origin (its modules import from there), without running the app."""
    page.goto(stack.web_url + "/favicon.svg")
    return page


def test_wall_clock_times_in_a_zone_become_the_right_instants_and_back(app_page):
    results = app_page.evaluate(
        """async (cases) => {
            const f = await import("/app/format.js");
            return cases.map(([local, zone]) => {
                const instant = f.zonedToInstant(local, zone);
                return [instant, f.instantToZoned(instant, zone)];
            });
        }""",
        [[local, zone] for local, zone, _ in ZONED],
    )
    for (local, zone, expected), (instant, back) in zip(ZONED, results, strict=True):
        assert instant == expected, (local, zone)
        assert back == ("2030-03-31T03:30" if local == "2030-03-31T02:30" else local), (local, zone)


def test_retry_after_is_read_as_seconds_or_as_a_date(app_page):
    results = app_page.evaluate(
        """async () => {
            const http = await import("/app/http.js");
            const now = Date.parse("2030-01-01T00:00:00Z");
            return [
                http.retryAfterSeconds("7", now),
                http.retryAfterSeconds("Tue, 01 Jan 2030 00:01:30 GMT", now),
                http.retryAfterSeconds("Mon, 31 Dec 2029 23:00:00 GMT", now),
                http.retryAfterSeconds("soon", now),
                http.retryAfterSeconds(null, now),
                http.retryDelayText(1),
                http.retryDelayText(45),
                http.retryDelayText(600),
            ];
        }"""
    )
    assert results == [7, 90, 0, None, None, "in 1 second", "in 45 seconds", "in about 10 minutes"]


def test_drf_error_bodies_become_messages_and_field_errors(app_page):
    results = app_page.evaluate(
        """async () => {
            const { ApiError } = await import("/app/http.js");
            const cases = [
                new ApiError(400, {title: ["This field is required."], non_field_errors: ["Ends before it starts."]}),
                new ApiError(409, {detail: "This event is full.", code: "event_full"}),
                new ApiError(409, {detail: "The event is changing quickly; try again.", code: "conflict"},
                             {retryAfter: 1}),
                new ApiError(401, {detail: "Given token not valid for any token type", code: "token_not_valid",
                                   messages: [{token_class: "AccessToken", message: "Token is expired"}]}),
                new ApiError(500, null),
                new ApiError(0, null),
            ];
            return cases.map((e) => [e.message, e.code, e.fieldErrors]);
        }"""
    )
    assert results == [
        [
            "Ends before it starts.",
            None,
            {"title": ["This field is required."], "non_field_errors": ["Ends before it starts."]},
        ],
        ["This event is full.", "event_full", {}],
        ["The event is changing quickly; try again. Try again in 1 second.", "conflict", {}],
        ["Given token not valid for any token type", "token_not_valid", {}],
        ["The server failed to answer (HTTP 500). Try again shortly.", None, {}],
        ["Could not reach the server. Check your connection and try again.", None, {}],
    ]


def test_the_pages_need_no_build_step_and_name_no_outside_host():
    for key, path in site_files():
        if key.endswith((".js", ".html", ".css")):
            text = path.read_text(encoding="utf-8")
            hosts = set(re.findall(r"(?:https?:)?//([a-z0-9.-]+\.[a-z]{2,})", text, flags=re.IGNORECASE))
            # An SVG's namespace and the "Add to Google Calendar" link (a page the reader opens): never fetched.
            assert hosts <= {"www.w3.org", "calendar.google.com"}, (key, hosts)
        if key.endswith(".js"):
            # Modules import files by path: no package names that would need a bundler or an import map. (A
            # keyword inside a string, such as the list's "from" parameter, is no import: the lookbehind.)
            specifiers = re.findall(
                r"""(?<![\w.'"])(?:from|import)\s*\(?\s*["']([^"']+)["']""", path.read_text(encoding="utf-8")
            )
            assert all(s.startswith(("./", "../", "/")) and s.endswith(".js") for s in specifiers), (key, specifiers)
