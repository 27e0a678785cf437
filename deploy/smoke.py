"""A deployed stage answers as this checkout says it should: `python -m deploy.smoke --stack NAME`.

Reads the stack's outputs (EndpointURL, SiteURL), then checks, with exact expectations:
the API's liveness route; its public list of events, read from the site's origin (CORS allows it); the site's
index.html (this checkout's web/index.html, with its security headers), an app page routed to it, config.js
naming the stack's API, and a missing file answered 404. Each check is tried a few times (a function's first
call, CloudFront's edges taking the new release); exits 1 naming every check that still failed."""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from deploy.site import CACHE_CONTROL, CONFIG_FILE, INDEX_FILE, WEB_ROOT, config_script, content_type, origin_of

TIMEOUT = 30
ATTEMPTS = 6
DELAY = 10.0
# A path the app routes (no dot in its last segment) and one that names a file the site does not have.
PAGE_PATH = "events/smoke-check"
MISSING_PATH = "smoke-check-missing.js"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes


@dataclass(frozen=True)
class Check:
    name: str
    url: str
    verify: Callable[[Answer], str | None]  # what is wrong, or None
    headers: Mapping[str, str] | None = None


def fetch(opener: Any, url: str, headers: Mapping[str, str] | None = None) -> Answer:
    """GET `url` through a urllib opener; an HTTP error status is an answer like any other."""
    request = urllib.request.Request(url, headers=dict(headers or {}), method="GET")  # noqa: S310 - https from the stack
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return Answer(response.status, _lower(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, _lower(error.headers), error.read())


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _json(answer: Answer) -> Any:
    try:
        return json.loads(answer.body)
    except ValueError:
        return None


def _expect(answer: Answer, status: int, kind: str | None = None) -> str | None:
    if answer.status != status:
        return f"status {answer.status}, expected {status}"
    if kind is not None and answer.headers.get("content-type") != kind:
        return f"Content-Type {answer.headers.get('content-type')!r}, expected {kind!r}"
    return None


def checks(outputs: Mapping[str, str], web_root: Path = WEB_ROOT) -> list[Check]:
    """What a stage that this checkout deployed answers."""
    api, site = outputs["EndpointURL"], outputs["SiteURL"]
    site_origin = origin_of(site)
    index = (web_root / INDEX_FILE).read_bytes()
    html = content_type(INDEX_FILE)

    def health(answer: Answer) -> str | None:
        wrong = _expect(answer, 200, "application/json")
        if wrong is None and _json(answer) != {"status": "ok"}:
            wrong = f"body {answer.body[:200]!r}, expected {{'status': 'ok'}}"
        return wrong

    def events(answer: Answer) -> str | None:
        wrong = _expect(answer, 200, "application/json")
        body = _json(answer)
        if wrong is None and not (
            isinstance(body, dict) and set(body) == {"results", "next"} and isinstance(body["results"], list)
        ):
            wrong = f"body {answer.body[:200]!r}, expected a page: results and next"
        allowed = answer.headers.get("access-control-allow-origin")
        if wrong is None and allowed not in (site_origin, "*"):
            wrong = f"Access-Control-Allow-Origin {allowed!r}: the site's origin {site_origin} is not allowed"
        return wrong

    def page(answer: Answer) -> str | None:
        wrong = _expect(answer, 200, html)
        if wrong is None and answer.body != index:
            wrong = f"{len(answer.body)} bytes that are not this checkout's web/{INDEX_FILE}"
        expected = {"cache-control": CACHE_CONTROL, "x-content-type-options": "nosniff", "x-frame-options": "DENY"}
        for name, value in expected.items():
            if wrong is None and answer.headers.get(name) != value:
                wrong = f"{name} {answer.headers.get(name)!r}, expected {value!r}"
        if wrong is None and not answer.headers.get("content-security-policy", "").startswith("default-src 'none'"):
            wrong = f"Content-Security-Policy {answer.headers.get('content-security-policy')!r}"
        return wrong

    def config(answer: Answer) -> str | None:
        wrong = _expect(answer, 200, content_type(CONFIG_FILE))
        # The pages call the API under the site's own origin (deploy/edge.py).
        if wrong is None and answer.body != config_script(site):
            wrong = f"body {answer.body[:200]!r}, expected {config_script(site)!r}"
        return wrong

    return [
        Check("API liveness", urljoin(api, "health/"), health),
        Check("API public events, from the site", urljoin(api, "api/events/"), events, {"Origin": site_origin}),
        Check("site index.html", site, page),
        Check("site page routed to index.html", urljoin(site, PAGE_PATH), page),
        Check("site config.js", urljoin(site, CONFIG_FILE), config),
        Check("site missing file", urljoin(site, MISSING_PATH), lambda answer: _expect(answer, 404)),
    ]


def smoke(
    outputs: Mapping[str, str],
    opener: Any,
    *,
    web_root: Path = WEB_ROOT,
    attempts: int = ATTEMPTS,
    delay: float = DELAY,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] = print,
) -> list[str]:
    """Run every check, each until it passes or `attempts` are spent; returns the failures ("name: what")."""
    failures = []
    for check in checks(outputs, web_root):
        for attempt in range(1, attempts + 1):
            try:
                wrong = check.verify(fetch(opener, check.url, check.headers))
            except OSError as error:  # no answer at all (DNS, connection, timeout)
                wrong = f"no answer: {error}"
            if wrong is None or attempt == attempts:
                break
            sleep(delay)
        say(f"{'ok  ' if wrong is None else 'FAIL'} {check.name}: GET {check.url}" + (f": {wrong}" if wrong else ""))
        if wrong is not None:
            failures.append(f"{check.name}: {wrong}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--attempts", type=int, default=ATTEMPTS)
    parser.add_argument("--delay", type=float, default=DELAY, help="seconds between two attempts of a check")
    args = parser.parse_args(argv)

    import boto3

    from deploy.publish import stack_state

    state = stack_state(boto3.client("cloudformation"), args.stack)
    if state is None:
        print(f"stack {args.stack} does not exist", file=sys.stderr)
        return 1
    failures = smoke(state.outputs, urllib.request.build_opener(), attempts=args.attempts, delay=args.delay)
    if failures:
        print(f"\n{len(failures)} check(s) failed on {args.stack}", file=sys.stderr)
        return 1
    print(f"\n{args.stack}: every check passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
