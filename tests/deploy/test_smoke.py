"""The smoke test run after each deploy (deploy/smoke.py), against a fake HTTP opener: the exact requests it
makes, what it accepts, and what it calls a failure."""

from __future__ import annotations

import email.message
import io
import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest

from deploy.site import WEB_ROOT, config_script
from deploy.smoke import checks, main, smoke

API = "https://abc.execute-api.eu-west-1.amazonaws.com/v1/"
SITE = "https://d111.cloudfront.net/"
OUTPUTS = {"EndpointURL": API, "SiteURL": SITE, "SiteBucketName": "site-bucket"}
INDEX = (WEB_ROOT / "index.html").read_bytes()
SITE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; script-src 'self' https://abc.execute-api...",
}
JSON = {"Content-Type": "application/json"}


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self._body = status, headers, body

    def read(self) -> bytes:
        return self._body

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _error(url: str, status: int, headers: dict[str, str], body: bytes) -> urllib.error.HTTPError:
    message = email.message.Message()
    for name, value in headers.items():
        message[name] = value
    return urllib.error.HTTPError(url, status, "error", message, io.BytesIO(body))


class FakeOpener:
    """Answers as a healthy deployed stage does, except where `answers` says otherwise; records each request."""

    def __init__(self, answers: dict[str, list[Any]] | None = None) -> None:
        self.answers = answers or {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def open(self, request: Any, timeout: float) -> Response:
        assert timeout == 30
        url = request.full_url
        self.requests.append((request.get_method(), url, dict(request.header_items())))
        if self.answers.get(url):
            answer = self.answers[url].pop(0)
            if isinstance(answer, BaseException):
                raise answer
            return answer
        return self.healthy(url, dict(request.header_items()))

    @staticmethod
    def healthy(url: str, headers: dict[str, str]) -> Response:
        if url == API + "health/":
            return Response(200, JSON, b'{"status":"ok"}')
        if url == API + "api/events/":
            cors = {"Access-Control-Allow-Origin": headers["Origin"]} if headers.get("Origin") == SITE[:-1] else {}
            return Response(200, {**JSON, **cors}, b'{"results":[],"next":null}')
        if url in (SITE, SITE + "events/smoke-check"):
            return Response(200, {"Content-Type": "text/html; charset=utf-8", **SITE_HEADERS}, INDEX)
        if url == SITE + "config.js":
            return Response(200, {"Content-Type": "text/javascript; charset=utf-8"}, config_script(SITE))
        raise _error(url, 404, {"Content-Type": "application/xml"}, b"<Error><Code>NoSuchKey</Code></Error>")


def _run(opener: FakeOpener, attempts: int = 3) -> tuple[list[str], list[str], list[float]]:
    said: list[str] = []
    slept: list[float] = []
    failures = smoke(OUTPUTS, opener, attempts=attempts, delay=7.0, sleep=slept.append, say=said.append)
    return failures, said, slept


def test_a_healthy_stage_passes_every_check_with_one_request_each():
    opener = FakeOpener()
    failures, said, slept = _run(opener)
    assert (failures, slept) == ([], [])
    assert opener.requests == [
        ("GET", API + "health/", {}),
        ("GET", API + "api/events/", {"Origin": "https://d111.cloudfront.net"}),
        ("GET", SITE, {}),
        ("GET", SITE + "events/smoke-check", {}),
        ("GET", SITE + "config.js", {}),
        ("GET", SITE + "smoke-check-missing.js", {}),
    ]
    assert said == [
        f"ok   API liveness: GET {API}health/",
        f"ok   API public events, from the site: GET {API}api/events/",
        f"ok   site index.html: GET {SITE}",
        f"ok   site page routed to index.html: GET {SITE}events/smoke-check",
        f"ok   site config.js: GET {SITE}config.js",
        f"ok   site missing file: GET {SITE}smoke-check-missing.js",
    ]


def test_a_check_is_tried_again_until_it_passes():
    # The function's first call times out, then a 502 while it starts: the third answer is the right one.
    opener = FakeOpener(
        {API + "health/": [TimeoutError("timed out"), _error(API + "health/", 502, JSON, b'{"message":"x"}')]}
    )
    failures, _, slept = _run(opener)
    assert (failures, slept) == ([], [7.0, 7.0])
    assert [url for _, url, _ in opener.requests].count(API + "health/") == 3


def _failure_of(url: str, *answers: Any) -> str:
    opener = FakeOpener({url: list(answers) * 3})
    failures, said, slept = _run(opener)
    assert len(failures) == 1 and slept == [7.0, 7.0]  # three attempts, then the failure
    name, wrong = failures[0].split(": ", 1)
    assert [line for line in said if line.startswith("FAIL")] == [f"FAIL {name}: GET {url}: {wrong}"]
    return failures[0]


def test_each_wrong_answer_is_named():
    html = {"Content-Type": "text/html; charset=utf-8", **SITE_HEADERS}
    assert _failure_of(API + "health/", Response(200, JSON, b'{"status":"down"}')) == (
        "API liveness: body b'{\"status\":\"down\"}', expected {'status': 'ok'}"
    )
    assert _failure_of(API + "api/events/", Response(200, JSON, b'{"results":[],"next":null}')) == (
        "API public events, from the site: Access-Control-Allow-Origin None: "
        "the site's origin https://d111.cloudfront.net is not allowed"
    )
    assert _failure_of(API + "api/events/", Response(200, JSON, b'{"results":{}}')) == (
        "API public events, from the site: body b'{\"results\":{}}', expected a page: results and next"
    )
    # An older release still served: not this checkout's index.html.
    assert _failure_of(SITE, Response(200, html, b"<html>old</html>")) == (
        "site index.html: 16 bytes that are not this checkout's web/index.html"
    )
    assert _failure_of(SITE, Response(200, {**html, "Cache-Control": "max-age=86400"}, INDEX)) == (
        "site index.html: cache-control 'max-age=86400', expected 'no-cache'"
    )
    no_csp = {k: v for k, v in html.items() if k != "Content-Security-Policy"}
    assert _failure_of(SITE + "events/smoke-check", Response(200, no_csp, INDEX)) == (
        "site page routed to index.html: Content-Security-Policy None"
    )
    assert _failure_of(SITE + "events/smoke-check", _error(SITE, 404, {"Content-Type": "application/xml"}, b"")) == (
        "site page routed to index.html: status 404, expected 200"
    )
    js = {"Content-Type": "text/javascript; charset=utf-8"}
    other = config_script("https://other.example/v1/")
    assert _failure_of(SITE + "config.js", Response(200, js, other)) == (
        f"site config.js: body {other!r}, expected {config_script(SITE)!r}"
    )
    assert _failure_of(
        SITE + "config.js", Response(200, {"Content-Type": "binary/octet-stream"}, config_script(SITE))
    ) == ("site config.js: Content-Type 'binary/octet-stream', expected 'text/javascript; charset=utf-8'")
    # A missing file answered with the app's page would hide broken links.
    assert _failure_of(SITE + "smoke-check-missing.js", Response(200, html, INDEX)) == (
        "site missing file: status 200, expected 404"
    )
    assert _failure_of(API + "health/", OSError("Name or service not known")) == (
        "API liveness: no answer: Name or service not known"
    )


def test_any_origin_allowed_is_the_sites_origin_allowed():
    events = API + "api/events/"
    opener = FakeOpener(
        {events: [Response(200, {**JSON, "Access-Control-Allow-Origin": "*"}, b'{"results":[],"next":null}')]}
    )
    assert _run(opener)[0] == []


def test_the_checks_follow_the_stacks_outputs():
    outputs = {"EndpointURL": "https://x.example/v1/", "SiteURL": "https://app.example.org/"}
    assert [check.url for check in checks(outputs)] == [
        "https://x.example/v1/health/",
        "https://x.example/v1/api/events/",
        "https://app.example.org/",
        "https://app.example.org/events/smoke-check",
        "https://app.example.org/config.js",
        "https://app.example.org/smoke-check-missing.js",
    ]
    assert checks(outputs)[1].headers == {"Origin": "https://app.example.org"}


@pytest.mark.parametrize("body", [b"not json", b"[]"])
def test_an_answer_that_is_not_the_json_expected_fails(body):
    assert _failure_of(API + "health/", Response(200, JSON, body)).startswith("API liveness: body ")


def test_the_health_body_is_read_as_json_not_as_text():
    # The same object written otherwise (spaces) passes: the API's JSON is compared, not its bytes.
    opener = FakeOpener({API + "health/": [Response(200, JSON, json.dumps({"status": "ok"}, indent=2).encode())]})
    assert _run(opener)[0] == []


def test_the_command_reads_the_stacks_outputs_and_exits_1_on_a_failure(monkeypatch, capsys):
    class CloudFormation:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            assert StackName == "sessions-marketplace-dev"
            return {"Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in OUTPUTS.items()]}]}

    monkeypatch.setattr(boto3, "client", lambda name, **_: CloudFormation())
    monkeypatch.setattr(urllib.request, "build_opener", lambda: FakeOpener())
    assert main(["--stack", "sessions-marketplace-dev", "--attempts", "1"]) == 0
    assert capsys.readouterr().out.endswith("\nsessions-marketplace-dev: every check passed\n")
    stale = FakeOpener({SITE + "config.js": [Response(404, {}, b"")]})
    monkeypatch.setattr(urllib.request, "build_opener", lambda: stale)
    assert main(["--stack", "sessions-marketplace-dev", "--attempts", "1"]) == 1
    assert capsys.readouterr().err == "\n1 check(s) failed on sessions-marketplace-dev\n"
