"""An event's on-sale queue in Chromium against the local stack (docs/web-app.md, "On-sale queue"): when sales
open, joining the queue, the place said in a live region, the opening passing and the page booking (or going to
the payment page) with the admission it gets; a sold-out event's waitlist; what its creator and staff see; the
event form's "Sales open at".

The opening is moved by its creator through the API (allowed until it has passed) rather than waited for: an
event opening in two hours, joined now, is then made to open a few seconds from now, and the tests wait for the
page's state, never for a length of time."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from playwright.sync_api import Page, expect

from tests.browser.webapp.conftest import PASSWORD, READABLE_TIMES, Account, Site, signed_in
from tests.support.stack import bearer

WAITING = "You are number 1 in line; about 2 hours."


def main(page: Page):
    return page.get_by_role("main")


def panel(page: Page):
    """The event page's "Your place" section."""
    return page.get_by_role("region", name="Your place")


def two_hours_ahead() -> str:
    return (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0).isoformat()


def open_sales_soon(site: Site, event_id: str) -> None:
    """Make the event's sales open a few seconds from now, as its creator may until they have opened."""
    creator = site.account("creator_user")
    for seconds in (2, 5, 15):
        opening = (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()
        reply = requests.patch(
            f"{site.api}/api/events/{event_id}/",
            json={"sales_open_at": opening},
            headers=bearer(creator.access),
            timeout=10,
        )
        if reply.status_code == 200:
            return
        # Refused only when that moment had already passed as the API read it (a busy machine): further ahead.
        assert reply.json() == {"sales_open_at": ["The sales opening must be in the future."]}, reply.text
    raise AssertionError(f"the opening of {event_id} could not be moved")


def book_through_the_queue(site: Site, account: Account, event_id: str) -> dict[str, Any]:
    """Join the queue through the API, ask again as told until admitted, and book with the admission."""
    queue = f"{site.api}/api/events/{event_id}/queue/"
    place = requests.post(queue, headers=bearer(account.access), timeout=10).json()
    for _ in range(60):
        if place["admitted"]:
            reply = requests.post(
                f"{site.api}/api/events/{event_id}/bookings/",
                json={"admission": place["admission"]},
                headers=bearer(account.access),
                timeout=10,
            )
            assert reply.status_code == 201, reply.text
            return dict(reply.json())
        time.sleep(place["poll_after_seconds"])
        place = requests.get(queue, headers=bearer(account.access), timeout=10).json()
    raise AssertionError(f"never admitted: {place}")


def zoned(iso: str, zone: str) -> str:
    """An instant as the pages write it in `zone` (en-US): "Thu, Dec 3, 2026, 11:52 PM"."""
    t = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))
    return f"{t:%a}, {t:%b} {t.day}, {t.year}, {t.hour % 12 or 12}:{t:%M} {'AM' if t.hour < 12 else 'PM'}"


def test_a_visitor_joins_before_the_opening_is_admitted_when_it_passes_and_booked(new_context, site, axe):
    event = site.create_event(capacity=5, timezone="Asia/Tokyo", sales_open_at=two_hours_ahead())
    visitor = site.new_user()
    page = new_context(**READABLE_TIMES).new_page()
    signed_in(page.context, visitor)
    page.goto(f"/events/{event['id']}")

    # When sales open, as the start is shown: in the event's zone, and in the visitor's (UTC here).
    expect(main(page).get_by_role("term").filter(has_text=re.compile("^Sales open$"))).to_be_visible()
    sales = main(page).get_by_role("definition").filter(has=page.locator(f'time[datetime="{event["sales_open_at"]}"]'))
    expect(sales.locator("time")).to_have_text(f"{zoned(event['sales_open_at'], 'Asia/Tokyo')} (Asia/Tokyo)")
    expect(sales).to_contain_text(f"{zoned(event['sales_open_at'], 'UTC')} your time (UTC)")
    expect(panel(page).get_by_role("button", name="Book a seat")).to_have_count(0)

    panel(page).get_by_role("button", name="Join the queue").click()
    place = panel(page).get_by_text(WAITING, exact=True)
    expect(place).to_be_visible()
    expect(place).to_have_attribute("aria-live", "polite")
    expect(panel(page).get_by_text("Keep this page open: when your turn comes, it books your seat.")).to_be_visible()
    expect(panel(page).get_by_role("button")).to_have_count(0)
    axe(page)

    # Polls that bring the same words leave the live region alone: nothing is read out again.
    page.evaluate(
        """(region) => { window.placeChanges = 0; new MutationObserver((m) => { window.placeChanges += m.length; })
        .observe(region, { childList: true, characterData: true, subtree: true }); }""",
        place.element_handle(),
    )
    for _ in range(2):
        page.wait_for_event("requestfinished", lambda r: r.method == "GET" and "/queue/" in r.url)
    assert page.evaluate("window.placeChanges") == 0
    expect(place).to_have_text(WAITING)

    open_sales_soon(site, event["id"])
    expect(main(page).get_by_text("Booked: you have a seat.")).to_be_visible()
    expect(panel(page).get_by_text("You have a seat.", exact=True)).to_be_visible()
    expect(main(page).get_by_text("4 of 5 seats left")).to_be_visible()
    expect(panel(page).locator(".queue-place")).to_have_text("")
    assert [(b["event"], b["status"]) for b in site.bookings(visitor)] == [(event["id"], "confirmed")]


def test_a_signed_out_visitor_signs_in_and_is_back_in_the_queue_then_pays(page, site, stack):
    event = site.create_event(capacity=3, price="25.00", currency="USD", sales_open_at=two_hours_ahead())
    visitor = site.new_user()
    page.goto(f"/events/{event['id']}")
    expect(panel(page).get_by_text("Seats for this event are sold through a queue.")).to_be_visible()
    panel(page).get_by_role("link", name="Join the queue").click()

    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(visitor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Back on the event, in the queue, without having to click again; the address no longer asks to join.
    expect(panel(page).get_by_text(WAITING, exact=True)).to_be_visible()
    expect(page).to_have_url(f"{stack.web_url}/events/{event['id']}")
    expect(
        panel(page).get_by_text(
            "Keep this page open: when your turn comes, it holds your seat and takes you to the payment page."
        )
    ).to_be_visible()

    open_sales_soon(site, event["id"])
    expect(page).to_have_url(re.compile(f"^{re.escape(stack.payments_url)}/c/pay/cs_test_"))
    expect(page.get_by_text(f"{event['title']}: 25.00 USD")).to_be_visible()
    [held] = site.bookings(visitor)
    assert (held["event"], held["status"]) == (event["id"], "pending_payment")


def test_a_sold_out_event_offers_its_waitlist_through_the_queue(page, site, axe):
    event = site.create_event(capacity=1, sales_open_at=two_hours_ahead())
    open_sales_soon(site, event["id"])
    book_through_the_queue(site, site.new_user(), event["id"])
    visitor = site.new_user()
    signed_in(page.context, visitor)
    page.goto(f"/events/{event['id']}")

    expect(main(page).get_by_text("Full (1 seat)", exact=True)).to_be_visible()
    expect(main(page).get_by_text("Sales opened", exact=True)).to_be_visible()
    expect(panel(page).get_by_text(re.compile("^This event is sold out. Join the waitlist"))).to_be_visible()
    expect(panel(page).get_by_role("button", name="Join the queue")).to_have_count(0)
    axe(page)
    panel(page).get_by_role("button", name="Join the waitlist").click()
    expect(
        main(page).get_by_text("You are on the waitlist. If a seat is freed, it goes to the first person waiting.")
    ).to_be_visible()
    expect(panel(page).get_by_role("button", name="Leave the waitlist")).to_be_visible()
    assert [(b["event"], b["status"]) for b in site.bookings(visitor)] == [(event["id"], "waitlisted")]


def test_its_creator_and_staff_see_the_opening_and_no_way_to_join(new_context, site):
    event = site.create_event(capacity=5, sales_open_at=two_hours_ahead())
    for who, says in [
        ("creator_user", "This is your event."),
        ("admin", "Visitors book this event through its on-sale queue, which staff do not join."),
    ]:
        page = signed_in(new_context(), site.account(who)).new_page()
        page.goto(f"/events/{event['id']}")
        expect(panel(page).get_by_text(says)).to_be_visible()
        expect(main(page).get_by_role("term").filter(has_text=re.compile("^Sales open$"))).to_be_visible()
        expect(main(page).get_by_role("button", name=re.compile("Join|Book"))).to_have_count(0)
        expect(main(page).get_by_role("link", name="Join the queue")).to_have_count(0)


def test_the_event_form_sets_when_sales_open_and_shows_its_errors_by_the_field(page, site, axe):
    signed_in(page.context, site.account("creator_user"))
    page.goto("/dashboard/events/new")
    title = site.unique("Launch night")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Tickets go fast.")
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_label("Starts").fill("2030-06-01T18:30")
    page.get_by_label("Sales open at").fill("2030-06-02T10:00")
    page.get_by_role("button", name="Publish").click()

    error = page.locator('[data-field="sales_open_at"] .field-error')
    expect(error).to_have_text("Sales must open before the event starts.")
    expect(page.get_by_label("Sales open at")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Sales open at")).to_be_focused()
    axe(page)

    page.get_by_label("Sales open at").fill("2030-05-01T10:00")
    page.get_by_role("button", name="Publish").click()
    expect(main(page).get_by_text(f"“{title}” is published.")).to_be_visible()
    created = next(e for e in site.creator_events() if e["title"] == title)
    assert (created["starts_at"], created["sales_open_at"]) == (
        "2030-06-01T16:30:00.000000Z",
        "2030-05-01T08:00:00.000000Z",  # 10:00 in Paris, summer time
    )

    # Edited: shown as the event's wall-clock time; emptied, the queue is removed.
    page.goto(f"/dashboard/events/{created['id']}/edit")
    expect(page.get_by_label("Sales open at")).to_have_value("2030-05-01T10:00")
    page.get_by_label("Sales open at").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(main(page).get_by_text(f"“{title}” is saved.")).to_be_visible()
    assert site.event(created["id"])["sales_open_at"] is None
