"""GET /api/docs/ in Chromium, offline: Redoc served by the API renders the document; without it, a fallback."""

from __future__ import annotations

import json

from playwright.sync_api import Page, Route, expect

FALLBACK_HEADING = "Sessions Marketplace API reference"


def open_rendered_docs(page: Page) -> None:
    page.goto("/api/docs/")
    # Redoc titles each operation with its summary once it has fetched and parsed /api/schema/.
    expect(page.get_by_role("heading", name="Book a seat, or a waitlist place when full")).to_be_visible()


def test_docs_page_renders_the_operations_with_nothing_from_outside(page, watch):
    open_rendered_docs(page)
    expect(page.get_by_role("heading", name="Cancel a booking")).to_be_visible()
    # Redoc replaced the fallback, and nothing was refused on the way: no CSP violation, no failed load.
    expect(page.get_by_text(FALLBACK_HEADING)).to_have_count(0)
    assert watch.console_errors == []
    assert watch.outside == []


def test_rendered_docs_page_has_no_serious_accessibility_violation(page, axe):
    open_rendered_docs(page)
    axe(page)


def test_without_javascript_the_page_says_what_it_is_and_links_to_the_json_document(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name=FALLBACK_HEADING)).to_be_visible()
    expect(page.get_by_text("which needs JavaScript")).to_be_visible()
    link = page.get_by_role("link", name="/api/schema/")
    expect(link).to_have_attribute("href", "/api/schema/")
    link.click()
    page.wait_for_url("**/api/schema/")
    assert json.loads(page.locator("body").inner_text())["openapi"] == "3.1.0"


def test_when_the_script_cannot_load_the_fallback_stays(page, watch, axe):
    def fail(route: Route) -> None:
        route.fulfill(status=503, body="")

    page.route("**/api/docs/redoc/**", fail)
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name=FALLBACK_HEADING)).to_be_visible()
    expect(page.get_by_role("link", name="/api/schema/")).to_be_visible()
    axe(page)
    # Chromium reports the refused script; nothing else went wrong.
    assert len(watch.console_errors) == 1 and "503" in watch.console_errors[0], watch.console_errors
