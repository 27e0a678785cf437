"""Rough edges of the pages (issue 22, item 8), each held to its exact text or behaviour: nothing written out as
"null"; a word longer than a phone is wide wraps instead of widening the page, and tables fit a phone; "1 seat",
not "1 seats"; an event that is over says "Ended", one under way "Started"; a page says one outcome at a time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.webapp.conftest import PASSWORD, Account, signed_in

PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "en-US", "timezone_id": "UTC"}
# One word of 200 characters: a title, a place, a description as some people type them.
LONG_WORD = "Supercalifragilistic" * 10


def main(page: Page):
    return page.get_by_role("main")


def panel(page: Page):
    """The event page's "Your place" section."""
    return page.get_by_role("region", name="Your place")


def row(page: Page, name: str):
    """The table row headed by `name` (an event on the dashboard, an attendee on the attendees page)."""
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


def long_named_user(site) -> Account:
    """An account whose username (150 characters at most) has no place to break."""
    username = f"u{site.unique('x').replace('-', '')}{'n' * 120}"
    reply = requests.post(
        f"{site.api}/api/register/",
        json={"username": username, "email": f"{username[:60]}@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    return site.account(username, PASSWORD)


def assert_fits(page: Page, path: str) -> None:
    """Nothing on the page is wider than the phone: the document does not scroll sideways, nor does a table."""
    widths = page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth,
            viewport: window.innerWidth,
            tables: [...document.querySelectorAll('.table-wrap')].map((t) => t.scrollWidth - t.clientWidth),
        })"""
    )
    assert widths["viewport"] == 390
    assert widths["page"] <= widths["viewport"], f"{path} is {widths['page']} px wide on a 390 px screen"
    assert all(extra <= 0 for extra in widths["tables"]), f"a table on {path} scrolls sideways: {widths['tables']}"


# Item 1: null is never written out.


def test_the_waitlist_panel_says_nothing_but_its_sentence_and_button(page, site, axe):
    event = site.create_event(capacity=1, price="0")
    site.book(site.new_user(), event["id"])
    visitor = site.new_user()
    site.book(visitor, event["id"], waitlist=True)
    signed_in(page.context, visitor)
    page.goto(f"/events/{event['id']}")
    expect(page.get_by_role("button", name="Leave the waitlist")).to_be_visible()
    # The whole text of the section: a stray "null" text node would be in it.
    waiting = [
        "You are on the waitlist: if a seat is freed, it goes to the first person waiting.",
        "Leave the waitlist",
    ]
    expect(panel(page)).to_have_text("".join(["Your place", *waiting]))
    for word in ("null", "undefined"):
        expect(main(page).get_by_text(word)).to_have_count(0)
    axe(page)
    page.get_by_role("button", name="Leave the waitlist").click()
    expect(main(page).get_by_text("You have left the waitlist.")).to_be_visible()
    full = ["This event is full. Join the waitlist to get a seat if one is freed.", "Join the waitlist"]
    expect(panel(page)).to_have_text("".join(["Your place", "You have left the waitlist.", *full]))

    page.goto("/bookings")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=event["title"]))
    expect(card.get_by_text("Cancelled", exact=True)).to_be_visible()
    for word in ("null", "undefined"):
        expect(main(page).get_by_text(word)).to_have_count(0)


# Items 2 and 6: long words wrap, tables fit a phone.


@pytest.fixture(scope="module")
def long_event(site):
    """An event whose title, place, description and online address are each one very long word, booked by an
    account with a very long username; and a few more events on the creator's dashboard."""
    event = site.create_event(
        title=f"T{site.unique('x').replace('-', '')}{LONG_WORD}"[:200],
        location=f"Room{LONG_WORD}"[:255],
        description=f"About{LONG_WORD}",
        online_url=f"https://example.com/{LONG_WORD}",
        capacity=3,
        starts_at=at(5 * 24),
        ends_at=at(5 * 24 + 2),
    )
    assert len(event["title"]) == 200 and " " not in event["title"]
    for capacity in (None, 10):
        site.create_event(capacity=capacity)
    site.create_event(status="draft", capacity=2)
    attendee = long_named_user(site)
    site.book(attendee, event["id"])
    return {"event": event, "attendee": attendee, "creator": site.account("creator_user")}


PHONE_PAGES = [
    ("/events", None),
    ("/", None),
    ("/events/{event}", None),
    ("/events/{event}", "attendee"),
    ("/events/{event}", "creator"),
    ("/bookings", "attendee"),
    ("/dashboard", "creator"),
    ("/dashboard/events/{event}/attendees", "creator"),
    ("/profile", "attendee"),
]


@pytest.mark.parametrize(("path", "who"), PHONE_PAGES)
def test_a_phone_never_scrolls_sideways_whatever_the_words(new_context, long_event, axe, path, who):
    context = new_context(**PHONE)
    if who:
        signed_in(context, long_event[who])
    page = context.new_page()
    title = long_event["event"]["title"]
    page.goto(path.format(event=long_event["event"]["id"]))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if path in ("/events", "/bookings", "/dashboard") or path.startswith("/events/"):
        expect(main(page).get_by_text(title, exact=True).first).to_be_visible()
    if path.endswith("/attendees"):
        expect(page.get_by_role("rowheader", name=long_event["attendee"].username)).to_be_visible()
    assert_fits(page, path)
    axe(page)


def test_dashboard_rows_are_cards_on_a_phone_each_value_under_its_column(new_context, long_event):
    context = new_context(**PHONE)
    signed_in(context, long_event["creator"])
    page = context.new_page()
    page.goto("/dashboard")
    event = row(page, long_event["event"]["title"])
    # Still a table to assistive technology: a row headed by the event, its cells, the column headers.
    expect(
        page.get_by_role("table", name="Your events, newest first, drafts and cancelled ones included")
    ).to_be_visible()
    expect(page.get_by_role("columnheader")).to_have_count(5)
    expect(event.get_by_role("cell")).to_have_count(4)
    # Each cell is shown after its column's name (drawn by the style sheet from data-label)...
    assert event.locator("td").evaluate_all("cells => cells.map((c) => c.dataset.label)") == [
        "Status",
        "When",
        "Seats",
        "Actions",
    ]
    # ...on a line of its own, one under the other, in a card no wider than the phone.
    boxes = [event.locator("td").nth(i).bounding_box() for i in range(4)]
    assert len({round(box["x"]) for box in boxes}) == 1
    assert all(upper["y"] + upper["height"] <= lower["y"] + 1 for upper, lower in zip(boxes, boxes[1:], strict=False))
    card = event.bounding_box()
    assert card is not None and card["x"] >= 0 and card["x"] + card["width"] <= 390
    expect(page.locator("thead")).not_to_be_in_viewport()
    assert_fits(page, "/dashboard")


# Item 3: one seat, several seats.


def test_one_seat_is_a_seat_not_seats(page, site):
    event = site.create_event(capacity=1, price="0")
    attendee = site.new_user()
    site.book(attendee, event["id"])
    unlimited = site.create_event(capacity=None, price="0")
    site.book(attendee, unlimited["id"])
    spare = site.create_event(capacity=1, price="0")

    page.goto(f"/events/{event['id']}")
    expect(main(page).get_by_text("Full (1 seat)", exact=True)).to_be_visible()
    page.goto(f"/events/{spare['id']}")
    expect(main(page).get_by_text("1 of 1 seat left", exact=True)).to_be_visible()

    signed_in(page.context, site.account("creator_user"))
    page.goto("/dashboard")
    expect(row(page, event["title"]).get_by_role("cell", name="1 of 1 seat booked", exact=True)).to_be_visible()
    expect(
        row(page, unlimited["title"]).get_by_role("cell", name="1 seat booked (no limit)", exact=True)
    ).to_be_visible()
    expect(row(page, spare["title"]).get_by_role("cell", name="0 of 1 seat booked", exact=True)).to_be_visible()
    page.goto(f"/dashboard/events/{event['id']}/attendees")
    expect(main(page).locator("p").filter(has_text="seat booked")).to_have_text(
        "1 of 1 seat booked. See the event page · Back to your events"
    )


# Item 4: Started while it runs, Ended once it is over.


@pytest.mark.parametrize(
    ("starts", "ends", "badge", "closed"),
    [
        (-3, -1, "Ended", "This event has ended."),
        (-1, None, "Ended", "This event has ended."),
        (-1, 2, "Started", "This event has started: booking is closed."),
    ],
    ids=["ended", "started-without-end", "running"],
)
def test_an_event_under_way_has_started_and_one_over_has_ended(page, site, axe, starts, ends, badge, closed):
    event = site.create_event(starts_at=at(starts), ends_at=at(ends) if ends is not None else None, capacity=5)
    page.goto(f"/events/{event['id']}")
    badges = main(page).locator(".badges")
    expect(badges).to_have_text(badge)
    expect(panel(page)).to_have_text(f"Your place{closed}")  # also to a visitor not signed in: no sign-in offer
    signed_in(page.context, site.new_user())
    page.reload()
    expect(badges).to_have_text(badge)
    expect(panel(page)).to_have_text(f"Your place{closed}")
    expect(page.get_by_role("button", name="Book a seat")).to_have_count(0)
    axe(page)


def test_an_upcoming_event_has_no_time_badge(page, site):
    event = site.create_event(starts_at=at(1), ends_at=at(2))
    signed_in(page.context, site.new_user())
    page.goto(f"/events/{event['id']}")
    expect(page.get_by_role("button", name="Book a seat")).to_be_visible()
    expect(main(page).locator(".badges")).to_have_text("")


# Item 5: one outcome at a time.


def test_publishing_replaces_the_saved_message_and_leaving_the_page_clears_it(page, site, axe):
    signed_in(page.context, site.account("creator_user"))
    page.goto("/dashboard/events/new")
    title = site.unique("Message check")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Said once.")
    page.get_by_role("button", name="Save as draft").click()
    saved = main(page).get_by_text(f"“{title}” is saved as a draft.", exact=True)
    expect(saved).to_be_visible()

    row(page, title).get_by_role("button", name="Publish").click()
    expect(main(page).get_by_text(f"“{title}” is published.", exact=True)).to_be_visible()
    expect(saved).to_have_count(0)
    expect(main(page).locator(".notice")).to_have_count(1)
    axe(page)

    # Another action's outcome replaces this one in turn.
    other = site.create_event(status="draft")
    page.reload()
    expect(main(page).locator(".notice")).to_have_count(0)  # a reload says nothing again
    row(page, title).get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit “{title}”")
    page.get_by_role("button", name="Save changes").click()
    expect(main(page).get_by_text("Nothing has changed.", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your events")
    expect(main(page).get_by_text("Nothing has changed.")).to_have_count(0)
    row(page, other["title"]).get_by_role("button", name="Publish").click()
    expect(main(page).locator(".notice")).to_have_text(f"“{other['title']}” is published.")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Edit “{title}”")
    expect(main(page).locator(".notice")).to_have_count(0)


def test_the_profile_says_only_its_latest_outcome(page, site):
    visitor = site.new_user()
    signed_in(page.context, visitor)
    page.goto("/profile")
    email_form = page.get_by_role("form", name="Change e-mail")
    page.get_by_label("New e-mail address").fill(f"{visitor.username}@example.org")
    email_form.get_by_label("Current password").fill(visitor.password)
    email_form.get_by_role("button", name="Change e-mail").click()
    sent = main(page).get_by_text(f"We sent a link to {visitor.username}@example.org", exact=False)
    expect(sent).to_be_visible()
    password_form = page.get_by_role("form", name="Change password")
    password_form.get_by_label("Current password").fill(visitor.password)
    password_form.get_by_label(re.compile(r"^New password(?!, again)")).fill("Another-Harbour-2048")
    password_form.get_by_label("New password, again").fill("Another-Harbour-2049")
    password_form.get_by_role("button", name="Change password").click()
    expect(password_form.get_by_text("The two passwords are not the same.")).to_be_visible()
    expect(sent).to_have_count(0)
    expect(main(page).locator(".notice")).to_have_text("Please correct the errors below.")
    # The reader is still told where the e-mail change stands: that is the page's state, not an outcome.
    expect(main(page).get_by_text(f"Waiting for confirmation from {visitor.username}@example.org")).to_be_visible()
