"""Browser fixtures: one offline Chromium per session, a fresh guarded context and page per test.

Pages open relative to `base_url`, the local stack's API by default (the docs page, the staff console at
/admin/). A folder whose pages live elsewhere (the web app on its own origin) overrides `base_url` in its own
conftest.py; any test can still open an absolute URL on this machine, or a second context with `new_context`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from devstack.stack import LocalStack
from tests.browser.harness import CHROMIUM, LAUNCH_ARGS, Watch, check_accessibility
from tests.support.stack import running_stack

# expect() waits up to 5 s by default; a page that loads a 1 MB script on a busy 2-core machine may need more.
# A wait, not a time limit on the test: it passes as soon as the condition holds.
expect.set_options(timeout=30_000)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a passing test body, fail the test if its pages reached outside or threw."""
    result = yield
    watch = getattr(item, "funcargs", {}).get("watch")
    if watch is not None:
        problems = watch.problems()
        assert not problems, "\n".join(problems)
    return result


# Package-scoped (tests/browser and its sub-folders): the stack stops once the worker is past them.
@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with running_stack(tmp_path_factory.mktemp("browser-data")) as local:
        yield local


@pytest.fixture(scope="package")
def base_url(stack: LocalStack) -> str:
    """Where relative URLs in page.goto() point: the API (override it for another origin)."""
    return stack.url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One Chromium for the whole session (each launch costs about a second); Playwright gives it a fresh,
    empty profile of its own."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium, or set CHROMIUM=/path/to/it")
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
    yield chromium
    chromium.close()


@pytest.fixture
def watch() -> Watch:
    """Outside requests (blocked) and page errors of this test's contexts; either fails the test."""
    return Watch()


@pytest.fixture
def new_context(browser: Browser, base_url: str, watch: Watch) -> Iterator[Callable[..., BrowserContext]]:
    """Make a guarded context: new_context(java_script_enabled=False, base_url=..., ...) with Playwright's options."""
    made: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(**{"base_url": base_url, **options})
        watch.guard(context)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def axe() -> Callable[..., list[dict[str, Any]]]:
    """axe(page): fails on serious or critical accessibility violations, listing them; returns the others."""
    return check_accessibility
