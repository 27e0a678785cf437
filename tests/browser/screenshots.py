"""`make screenshots`: the pictures in docs/, taken in Chromium against a fresh local stack with the demo data:
the web app (docs/events.png: the upcoming events; docs/dashboard.png: creator_user's dashboard) and the staff
console (docs/admin-console-users.png, docs/admin-console-log.png, after a few staff changes)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, expect, sync_playwright

from devstack.stack import LocalStack
from tests.browser.console_pages import sign_in
from tests.browser.harness import CHROMIUM, LAUNCH_ARGS
from tests.support.stack import running_stack

DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEWPORT = {"width": 1200, "height": 720}


def web_app(browser: Browser, stack: LocalStack) -> None:
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
    context.close()


def staff_console(browser: Browser, stack: LocalStack) -> None:
    page = browser.new_page(base_url=stack.url, viewport={"width": 1280, "height": 760})
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "admin")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.get_by_label("Role of user").select_option("CREATOR")
    expect(page.get_by_role("status")).to_have_text("user: role set to CREATOR.")
    page.get_by_role("link", name="Events").click()
    page.get_by_role("button", name='Cancel "Advanced Django"').click()
    expect(page.get_by_role("status")).to_have_text('Event "Advanced Django" cancelled.')
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    page.screenshot(path=DOCS / "admin-console-users.png")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="event.cancel")).to_be_visible()
    page.screenshot(path=DOCS / "admin-console-log.png")
    page.close()


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as data, running_stack(Path(data)) as stack, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        web_app(browser, stack)  # first: the console's changes below would show in the web app's pictures
        staff_console(browser, stack)
        browser.close()
    print(f"wrote {', '.join(p.name for p in sorted(DOCS.glob('*.png')))} in {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
