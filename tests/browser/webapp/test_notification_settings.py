"""The profile's notification settings and calendar feed in Chromium against the local stack: a setting saved,
still there after a reload, and in the API; the feed's address copied, and reset (the old one stops working)."""

from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

from tests.browser.webapp.conftest import signed_in
from tests.support.stack import bearer

DEFAULTS = {
    "reminders": True,
    "digest": True,
    "timezone": None,
    "transactional": [
        "booking_confirmed",
        "waitlist_joined",
        "waitlist_promoted",
        "payment_received",
        "hold_expired",
        "booking_cancelled",
        "event_changed",
        "event_cancelled",
    ],
}


def _api(site, account, path: str, method: str = "GET") -> requests.Response:
    return requests.request(method, f"{site.api}{path}", headers=bearer(account.access), timeout=10)


def _open_profile(page: Page) -> None:
    page.goto("/profile")
    expect(page.get_by_role("heading", level=1, name="Your profile")).to_be_visible()


def test_turning_reminders_off_is_saved_and_still_off_after_a_reload(page, site, axe):
    visitor = site.new_user()
    signed_in(page.context, visitor)
    _open_profile(page)
    axe(page)
    settings = page.get_by_role("form", name="Notification settings")
    optional = settings.get_by_role("group", name="Optional e-mails")
    expect(optional.get_by_role("checkbox", name="Reminders")).to_be_checked()
    expect(optional.get_by_role("checkbox", name="Daily digest")).to_be_checked()
    expect(settings.get_by_label("Time zone for e-mails")).to_have_value("")

    optional.get_by_role("checkbox", name="Reminders").press("Space")  # the keyboard reaches it
    settings.get_by_label("Time zone for e-mails").fill("Europe/Paris")
    settings.get_by_role("button", name="Save notification settings").click()
    # Said in the form's live region, which screen readers read out.
    expect(settings.locator("[aria-live=polite]")).to_have_text("Your notification settings are saved.")
    assert _api(site, visitor, "/api/me/notifications/").json() == {
        **DEFAULTS,
        "reminders": False,
        "timezone": "Europe/Paris",
    }

    page.reload()
    settings = page.get_by_role("form", name="Notification settings")
    expect(settings.get_by_role("checkbox", name="Reminders")).not_to_be_checked()
    expect(settings.get_by_role("checkbox", name="Daily digest")).to_be_checked()
    expect(settings.get_by_label("Time zone for e-mails")).to_have_value("Europe/Paris")


def test_a_bad_time_zone_is_shown_on_its_field_and_nothing_is_saved(page, site):
    visitor = site.new_user()
    signed_in(page.context, visitor)
    _open_profile(page)
    settings = page.get_by_role("form", name="Notification settings")
    settings.get_by_role("checkbox", name="Daily digest").uncheck()
    settings.get_by_label("Time zone for e-mails").fill("Mars/Olympus")
    settings.get_by_role("button", name="Save notification settings").click()
    expect(settings.get_by_role("alert")).to_have_text("Please correct the errors below.")
    expect(settings.get_by_label("Time zone for e-mails")).to_be_focused()
    expect(settings.get_by_text("A valid timezone is required.")).to_be_visible()
    assert _api(site, visitor, "/api/me/notifications/").json() == DEFAULTS


def test_the_calendar_address_is_copied_and_reset(page, site, axe):
    visitor = site.new_user()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    signed_in(page.context, visitor)
    _open_profile(page)
    feed = _api(site, visitor, "/api/me/calendar/").json()
    address = page.get_by_role("textbox", name="Calendar address")
    expect(address).to_have_value(feed["url"])
    expect(address).to_have_attribute("readonly", "")
    expect(page.get_by_role("link", name="Subscribe in your calendar app")).to_have_attribute(
        "href", feed["webcal_url"]
    )
    assert requests.get(feed["url"], timeout=10).status_code == 200

    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("The address is copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == feed["url"]

    page.get_by_role("button", name="Reset link").click()
    dialog = page.get_by_role("dialog", name="Reset the calendar link?")
    expect(dialog).to_be_visible()
    axe(page)
    dialog.get_by_role("button", name="Reset link").click()
    expect(
        page.get_by_text("The link is reset: the old address no longer works. Subscribe again with the new one.")
    ).to_be_visible()
    new = _api(site, visitor, "/api/me/calendar/").json()
    assert new["url"] != feed["url"]
    expect(address).to_have_value(new["url"])
    expect(page.get_by_role("button", name="Reset link")).to_be_focused()
    assert requests.get(feed["url"], timeout=10).status_code == 404
    assert requests.get(new["url"], timeout=10).status_code == 200
