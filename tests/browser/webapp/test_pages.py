"""Every page of the site: it loads from a deep link, says what it is, passes axe-core, and loads nothing from
outside the project; plus what some pages show in particular (times, the profile, signing out, guards)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.webapp.conftest import signed_in


def main(page: Page):
    return page.get_by_role("main")


@pytest.fixture(scope="module")
def scene(site):
    """An event with a booking, and the accounts that see it."""
    event = site.create_event(capacity=4, location="Main hall", price="12.50", currency="EUR")
    attendee = site.new_user()
    site.book(attendee, event["id"])
    return {"event": event, "attendee": attendee, "creator": site.account("creator_user")}


# (path, who is signed in, the page's h1). Paths may name the scene's event as {event}.
PAGES = [
    ("/", None, "Upcoming events"),
    ("/events", None, "All events"),
    ("/events/{event}", None, "{title}"),
    ("/events/{event}", "attendee", "{title}"),
    ("/events/{event}", "creator", "{title}"),
    ("/signin", None, "Sign in"),
    ("/signup", None, "Create an account"),
    ("/bookings", "attendee", "My bookings"),
    ("/profile", "attendee", "Your profile"),
    ("/dashboard", "creator", "Your events"),
    ("/dashboard/events/new", "creator", "Create an event"),
    ("/dashboard/events/{event}/edit", "creator", "Edit “{title}”"),
    ("/dashboard/events/{event}/attendees", "creator", "Attendees of “{title}”"),
    ("/dashboard", "attendee", "Not allowed"),
    ("/reference", None, "API reference"),
    ("/reset-password?uid=abc&token=def", None, "Reset your password"),
    ("/no/such/page", None, "Not found"),
    ("/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", None, "Not found"),
    ("/@creator_user", None, "creator_user"),
    ("/@creator_user", "attendee", "creator_user"),
    ("/@user", None, "Organizer not found"),
]


@pytest.mark.parametrize(("path", "who", "heading"), PAGES)
def test_each_page_loads_from_its_address_and_passes_axe(page, scene, axe, watch, path, who, heading):
    title = scene["event"]["title"]
    if who:
        signed_in(page.context, scene[who])
    page.goto(path.format(event=scene["event"]["id"]))
    expected = heading.format(title=title)
    expect(page.get_by_role("heading", level=1)).to_have_text(expected)
    expect(page).to_have_title(re.compile(r"(.+ · )?Sessions Marketplace$"))
    if path == "/reference":
        # Redoc (served by the API) has rendered the document's operations. Its own markup is what the API's
        # docs page shows, which tests/browser/test_docs_page.py puts through axe; here the page around it.
        expect(page.get_by_role("heading", name="Book a seat, or a waitlist place when full")).to_be_visible()
        axe(page, {"exclude": [[".redoc"]]})
    else:
        axe(page)
    assert watch.outside == []


def test_an_event_shows_its_time_in_its_zone_and_in_the_visitors(new_context, site):
    event = site.create_event(
        timezone="Europe/Paris", starts_at="2030-06-01T16:30:00Z", ends_at="2030-06-01T19:00:00Z", price="0"
    )
    page = new_context(timezone_id="America/New_York", locale="en-US").new_page()
    page.goto(f"/events/{event['id']}")
    when = main(page).get_by_role("definition").filter(has=page.locator("time"))
    expect(when.locator("time")).to_have_text("Sat, Jun 1, 2030, 6:30 – 9:00 PM (Europe/Paris)")
    expect(when.locator("time")).to_have_attribute("datetime", "2030-06-01T16:30:00.000000Z")
    expect(when).to_contain_text("Sat, Jun 1, 2030, 12:30 – 3:00 PM your time (America/New_York)")
    expect(main(page).get_by_text("Free", exact=True)).to_be_visible()


def test_the_visitors_zone_is_not_repeated_when_it_reads_the_same(new_context, site):
    event = site.create_event(timezone="Europe/Paris", starts_at="2030-06-01T16:30:00Z")
    page = new_context(timezone_id="Europe/Berlin", locale="en-US").new_page()
    page.goto(f"/events/{event['id']}")
    expect(main(page).locator("time")).to_have_text("Sat, Jun 1, 2030, 6:30 PM (Europe/Paris)")
    expect(main(page).get_by_text("your time")).to_have_count(0)


def test_prices_and_seats_on_the_list(page, scene):
    page.goto("/events")
    event = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=scene["event"]["title"]))
    expect(event).to_contain_text("€12.50")
    expect(event).to_contain_text("3 of 4 seats left")
    expect(event).to_contain_text("Main hall")


def test_the_profile_changes_the_email_and_shows_its_error_beside_it(page, site, axe):
    visitor = site.new_user()
    signed_in(page.context, visitor)
    page.goto("/profile")
    expect(main(page).get_by_text(f"Your e-mail address is {visitor.username}@example.com.")).to_be_visible()
    email_form = page.get_by_role("form", name="Change e-mail")
    page.get_by_label("New e-mail address").fill("not an address")
    email_form.get_by_label("Current password").fill(visitor.password)
    page.get_by_role("button", name="Change e-mail").click()
    expect(page.get_by_label("New e-mail address")).to_have_attribute("aria-invalid", "true")
    expect(main(page).get_by_text("Enter a valid email address.")).to_be_visible()
    axe(page)
    new = f"{visitor.username}@example.org"
    page.get_by_label("New e-mail address").fill(new)
    email_form.get_by_label("Current password").fill(visitor.password)
    page.get_by_role("button", name="Change e-mail").click()
    # Confirmed from the new address (tests/browser/webapp/test_account_pages.py follows the link).
    expect(main(page).get_by_text(f"We sent a link to {new}: open it within an hour")).to_be_visible()
    expect(main(page).get_by_text(f"Your e-mail address is {visitor.username}@example.com.")).to_be_visible()
    assert site.me(visitor)["email_pending"] == new


def test_signing_out_forgets_the_session(page, site):
    visitor = site.new_user()
    page.goto("/signin")
    page.get_by_label("Username").fill(visitor.username)
    page.get_by_label("Password").fill(visitor.password)
    page.get_by_role("button", name="Sign in").click()
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("button", name="Sign out").click()
    expect(main(page).get_by_text("You are signed out.")).to_be_visible()
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()
    expect(nav.get_by_role("link", name="My bookings")).to_have_count(0)
    assert page.evaluate("localStorage.length") == 0
    page.goto("/bookings")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fbookings$"))
    expect(main(page).get_by_text("Please sign in to see that page.")).to_be_visible()


def test_links_change_pages_without_reloading_and_back_returns(page, scene):
    page.goto("/")
    page.evaluate("window.loadedOnce = true")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="All events").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("All events")
    page.get_by_role("link", name=scene["event"]["title"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(scene["event"]["title"])
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("All events")
    assert page.evaluate("window.loadedOnce") is True  # one page load for the whole visit


def test_the_keyboard_reaches_the_content_first_through_the_skip_link(page, scene):
    lists = []
    page.on("request", lambda r: r.method == "GET" and urlsplit(r.url).path == "/api/events/" and lists.append(r.url))
    page.goto("/events")
    expect(page.get_by_role("heading", level=1)).to_have_text("All events")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()  # waits: under load the focus moves a moment later
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="See upcoming events only")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")
    expect(page.get_by_role("heading", level=1)).to_be_focused()
    # The skip link changes only the URL's fragment (Chrome fires popstate for it): the page is not rendered
    # again, which would move the focus the link gave away from the keyboard's user.
    assert [urlsplit(url).query for url in lists] == ["", "upcoming=true"]
