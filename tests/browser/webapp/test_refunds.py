"""What the pages say about the money: cancelling a paid seat after the refund cut-off (asked first, told it is
not refunded), an event its creator cancels with a paid attendee (being settled, then refunded), and the
creator's refund action on the attendees page.

These tests run on a stack of their own whose payment sweep never runs by itself: the sweep settles a cancelled
event's bookings, and a test calls it (run_sweep) where it wants the settlement to happen, so that the pages
are seen both before and after it, every time."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from devstack.stack import LocalStack
from tests.browser.webapp.conftest import READABLE_TIMES, Site, moment_text, run_sweep, signed_in
from tests.support.stack import running_stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    # An hour between the stack's own sweeps: in these tests the sweep runs only when run_sweep() calls it.
    with running_stack(tmp_path_factory.mktemp("refunds-data"), LOCAL_PAYMENT_SWEEP_SECONDS="3600") as local:
        yield local


@pytest.fixture(scope="module")
def base_url(stack: LocalStack) -> str:
    return stack.web_url


@pytest.fixture(scope="module")
def site(stack: LocalStack) -> Site:
    return Site(stack.url)


def main(page: Page):
    return page.get_by_role("main")


def panel(page: Page):
    """The event page's "Your place" section."""
    return page.get_by_role("region", name="Your place")


def card(page: Page, title: str):
    """The My bookings card headed by `title`."""
    return page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=title))


def row(page: Page, name: str):
    """The table row headed by `name` (an event on the dashboard, an attendee on the attendees page)."""
    return page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))


def soon(hours: int) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(second=0, microsecond=0).isoformat()


def test_cancelling_a_paid_seat_after_the_cut_off_says_there_is_no_refund(new_context, site, stack, axe):
    event = site.create_event(capacity=3, price="25.00", currency="USD", starts_at=soon(2))
    visitor = site.new_user()
    page = signed_in(new_context(**READABLE_TIMES), visitor).new_page()
    page.goto(f"/events/{event['id']}")
    panel(page).get_by_role("button", name="Book and pay").click()
    expect(page).to_have_url(re.compile(f"^{re.escape(stack.payments_url)}/c/pay/cs_test_"))
    page.get_by_role("button", name="Pay").click()
    expect(main(page).get_by_text("Payment received: you have a seat.")).to_be_visible()
    [paid] = site.bookings(visitor)
    preview = paid["refund_if_cancelled"]
    assert preview["refund"] == "none" and preview["reason"] == "after_cutoff"

    # The cut-off is 24 hours before the start: the event starts in 2, so it has passed.
    panel(page).get_by_role("button", name="Cancel my booking").click()
    dialog = page.get_by_role("dialog", name=f"Cancel your booking for “{event['title']}”?")
    expect(dialog).to_have_accessible_description(
        "No refund: the event starts in less than 24 hours; "
        f"refunds ended at {moment_text(preview['full_refund_until'])}."
    )
    axe(page)
    dialog.get_by_role("button", name="Cancel without a refund").click()
    outcome = main(page).locator(".notice")
    expect(outcome).to_have_text(
        "Your booking is cancelled. Not refunded: under the refund policy, a seat cancelled this close to the "
        "start is not refunded."
    )
    expect(outcome).to_have_class("notice notice-warning")
    axe(page)
    [cancelled] = site.bookings(visitor)
    assert (cancelled["status"], cancelled["refund_status"], cancelled["cancel_reason"]) == (
        "cancelled",
        "not_refundable",
        "owner",
    )

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    booking = card(page, event["title"])
    expect(booking.get_by_text("Cancelled", exact=True)).to_be_visible()
    expect(
        booking.get_by_text(
            "Not refunded: under the refund policy, a seat cancelled this close to the start is not refunded."
        )
    ).to_be_visible()


def test_my_bookings_asks_before_cancelling_a_paid_seat(new_context, site, axe):
    event = site.create_event(capacity=3, price="25.00", currency="USD", starts_at=soon(3))
    visitor = site.new_user()
    paid = site.pay(visitor, event["id"])
    page = signed_in(new_context(**READABLE_TIMES), visitor).new_page()
    page.goto("/bookings")
    booking = card(page, event["title"])
    booking.get_by_role("button", name="Cancel booking").click()
    dialog = page.get_by_role("dialog", name=f"Cancel your booking for “{event['title']}”?")
    expect(dialog).to_have_accessible_description(
        "No refund: the event starts in less than 24 hours; "
        f"refunds ended at {moment_text(paid['refund_if_cancelled']['full_refund_until'])}."
    )
    axe(page)
    dialog.get_by_role("button", name="Cancel without a refund").click()
    outcome = main(page).locator(".notice")
    expect(outcome).to_have_text(
        f"Your booking for “{event['title']}” is cancelled. Not refunded: under the refund policy, a seat "
        "cancelled this close to the start is not refunded."
    )
    expect(outcome).to_have_class("notice notice-warning")
    expect(booking.get_by_role("button")).to_have_count(0)


def test_an_event_its_creator_cancels_is_settled_and_its_attendee_refunded(new_context, site, stack, axe):
    event = site.create_event(capacity=5, price="25.00", currency="USD")
    attendee = site.new_user()
    site.pay(attendee, event["id"])
    creator = signed_in(new_context(**READABLE_TIMES), site.account("creator_user")).new_page()
    visitor = signed_in(new_context(**READABLE_TIMES), attendee).new_page()

    # The creator is told what cancelling does to the bookings and the money before doing it.
    creator.goto("/dashboard")
    listed = row(creator, event["title"])
    listed.get_by_role("button", name="Cancel event").click()
    dialog = creator.get_by_role("dialog", name=f"Cancel “{event['title']}”?")
    expect(dialog).to_have_accessible_description(
        "It leaves the public lists and can no longer be booked or edited. Every booking of it is then "
        "cancelled, and every payment refunded in full."
    )
    dialog.get_by_role("button", name="Cancel the event").click()
    expect(main(creator).locator(".notice")).to_have_text(
        f"“{event['title']}” is cancelled. Its booking is being cancelled, and every payment refunded in full."
    )
    expect(listed.get_by_text("Settling: 0 of 1 booking.")).to_be_visible()
    axe(creator)

    # Before the settlement: the attendee's seat is still confirmed, yet the page never says they have one.
    visitor.goto(f"/events/{event['id']}")
    expect(panel(visitor).locator("p")).to_have_text(
        [
            "This event was cancelled by its organizer.",
            "Your booking is being cancelled and your payment refunded in full.",
        ]
    )
    expect(main(visitor).get_by_text("You have a seat.")).to_have_count(0)
    expect(panel(visitor).get_by_role("button")).to_have_count(0)
    axe(visitor)
    visitor.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    booking = card(visitor, event["title"])
    expect(
        booking.get_by_text(
            "The event was cancelled by its organizer. Your booking is being cancelled and your payment "
            "refunded in full."
        )
    ).to_be_visible()
    expect(booking.get_by_role("button")).to_have_count(0)
    axe(visitor)

    assert run_sweep(stack)["events_settled"] >= 1
    [settled] = site.bookings(attendee)
    assert (settled["status"], settled["cancel_reason"], settled["refund_status"]) == (
        "cancelled",
        "event_cancelled",
        "succeeded",
    )

    # After it: cancelled and refunded, on every page that shows the booking or the event.
    visitor.reload()
    expect(booking.get_by_text("Cancelled", exact=True).first).to_be_visible()
    expect(booking.get_by_text("The event was cancelled by its organizer.", exact=True)).to_be_visible()
    expect(booking.get_by_text("Refunded: your payment has been returned.", exact=True)).to_be_visible()
    axe(visitor)
    visitor.goto(f"/events/{event['id']}")
    expect(panel(visitor).locator("p")).to_have_text(
        [
            "This event was cancelled by its organizer.",
            "Your booking was cancelled. Refunded: your payment has been returned.",
        ]
    )
    expect(main(visitor).get_by_text("You have a seat.")).to_have_count(0)
    expect(panel(visitor).get_by_role("button")).to_have_count(0)

    creator.reload()
    expect(row(creator, event["title"]).get_by_text("Its 1 booking is settled. Refunds: 1 refunded.")).to_be_visible()
    row(creator, event["title"]).get_by_role("link", name="Attendees").click()
    expect(creator.get_by_role("heading", level=1, name=f"Attendees of “{event['title']}”")).to_be_visible()
    expect(main(creator).get_by_text("Its 1 booking is settled. Refunds: 1 refunded.")).to_be_visible()
    attendee_row = row(creator, attendee.username)
    expect(attendee_row.get_by_role("cell").nth(0)).to_have_text("Cancelled")
    expect(attendee_row.get_by_role("cell").nth(3)).to_have_text("Refunded in full")
    expect(attendee_row.get_by_role("cell").nth(2)).to_contain_text("(with the event)")
    expect(attendee_row.get_by_role("button")).to_have_count(0)
    axe(creator)


def test_the_creator_refunds_from_the_attendees_page(new_context, site, axe):
    event = site.create_event(capacity=5, price="25.00", currency="USD", starts_at=soon(5))
    late, kept = site.new_user(), site.new_user()
    late_booking = site.pay(late, event["id"])
    site.pay(kept, event["id"])
    # `late` cancels after the cut-off: the policy keeps the money.
    page = signed_in(new_context(**READABLE_TIMES), late).new_page()
    page.goto(f"/events/{event['id']}")
    panel(page).get_by_role("button", name="Cancel my booking").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel without a refund").click()
    expect(main(page).locator(".notice-warning")).to_be_visible()
    assert site.bookings(late)[0]["refund_status"] == "not_refundable"

    creator = signed_in(new_context(**READABLE_TIMES), site.account("creator_user")).new_page()
    creator.goto(f"/dashboard/events/{event['id']}/attendees")
    expect(main(creator).get_by_text("1 of 5 seats booked")).to_be_visible()
    late_row, kept_row = row(creator, late.username), row(creator, kept.username)
    expect(late_row.get_by_role("cell").nth(3)).to_have_text("Not refunded (cancelled after the refund cut-off)")
    expect(kept_row.get_by_role("cell").nth(3)).to_have_text("Paid")
    expect(kept_row.get_by_role("button", name="Refund", exact=True)).to_have_count(0)
    axe(creator)

    # A refund after all, for the booking cancelled too late.
    late_row.get_by_role("button", name="Refund", exact=True).click()
    dialog = creator.get_by_role("dialog", name=f"Refund {late.username}?")
    expect(dialog).to_have_accessible_description(
        "They cancelled too late for a refund under the policy. Their payment is refunded in full now."
    )
    axe(creator)
    dialog.get_by_role("button", name="Refund", exact=True).click()
    outcome = main(creator).locator(".notice")
    expect(outcome).to_have_text(f"{late.username}'s payment is refunded in full.")
    expect(outcome).to_have_class("notice notice-info")
    expect(late_row.get_by_role("cell").nth(3)).to_have_text("Refunded in full")
    expect(late_row.get_by_role("button")).to_have_count(0)
    expect(late_row.get_by_role("rowheader")).to_be_focused()
    assert [(b["id"], b["refund_status"]) for b in site.bookings(late)] == [(late_booking["id"], "succeeded")]

    # A confirmed paid seat: cancelled and refunded in full (the creator's refund ignores the cut-off).
    kept_row.get_by_role("button", name="Cancel and refund").click()
    dialog = creator.get_by_role("dialog", name=f"Cancel {kept.username}'s booking and refund it?")
    expect(dialog).to_have_accessible_description(
        "Their seat is freed and they are refunded $25.00 in full. This cannot be undone."
    )
    dialog.get_by_role("button", name="Cancel and refund").click()
    expect(outcome).to_have_text(f"{kept.username}'s booking is cancelled and their payment refunded in full.")
    expect(kept_row.get_by_role("cell").nth(0)).to_have_text("Cancelled")
    expect(kept_row.get_by_role("cell").nth(2)).to_contain_text("(by the organizer)")
    expect(kept_row.get_by_role("cell").nth(3)).to_have_text("Refunded in full")
    expect(main(creator).get_by_text("0 of 5 seats booked")).to_be_visible()
    axe(creator)
    [refunded] = site.bookings(kept)
    assert (refunded["status"], refunded["cancel_reason"], refunded["refund_status"]) == (
        "cancelled",
        "organizer",
        "succeeded",
    )

    # The attendee is told who cancelled, and that the money came back.
    mine = signed_in(new_context(**READABLE_TIMES), kept).new_page()
    mine.goto("/bookings")
    booking = card(mine, event["title"])
    expect(booking.get_by_text("The event's organizer cancelled this booking.")).to_be_visible()
    expect(booking.get_by_text("Refunded: your payment has been returned.")).to_be_visible()
    axe(mine)
