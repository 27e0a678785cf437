"""What people do on the site, end to end in Chromium against the local stack: sign up and book, create and
publish, join a waitlist, get a password wrong, click twice; checked in the pages and in the API."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Request, Route, expect

from tests.browser.webapp.conftest import PASSWORD, signed_in


def main(page: Page):
    """The page's main landmark (the live region that announces the same texts is outside it)."""
    return page.get_by_role("main")


def card(page: Page, title: str):
    """The list item (event or booking card) headed by `title`."""
    return page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))


def test_a_visitor_signs_up_books_sees_the_booking_and_cancels_it(page, site, axe):
    event = site.create_event(capacity=5, timezone="Europe/Paris")
    page.goto(f"/events/{event['id']}")
    expect(page.get_by_role("heading", level=1, name=event["title"])).to_be_visible()
    expect(main(page).get_by_text("5 of 5 seats left")).to_be_visible()
    page.get_by_role("link", name="create an account").click()

    expect(page.get_by_role("heading", level=1, name="Create an account")).to_be_visible()
    axe(page)
    username = site.unique("newcomer").replace("-", "_")
    page.get_by_label("Username").fill(username)
    page.get_by_label("E-mail").fill(f"{username}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # Back on the event, signed in.
    expect(main(page).get_by_text(f"Welcome, {username}. Your account is ready and you are signed in.")).to_be_visible()
    expect(page).to_have_url(re.compile(f"/events/{event['id']}$"))
    expect(page.get_by_role("navigation", name="Main").get_by_text(f"Signed in as {username}")).to_be_visible()
    page.get_by_role("button", name="Book a seat").click()
    expect(main(page).get_by_text("Booked: you have a seat.")).to_be_visible()
    # The notifier mails the confirmation (an .ics with it): the page says so, and to which address.
    expect(main(page).get_by_text(f"We are sending a confirmation to {username}@example.com.")).to_be_visible()
    expect(main(page).get_by_text("4 of 5 seats left")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel my booking")).to_be_focused()
    axe(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("heading", level=1, name="My bookings")).to_be_visible()
    booking = card(page, event["title"])
    expect(booking.get_by_text("Confirmed")).to_be_visible()
    axe(page)
    booking.get_by_role("button", name="Cancel booking").click()
    expect(main(page).get_by_text(f"Your booking for “{event['title']}” is cancelled.")).to_be_visible()
    expect(booking.get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(booking.get_by_role("button")).to_have_count(0)

    account = site.account(username, PASSWORD)
    assert [(b["event"], b["status"]) for b in site.bookings(account)] == [(event["id"], "cancelled")]
    assert site.event(event["id"])["seats_booked"] == 0


def test_a_creator_creates_a_draft_publishes_it_and_sees_an_attendee(page, site, axe):
    page.goto("/signin")
    page.get_by_label("Username").fill("creator_user")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="Create an event").click()

    expect(page.get_by_role("heading", level=1, name="Create an event")).to_be_visible()
    axe(page)
    title = site.unique("Pottery evening")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Clay, wheels and tea.\nBring an apron.")
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_label("Starts").fill("2030-06-01T18:30")
    page.get_by_label("Ends").fill("2030-06-01T21:00")
    page.get_by_label("Seats").fill("3")
    page.get_by_role("button", name="Save as draft").click()

    expect(main(page).get_by_text(f"“{title}” is saved as a draft.")).to_be_visible()
    draft = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=title))
    expect(draft.get_by_text("Draft")).to_be_visible()
    axe(page)
    created = next(e for e in site.creator_events() if e["title"] == title)
    assert (created["status"], created["starts_at"], created["ends_at"], created["capacity"]) == (
        "draft",
        "2030-06-01T16:30:00.000000Z",  # 18:30 in Paris, summer time
        "2030-06-01T19:00:00.000000Z",
        3,
    )
    assert created["description"] == "Clay, wheels and tea.\nBring an apron."

    draft.get_by_role("button", name="Publish").click()
    expect(main(page).get_by_text(f"“{title}” is published.")).to_be_visible()
    expect(draft.get_by_text("Published")).to_be_visible()
    assert site.event(created["id"])["status"] == "published"

    attendee = site.new_user()
    site.book(attendee, created["id"])
    draft.get_by_role("link", name="Attendees").click()
    expect(page.get_by_role("heading", level=1, name=f"Attendees of “{title}”")).to_be_visible()
    expect(main(page).get_by_text("1 of 3 seats booked")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=attendee.username))
    expect(row.get_by_text("Confirmed")).to_be_visible()
    axe(page)


def test_a_full_event_offers_the_waitlist(page, site, axe):
    event = site.create_event(capacity=1)
    site.book(site.new_user(), event["id"])
    visitor = site.new_user()
    signed_in(page.context, visitor)
    page.goto(f"/events/{event['id']}")
    expect(main(page).get_by_text("Full (1 seat)", exact=True)).to_be_visible()
    expect(
        main(page).get_by_text("This event is full. Join the waitlist to get a seat if one is freed.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Book a seat")).to_have_count(0)
    axe(page)
    page.get_by_role("button", name="Join the waitlist").click()
    expect(
        main(page).get_by_text("You are on the waitlist. If a seat is freed, it goes to the first person waiting.")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Leave the waitlist")).to_be_visible()
    assert [(b["event"], b["status"]) for b in site.bookings(visitor)] == [(event["id"], "waitlisted")]


def test_a_wrong_password_shows_the_error_on_the_form(page, axe):
    page.goto("/signin")
    page.get_by_label("Username").fill("user")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("No active account found with the given credentials")
    expect(page).to_have_url(re.compile("/signin$"))
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()
    assert page.evaluate("localStorage.length") == 0
    axe(page)


def test_a_retried_booking_click_does_not_book_twice(page, site):
    event = site.create_event(capacity=3)
    visitor = site.new_user()
    signed_in(page.context, visitor)
    sent: list[dict[str, str]] = []

    def answer_lost_once(route: Route, request: Request) -> None:
        if request.method != "POST":
            route.fallback()
            return
        response = route.fetch()  # the API books the seat...
        sent.append(
            {"key": request.headers["idempotency-key"], "replayed": response.headers.get("idempotent-replayed", "")}
        )
        if len(sent) == 1:
            route.abort("connectionreset")  # ...but its answer never reaches the page
        else:
            route.fulfill(response=response)

    page.route(f"{site.api}/api/events/{event['id']}/bookings/", answer_lost_once)
    page.goto(f"/events/{event['id']}")
    page.get_by_role("button", name="Book a seat").click()
    expect(page.get_by_role("alert")).to_have_text("Could not reach the server. Check your connection and try again.")
    # A double click on the retry sends one request.
    page.get_by_role("button", name="Book a seat").dblclick()
    expect(main(page).get_by_text("Booked: you have a seat.")).to_be_visible()
    assert len(sent) == 2, sent
    assert sent[0]["key"] == sent[1]["key"] and sent[1]["replayed"] == "true"
    assert [b["status"] for b in site.bookings(visitor)] == ["confirmed"]
    assert site.event(event["id"])["seats_booked"] == 1

    # Once an attempt is done, the next one (cancelling, then booking again) has keys of its own.
    page.get_by_role("button", name="Cancel my booking").click()
    page.get_by_role("button", name="Book a seat").click()
    expect(main(page).get_by_text("Booked: you have a seat.")).to_be_visible()
    assert len(sent) == 3 and sent[2]["key"] != sent[0]["key"] and sent[2]["replayed"] == ""
    assert sorted(b["status"] for b in site.bookings(visitor)) == ["cancelled", "confirmed"]


def test_a_creator_edits_an_event_then_cancels_it_after_confirming(page, site, axe):
    event = site.create_event(capacity=10, timezone="America/New_York", starts_at="2030-06-01T22:30:00Z")
    signed_in(page.context, site.account("creator_user"))
    patches: list[dict] = []
    page.on("request", lambda r: patches.append(r.post_data_json) if r.method == "PATCH" else None)
    page.goto("/dashboard")
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=event["title"]))
    row.get_by_role("link", name="Edit").click()

    expect(page.get_by_label("Starts")).to_have_value("2030-06-01T18:30")  # New York's wall-clock time
    expect(page.get_by_label("Time zone")).to_have_value("America/New_York")
    renamed = site.unique("Renamed")
    page.get_by_label("Title").fill(renamed)
    page.get_by_label("Seats").fill("12")
    page.get_by_role("button", name="Save changes").click()
    expect(main(page).get_by_text(f"“{renamed}” is saved.")).to_be_visible()
    assert patches == [{"title": renamed, "capacity": 12}]  # only what changed

    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=renamed))
    row.get_by_role("button", name="Cancel event").click()
    dialog = page.get_by_role("dialog", name=f"Cancel “{renamed}”?")
    expect(dialog).to_be_visible()
    axe(page)
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_have_count(0)
    assert site.event(event["id"])["status"] == "published"

    row.get_by_role("button", name="Cancel event").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel the event").click()
    expect(main(page).get_by_text(f"“{renamed}” is cancelled.")).to_be_visible()
    expect(row.get_by_text("Cancelled")).to_be_visible()
    expect(row.get_by_role("link", name="Edit")).to_have_count(0)
    saved = site.event(event["id"])
    assert (saved["status"], saved["title"], saved["capacity"], saved["starts_at"]) == (
        "cancelled",
        renamed,
        12,
        "2030-06-01T22:30:00.000000Z",
    )
