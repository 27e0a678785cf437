"""Browser-test helpers: Debian's Chromium driven by Playwright, offline, with network isolation and axe-core."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page, Route, WebSocketRoute

# Playwright cannot download its own browser build here: `make test` installs Debian's chromium instead.
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",  # Chromium's sandbox refuses to run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps trying to reach Google's services, and the closed network refuses them.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Everything the project serves (the API, the staff console, the web app) is on this machine.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
BLOCKING_IMPACTS = ("critical", "serious")
# The URLs the guard intercepts: any but http(s) to this machine. A pattern Playwright's driver matches itself, so
# that the project's own requests go on without a round trip through this process (routing "**/*" sent each one
# here and back: some 10% of the browser tests' time).
_AS_URL_HOSTS = "|".join(re.escape(f"[{host}]" if ":" in host else host) for host in sorted(LOCAL_HOSTS))
OUTSIDE = re.compile(rf"^(?!https?://({_AS_URL_HOSTS})(:\d+)?(/|$))")


def is_local(url: str) -> bool:
    """Whether `url` points to this machine (the only place the project's pages may load anything from)."""
    return urlsplit(url).hostname in LOCAL_HOSTS


@dataclass
class Watch:
    """What the pages of one test did that the test did not ask for."""

    outside: list[str] = field(default_factory=list)  # requests to other hosts: aborted before leaving
    page_errors: list[str] = field(default_factory=list)  # uncaught exceptions in any page
    console_errors: list[str] = field(default_factory=list)  # console.error and failed loads, for tests to check

    def guard(self, context: BrowserContext) -> None:
        """Abort and record every request of `context` to a host other than this machine."""
        context.route(OUTSIDE, self._route)
        context.route_web_socket("**/*", self._route_web_socket)  # WebSockets do not go through route()
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))
        context.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)

    def take_outside(self) -> list[str]:
        """The outside requests so far, forgotten: for a test that provokes one on purpose."""
        taken, self.outside[:] = list(self.outside), []
        return taken

    def _route(self, route: Route) -> None:
        if is_local(route.request.url):
            route.fallback()  # on to the network, or to a handler a test added on the context
        else:
            self.outside.append(route.request.url)
            route.abort("blockedbyclient")

    def _route_web_socket(self, socket: WebSocketRoute) -> None:
        if is_local(socket.url):
            socket.connect_to_server()
        else:
            self.outside.append(socket.url)
            socket.close()

    def problems(self) -> list[str]:
        """Why the test must fail even if its own assertions passed."""
        found = [f"tried to load from outside the project (blocked): {url}" for url in self.outside]
        found += [f"uncaught error in the page: {error}" for error in self.page_errors]
        return found


@lru_cache(maxsize=1)
def _axe() -> Axe:
    return Axe()  # reads axe-core's 0.5 MB script once


def accessibility_violations(page: Page, context: Any = None) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (all rules, every impact)."""
    return list(_axe().run(page, context=context).response["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """One readable block per violation: rule, impact, what it means, and each offending element."""
    blocks = []
    for violation in violations:
        lines = [f"{violation['id']} ({violation['impact']}): {violation['help']} - {violation['helpUrl']}"]
        for node in violation["nodes"]:
            lines.append(f"  at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            lines += [f"    {line}" for line in (node.get("failureSummary") or "").splitlines()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def check_accessibility(page: Page, context: Any = None) -> list[dict[str, Any]]:
    """Fail on any serious or critical axe-core violation; return the lesser ones (moderate, minor)."""
    violations = accessibility_violations(page, context)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{len(blocking)} serious or critical accessibility violations on {page.url}:\n\n" + describe(
        blocking
    )
    return [v for v in violations if v["impact"] not in BLOCKING_IMPACTS]
