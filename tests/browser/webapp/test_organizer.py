"""Organizer pages (/@<username>): reached from an event, showing the organizer's name, bio (as text) and events;
edited from the profile."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.webapp.conftest import PASSWORD, Account, Site, signed_in
from tests.support.stack import bearer

BIO = "Tea, talks and Django.\n<b>Not bold</b> & <script>not run</script>"


def main(page: Page):
    return page.get_by_role("main")


def new_creator(site: Site) -> Account:
    """A new account made a creator by staff, signed in again so that its token carries the role."""
    visitor = site.new_user()
    admin = site.account("admin")
    promoted = requests.patch(
        f"{site.api}/api/admin/users/{visitor.user['id']}/",
        json={"role": "CREATOR"},
        headers=bearer(admin.access),
        timeout=10,
    )
    assert promoted.status_code == 200, promoted.text
    return site.account(visitor.username, PASSWORD)


def publish(site: Site, creator: Account, days: int) -> dict[str, Any]:
    """An event of `creator`'s starting `days` from now (negative: already started)."""
    starts = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    body = {"title": site.unique("Session"), "description": "By an organizer.", "starts_at": starts.isoformat()}
    reply = requests.post(f"{site.api}/api/events/", json=body, headers=bearer(creator.access), timeout=10)
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


@pytest.fixture
def organizer(site: Site) -> dict[str, Any]:
    creator = new_creator(site)
    name = site.unique("Organizer")
    reply = requests.patch(
        f"{site.api}/api/me/", json={"display_name": name, "bio": BIO}, headers=bearer(creator.access), timeout=10
    )
    assert reply.status_code == 200, reply.text
    return {
        "creator": creator,
        "name": name,
        "upcoming": publish(site, creator, 10),
        "past": publish(site, creator, -10),
    }


def test_an_event_links_to_its_organizers_page_with_their_bio_and_events(page, organizer, axe, watch):
    creator = organizer["creator"]
    page.goto(f"/events/{organizer['upcoming']['id']}")
    byline = main(page).locator(".byline")
    expect(byline).to_have_text(f"By {creator.username}")
    byline.get_by_role("link", name=creator.username).click()
    expect(page).to_have_url(re.compile(rf"/@{creator.username}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(organizer["name"])
    expect(main(page).get_by_text(f"@{creator.username}", exact=True)).to_be_visible()
    # The bio is text: its markup is shown as typed, nothing of it becomes an element.
    bio = main(page).locator(".bio")
    expect(bio).to_contain_text("<b>Not bold</b> & <script>not run</script>")
    expect(bio.locator("b, script")).to_have_count(0)
    upcoming = page.get_by_role("region", name="Upcoming events")
    past = page.get_by_role("region", name="Past events")
    expect(upcoming.get_by_role("heading", level=3)).to_have_text([organizer["upcoming"]["title"]])
    expect(past.get_by_role("heading", level=3)).to_have_text([organizer["past"]["title"]])
    past.get_by_role("link", name=organizer["past"]["title"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(organizer["past"]["title"])
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(organizer["name"])
    axe(page)
    assert watch.outside == []


def test_a_creator_edits_their_name_and_bio_on_the_profile_and_sees_them_on_their_page(page, site, axe):
    creator = new_creator(site)
    signed_in(page.context, creator)
    page.goto("/profile")
    form = page.get_by_role("form", name="Change organizer page")
    form.get_by_label("Display name").fill("x" * 61)
    form.get_by_role("button", name="Save organizer page").click()
    expect(form.get_by_label("Display name")).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_text("Ensure this field has no more than 60 characters.")).to_be_visible()
    axe(page)
    form.get_by_label("Display name").fill("  Dr. Tea  ")
    form.get_by_label("Bio").fill("Line one\nLine <i>two</i>")
    form.get_by_role("button", name="Save organizer page").click()
    expect(form.get_by_text("Your organizer page is saved.")).to_be_visible()
    expect(form.get_by_label("Display name")).to_have_value("Dr. Tea")
    page.get_by_role("region", name="Organizer page").get_by_role("link", name="your organizer page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dr. Tea")
    expect(main(page).locator(".bio")).to_have_text("Line one\nLine <i>two</i>")
    expect(page.get_by_role("region", name="Upcoming events")).to_contain_text("No upcoming events.")
    expect(page.get_by_role("region", name="Past events")).to_contain_text("No past events yet.")
    axe(page)
    assert site.me(creator)["bio"] == "Line one\nLine <i>two</i>"


def test_a_member_has_no_organizer_fields_and_no_page(page, site, axe):
    visitor = site.new_user()
    signed_in(page.context, visitor)
    page.goto("/profile")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your profile")
    expect(page.get_by_role("region", name="Organizer page")).to_have_count(0)
    page.goto(f"/@{visitor.username}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Organizer not found")
    expect(main(page)).to_contain_text(f"Nobody organizes events as “{visitor.username}”.")
    axe(page)
