"""A paid event in Chromium against the local stack: "Book and pay" holds a seat and goes to the local payment
provider's checkout page (devstack/payments.py, Stripe's stand-in), which sends the browser back to the event
with the outcome; a held seat on the event page and in My bookings; cancelling a paid seat says first what
happens to the money. (Refunds after the cut-off and cancelled events: test_refunds.py.)"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from devstack.stack import LocalStack
from tests.browser.webapp.conftest import READABLE_TIMES, clock_text, moment_text, signed_in
from tests.browser.webapp.test_errors_and_tokens import main

HELD = re.compile(
    r"^Your seat is held until \d{1,2}:\d{2}\s?[AP]M \(1[45] minutes left\): pay before then to keep it\.$"
)


def panel(page: Page):
    """The event page's "Your place" section."""
    return page.get_by_role("region", name="Your place")


def book_and_go_to_checkout(page: Page, stack: LocalStack, event: dict) -> None:
    page.goto(f"/events/{event['id']}")
    expect(
        panel(page).get_by_text(
            "A seat costs $25.00. Booking holds one for you for a few minutes while you pay on the payment page."
        )
    ).to_be_visible()
    page.get_by_role("button", name="Book and pay").click()
    expect(page).to_have_url(re.compile(f"^{re.escape(stack.payments_url)}/c/pay/cs_test_"))
    expect(page.get_by_role("heading", level=1, name="Pay for your seat")).to_be_visible()
    expect(page.get_by_text(f"{event['title']}: 25.00 USD")).to_be_visible()


def test_book_and_pay_then_back_on_the_event_with_a_seat(new_context, site, stack, axe):
    page = new_context(**READABLE_TIMES).new_page()
    event = site.create_event(capacity=3, price="25.00", currency="USD")
    visitor = site.new_user()
    signed_in(page.context, visitor)
    book_and_go_to_checkout(page, stack, event)
    [held] = site.bookings(visitor)
    assert (held["status"], site.event(event["id"])["seats_booked"]) == ("pending_payment", 1)

    page.get_by_role("button", name="Pay").click()
    expect(main(page).get_by_text("Payment received: you have a seat.")).to_be_visible()
    # The return address's query is dropped once read: a reload shows the event, not the outcome again.
    expect(page).to_have_url(f"{stack.web_url}/events/{event['id']}")
    expect(panel(page).get_by_text("You have a seat.", exact=True)).to_be_visible()
    expect(panel(page).get_by_role("button", name="Cancel my booking")).to_be_visible()
    expect(main(page).get_by_text("2 of 3 seats left")).to_be_visible()
    assert [(b["id"], b["status"]) for b in site.bookings(visitor)] == [(held["id"], "confirmed")]
    assert site.event(event["id"])["seats_booked"] == 1

    # Cancelled well before the start: the page asks first, saying the payment is refunded; then says it was,
    # in a neutral box (losing a seat is not a success).
    [paid] = site.bookings(visitor)
    until = paid["refund_if_cancelled"]["full_refund_until"]
    panel(page).get_by_role("button", name="Cancel my booking").click()
    dialog = page.get_by_role("dialog", name=f"Cancel your booking for “{event['title']}”?")
    expect(dialog).to_have_accessible_description(
        f"You will be refunded $25.00 in full. Cancellations are refunded in full until {moment_text(until)}."
    )
    expect(dialog.get_by_role("button", name="Keep my booking")).to_be_focused()
    axe(page)
    dialog.get_by_role("button", name="Keep my booking").click()
    expect(dialog).to_have_count(0)
    expect(panel(page).get_by_role("button", name="Cancel my booking")).to_be_focused()
    assert site.bookings(visitor)[0]["status"] == "confirmed"

    panel(page).get_by_role("button", name="Cancel my booking").click()
    dialog.get_by_role("button", name="Yes, cancel it").click()
    outcome = main(page).locator(".notice")
    expect(outcome).to_have_text("Your booking is cancelled. Refunded: your payment has been returned.")
    expect(outcome).to_have_class("notice notice-info")
    [cancelled] = site.bookings(visitor)
    assert (cancelled["status"], cancelled["refund_status"]) == ("cancelled", "succeeded")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=event["title"]))
    expect(card.get_by_text("Refunded: your payment has been returned.")).to_be_visible()


def test_cancelling_on_the_payment_page_frees_the_seat(page, site, stack, axe):
    event = site.create_event(capacity=1, price="25.00", currency="USD")
    visitor = site.new_user()
    signed_in(page.context, visitor)
    book_and_go_to_checkout(page, stack, event)
    assert site.event(event["id"])["seats_booked"] == 1

    page.get_by_role("button", name="Cancel").click()
    expect(main(page).get_by_text("Payment cancelled: the seat held for you is released.")).to_be_visible()
    expect(page).to_have_url(f"{stack.web_url}/events/{event['id']}")
    expect(main(page).get_by_text("1 of 1 seat left")).to_be_visible()
    expect(panel(page).get_by_role("button", name="Book and pay")).to_be_visible()
    assert [b["status"] for b in site.bookings(visitor)] == ["expired"]
    assert site.event(event["id"])["seats_booked"] == 0

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=event["title"]))
    # Not "Expired": the customer left the payment page, and the card says so.
    expect(card.get_by_text("Payment cancelled", exact=True)).to_be_visible()
    expect(card.get_by_text("The payment was cancelled: the seat held for you was released.")).to_be_visible()
    expect(card.get_by_text("Expired", exact=True)).to_have_count(0)
    expect(card.get_by_role("button")).to_have_count(0)
    [left] = site.bookings(visitor)
    assert (left["status"], left["cancel_reason"]) == ("expired", "checkout_cancelled")
    axe(page)


def test_back_from_the_payment_page_unpaid_while_the_seat_is_still_held(new_context, site, axe):
    # Stripe's own page sends the customer back without closing the checkout: the hold goes on, and the page
    # says so, with the time it ends and the way to release it now.
    page = new_context(**READABLE_TIMES).new_page()
    event = site.create_event(capacity=2, price="25.00", currency="USD")
    visitor = site.new_user()
    held = site.book(visitor, event["id"])
    signed_in(page.context, visitor)
    page.goto(f"/events/{event['id']}?booking={held['id']}&checkout=cancelled")
    expect(main(page).locator(".notice")).to_have_text(
        "Payment cancelled: you left the payment page without paying, but your seat stays held until "
        f"{clock_text(held['hold_expires_at'])}. Complete the payment before then, or it is released; "
        "or release it now."
    )
    expect(panel(page).get_by_role("button", name="Release my seat")).to_be_visible()
    expect(panel(page).get_by_role("link", name="Complete payment")).to_have_attribute("href", held["checkout_url"])
    axe(page)
    panel(page).get_by_role("button", name="Release my seat").click()
    expect(main(page).locator(".notice")).to_have_text("Your held seat is released.")
    assert [b["status"] for b in site.bookings(visitor)] == ["cancelled"]


def test_a_held_seat_on_the_event_page_and_in_my_bookings(page, site, axe):
    event = site.create_event(capacity=2, price="25.00", currency="USD")
    visitor = site.new_user()
    held = site.book(visitor, event["id"])
    assert held["status"] == "pending_payment" and held["checkout_url"]
    signed_in(page.context, visitor)

    page.goto(f"/events/{event['id']}")
    expect(panel(page).get_by_text(HELD)).to_be_visible()
    expect(panel(page).get_by_role("link", name="Complete payment")).to_have_attribute("href", held["checkout_url"])
    expect(panel(page).get_by_role("button", name="Release my seat")).to_be_visible()
    axe(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=event["title"]))
    expect(card.get_by_text("Awaiting payment")).to_be_visible()
    expect(card.get_by_text(HELD)).to_be_visible()
    expect(card.get_by_role("link", name="Complete payment")).to_have_attribute("href", held["checkout_url"])
    axe(page)

    card.get_by_role("button", name="Release my seat").click()
    expect(main(page).get_by_text(f"Your booking for “{event['title']}” is cancelled.")).to_be_visible()
    expect(card.get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(card.get_by_role("link", name="Complete payment")).to_have_count(0)
    assert [b["status"] for b in site.bookings(visitor)] == ["cancelled"]
    assert site.event(event["id"])["seats_booked"] == 0
