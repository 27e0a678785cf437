"""The README's screenshots of the staff console: `.venv/bin/python -m tests.browser.screenshots`.

Starts a local stack of its own (demo data), makes a few staff changes through the console and writes
docs/admin-console-users.png and docs/admin-console-log.png."""

from __future__ import annotations

import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser.console_pages import sign_in
from tests.browser.harness import CHROMIUM, LAUNCH_ARGS
from tests.support.stack import running_stack

DOCS = Path(__file__).resolve().parents[2] / "docs"


def main() -> None:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as data, running_stack(Path(data)) as stack, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
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
        browser.close()
    print(f"wrote {DOCS / 'admin-console-users.png'} and {DOCS / 'admin-console-log.png'}")


if __name__ == "__main__":
    main()
