"""`make screenshots`: the README's pictures of the web app, taken in Chromium against a fresh local stack
with the demo data (docs/events.png: the upcoming events; docs/dashboard.png: creator_user's dashboard)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser.harness import CHROMIUM, LAUNCH_ARGS
from tests.support.stack import running_stack

DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEWPORT = {"width": 1200, "height": 720}


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as data, running_stack(Path(data)) as stack, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        context = browser.new_context(base_url=stack.web_url, viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
        page = context.new_page()
        page.goto("/")
        expect(page.get_by_role("link", name="Serverless with Chalice")).to_be_visible()
        page.screenshot(path=DOCS / "events.png")

        page.goto("/signin")
        page.get_by_label("Username").fill("creator_user")
        page.get_by_label("Password").fill("password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("navigation", name="Main").get_by_text("Signed in as creator_user")).to_be_visible()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
        expect(page.get_by_role("link", name="Unannounced workshop")).to_be_visible()
        page.screenshot(path=DOCS / "dashboard.png")
        browser.close()
    print(f"wrote {DOCS / 'events.png'} and {DOCS / 'dashboard.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
