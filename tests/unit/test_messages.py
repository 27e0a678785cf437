"""The notification e-mails (services.messages): each kind's subject, its key lines, the HTML's escaping, times in
two zones, the calendar attachment and the unsubscribe headers."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.bookings import Booking, Payment
from chalicelib.domain.enums import BookingStatus, CancelReason, RefundStatus
from chalicelib.domain.events import Event
from chalicelib.domain.users import User
from chalicelib.services.messages import KINDS, DigestLine, MessageContext, render

NOW = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
APP = "https://app.example.com"
EVENT = Event(
    id="01EVENT",
    title="Go & Rust",
    description="",
    creator="c1",
    creator_username="carol",
    created_at=NOW,
    updated_at=NOW,
    starts_at=datetime(2026, 12, 8, 17, 0, tzinfo=UTC),
    ends_at=datetime(2026, 12, 8, 19, 0, tzinfo=UTC),
    timezone="Europe/Paris",
    capacity=20,
    seats_booked=12,
    location="12 rue de la Paix, Paris",
)
PAID = replace(EVENT, price=Decimal("25.00"), currency="EUR", online_url="https://meet.example.com/go")
ALICE = User(id="u1", username="alice", email="alice@example.com", password_hash="-")
WHEN = "When: Tue 8 Dec 2026, 18:00–20:00 (Europe/Paris)"
UNSUBSCRIBE = "https://api.example.com/api/unsubscribe/?t=signed"
ONE_CLICK = (("List-Unsubscribe", f"<{UNSUBSCRIBE}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))


def booking(status: BookingStatus = BookingStatus.CONFIRMED, **changes: object) -> Booking:
    made = Booking(
        id="01BOOKING", event_id=EVENT.id, event_creator="c1", user_id="u1", username="alice", status=status,
        created_at=NOW,
    )  # fmt: skip
    return replace(made, **changes)  # type: ignore[arg-type]


def paid(refund: RefundStatus | None = None, **changes: object) -> Payment:
    """A payment of 25 EUR made through the checkout."""
    made = Payment(amount=2500, currency="EUR", payment_intent="pi_1", paid_amount=2500, paid_currency="EUR")
    return replace(made, refund_status=refund, **changes)  # type: ignore[arg-type]


def held(expires: datetime) -> Booking:
    payment = Payment(amount=2500, currency="EUR", hold_expires_at=expires, checkout_url="https://pay.example.com/cs_1")
    return booking(BookingStatus.PENDING_PAYMENT, payment=payment)


def context(kind: str, **changes: object) -> MessageContext:
    base = MessageContext(kind=kind, recipient=ALICE, event=EVENT, booking=booking(), web_app_url=APP, now=NOW)
    return replace(base, **changes)  # type: ignore[arg-type]


def lines(kind: str, **changes: object) -> list[str]:
    return render(context(kind, **changes)).text.splitlines()


# A context for each kind in which its message makes sense, with the subject it gets.
TYPICAL = {
    "booking_confirmed": ({}, "Booking confirmed: Go & Rust"),
    "waitlist_joined": ({"booking": booking(BookingStatus.WAITLISTED)}, "You're on the waitlist: Go & Rust"),
    "waitlist_promoted": ({}, "A seat is yours: Go & Rust"),
    "payment_received": (
        {"event": PAID, "booking": booking(payment=paid())},
        "Payment received: Go & Rust",
    ),
    "hold_expired": ({"booking": booking(BookingStatus.EXPIRED)}, "Your held seat was released: Go & Rust"),
    "booking_cancelled": ({"booking": booking(BookingStatus.CANCELLED)}, "Booking cancelled: Go & Rust"),
    "event_changed": ({"changes": ("location",)}, "Event changed: Go & Rust"),
    "event_cancelled": ({"booking": booking(BookingStatus.CANCELLED)}, "Event cancelled: Go & Rust"),
    "reminder": ({"now": EVENT.starts_at - timedelta(hours=24)}, "Reminder: Go & Rust starts in about 24 hours"),
    "digest": (
        {"digest": (DigestLine(EVENT, 3, 1),)},
        "Your daily digest: 3 new bookings, 1 cancellation",
    ),
}


def test_every_kind_has_a_typical_context_here():
    assert set(TYPICAL) == set(KINDS) and len(KINDS) == 10


@pytest.mark.parametrize("kind", list(TYPICAL))
def test_each_kind_has_its_subject_greets_the_recipient_and_signs(kind):
    changes, subject = TYPICAL[kind]
    message = render(context(kind, **changes))
    assert (message.to, message.subject) == ("alice@example.com", subject)
    assert message.text.startswith("Hello alice,\n\n")
    assert "\n\nThe Sessions Marketplace team\n\n-- \n" in message.text
    assert message.html is not None and '<p style="margin:0 0 16px;">Hello alice,</p>' in message.html


def test_the_kinds_are_those_of_the_notifications():
    notifications = pytest.importorskip("chalicelib.domain.notifications")
    assert {str(kind) for kind in notifications.KINDS} == set(KINDS)


@pytest.mark.parametrize("kind", list(TYPICAL))
def test_a_title_is_escaped_in_the_html_and_kept_whole_in_the_text(kind):
    changes, subject = TYPICAL[kind]
    title = '<script>alert("x")</script>'
    event = replace(changes.get("event", EVENT), title=title)  # type: ignore[type-var]
    digest = (DigestLine(event, 3, 1),) if kind == "digest" else ()
    message = render(context(kind, **{**changes, "event": event, "digest": digest}))
    assert message.html is not None
    assert "<script" not in message.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in message.html
    assert message.subject == subject.replace("Go & Rust", title)
    assert title in message.text


@pytest.mark.parametrize("kind", list(TYPICAL))
def test_the_html_has_no_external_resource_and_inline_styles_only(kind):
    changes, _ = TYPICAL[kind]
    page = render(context(kind, **changes)).html or ""
    assert re.findall(r"<(img|link|style|script)\b", page) == []
    assert "src=" not in page and "class=" not in page


def test_a_title_with_line_breaks_makes_a_one_line_subject():
    message = render(context("booking_confirmed", event=replace(EVENT, title="Go\r\nBcc: x@example.com")))
    assert message.subject == "Booking confirmed: Go Bcc: x@example.com"


def test_booking_confirmed_says_when_and_where_and_attaches_the_calendar_file():
    message = render(context("booking_confirmed", ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"))
    text = message.text.splitlines()
    assert "Your seat at Go & Rust is confirmed." in text
    assert WHEN in text
    assert "Where: 12 rue de la Paix, Paris" in text
    assert "The attached calendar file puts the event in your calendar." in text
    assert f"See the event: {APP}/events/01EVENT" in text
    assert f"See or cancel your bookings: My bookings <{APP}/bookings>" in text
    [attachment] = message.attachments
    assert (attachment.filename, attachment.content_type) == ("go-rust.ics", "text/calendar; method=PUBLISH")
    assert attachment.data == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    assert message.headers == ()


def test_without_a_calendar_file_nothing_is_attached_nor_announced():
    message = render(context("booking_confirmed"))
    assert message.attachments == ()
    assert "calendar" not in message.text


@pytest.mark.parametrize(
    ("title", "filename"),
    [("Café crème: l'atelier!", "cafe-creme-l-atelier.ics"), ("東京", "event.ics"), ("a" * 80, "a" * 60 + ".ics")],
)
def test_the_calendar_file_is_named_after_the_title(title, filename):
    message = render(context("booking_confirmed", event=replace(EVENT, title=title), ics="BEGIN:VCALENDAR"))
    assert [a.filename for a in message.attachments] == [filename]


def test_the_online_link_of_a_paid_event_is_for_confirmed_seats_only():
    confirmed = lines("booking_confirmed", event=PAID, booking=booking(payment=paid()))
    waiting = lines("waitlist_joined", event=PAID, booking=booking(BookingStatus.WAITLISTED))
    assert "Online: https://meet.example.com/go" in confirmed
    assert "Online: the link is shown on the event page once your seat is paid." in waiting
    assert not any("meet.example.com" in line for line in waiting)


def test_the_online_link_of_a_free_event_is_everyones():
    free_online = replace(EVENT, online_url="https://meet.example.com/free")
    message = render(context("waitlist_joined", event=free_online, booking=booking(BookingStatus.WAITLISTED)))
    assert "Online: https://meet.example.com/free" in message.text.splitlines()
    assert '<a href="https://meet.example.com/free" style="color:#0b57d0;">https://meet.example.com/free</a>' in (
        message.html or ""
    )


def test_an_address_that_is_not_the_web_is_never_a_link():
    event = replace(EVENT, online_url="javascript:alert(1)")
    page = render(context("booking_confirmed", event=event)).html or ""
    assert 'href="javascript' not in page and "Online: javascript:alert(1)" in page


def test_waitlist_joined_promises_a_message_when_a_seat_frees_up():
    text = lines("waitlist_joined", booking=booking(BookingStatus.WAITLISTED))
    assert "Go & Rust is full: you are on its waitlist. We will write to you when a seat frees up." in text
    assert f"You can leave the waitlist from your bookings: My bookings <{APP}/bookings>" in text
    assert "The seat is then held for you for a short time, to pay for it." not in text
    paid_text = lines("waitlist_joined", event=PAID, booking=booking(BookingStatus.WAITLISTED))
    assert "The seat is then held for you for a short time, to pay for it." in paid_text


def test_a_promotion_to_a_paid_seat_says_until_when_and_how_to_pay():
    promoted = held(NOW + timedelta(minutes=14, seconds=59))
    message = render(context("waitlist_promoted", event=PAID, booking=promoted))
    assert message.subject == "A seat is yours, pay to keep it: Go & Rust"
    text = message.text.splitlines()
    assert (
        "A seat freed up at Go & Rust and it is yours if you pay for it. "
        "It is held for you until Mon 7 Dec 2026, 18:14 (Europe/Paris), 14 minutes from now."
    ) in text
    assert "Pay 25.00 EUR: https://pay.example.com/cs_1" in text
    assert "Online: the link is shown on the event page once your seat is paid." in text
    assert 'href="https://pay.example.com/cs_1"' in (message.html or "")


def test_the_hold_is_told_in_the_recipients_zone_when_known():
    promoted = held(NOW + timedelta(seconds=59))
    text = lines("waitlist_promoted", event=PAID, booking=promoted, recipient_timezone="America/New_York")
    assert (
        "A seat freed up at Go & Rust and it is yours if you pay for it. "
        "It is held for you until Mon 7 Dec 2026, 12:00 (America/New_York), less than a minute from now."
    ) in text


def test_a_hold_already_over_when_told_gives_no_time_left():
    text = lines("waitlist_promoted", event=PAID, booking=held(NOW - timedelta(seconds=1)))
    assert (
        "A seat freed up at Go & Rust and it is yours if you pay for it. "
        "It is held for you until Mon 7 Dec 2026, 17:59 (Europe/Paris)."
    ) in text


def test_a_promotion_to_a_free_seat_confirms_it():
    text = lines("waitlist_promoted", ics="BEGIN:VCALENDAR")
    assert "A seat freed up at Go & Rust and it is yours: your booking is confirmed." in text
    assert "The attached calendar file puts the event in your calendar." in text


def test_a_promotion_needs_a_seat_confirmed_or_held():
    with pytest.raises(ValueError, match="waitlist_promoted"):
        render(context("waitlist_promoted", booking=booking(BookingStatus.WAITLISTED)))


@pytest.mark.parametrize(
    ("payment", "amount"),
    [
        (paid(), "Amount: 25.00 EUR"),
        (paid(amount=125000, paid_amount=125000, currency="USD", paid_currency="USD"), "Amount: 1,250.00 USD"),
        (paid(amount=500, paid_amount=500, currency="JPY", paid_currency="JPY"), "Amount: 500 JPY"),
        (paid(amount=5000, paid_amount=5000, currency="KWD", paid_currency="KWD"), "Amount: 5.000 KWD"),
        (paid(paid_amount=None, paid_currency=None), "Amount: 25.00 EUR"),  # recorded before paid_amount was
    ],
)
def test_a_receipt_tells_the_amount_in_its_currency(payment, amount):
    text = lines("payment_received", event=PAID, booking=booking(payment=payment))
    assert "We received your payment for Go & Rust. Your seat is confirmed." in text
    assert [line for line in text if line.startswith("- ")] == [
        f"- {amount}",
        f"- Event: Go & Rust <{APP}/events/01EVENT>",
        "- Booking: 01BOOKING",
        "- Date: Mon 7 Dec 2026, 17:00 (UTC)",
    ]


def test_a_receipt_is_dated_in_the_recipients_zone():
    text = lines("payment_received", event=PAID, booking=booking(payment=paid()), recipient_timezone="Asia/Tokyo")
    assert "- Date: Tue 8 Dec 2026, 02:00 (Asia/Tokyo)" in text


def test_a_receipt_needs_a_payment():
    with pytest.raises(ValueError, match="payment"):
        render(context("payment_received", booking=booking()))
    with pytest.raises(ValueError, match="booking"):
        render(context("payment_received", booking=None))


def test_hold_expired_says_the_seat_was_released():
    text = lines("hold_expired", event=PAID, booking=booking(BookingStatus.EXPIRED))
    assert "The seat held for you at Go & Rust was not paid for in time, so it was released." in text
    assert "Nothing was charged. If seats are left, you can book again from the event page." in text
    assert f"See the event: {APP}/events/01EVENT" in text


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        (CancelReason.OWNER, "As you asked, your booking for Go & Rust is cancelled."),
        (CancelReason.ORGANIZER, "The organizer of Go & Rust cancelled your booking."),
        (CancelReason.STAFF, "Our staff cancelled your booking for Go & Rust."),
        (CancelReason.EVENT_CANCELLED, "Go & Rust was cancelled, and your booking with it."),
        (None, "Your booking for Go & Rust is cancelled."),
    ],
)
def test_a_cancellation_says_who_cancelled(reason, said):
    assert said in lines("booking_cancelled", booking=booking(BookingStatus.CANCELLED, cancel_reason=reason))


@pytest.mark.parametrize(
    ("payment", "said"),
    [
        (paid(RefundStatus.PENDING), "Refund in progress: your payment of 25.00 EUR is being returned."),
        (paid(RefundStatus.SUCCEEDED), "Refunded: your payment of 25.00 EUR has been returned."),
        (
            paid(RefundStatus.NOT_REFUNDABLE),
            "Not refunded: under the refund policy, a seat cancelled this close to the start is not refunded.",
        ),
        (paid(RefundStatus.FAILED), "The refund could not be made automatically: our staff will settle it with you."),
        (
            paid(RefundStatus.PENDING, paid_amount=1000, paid_currency="USD"),  # refunded as it was paid
            "Refund in progress: your payment of 10.00 USD is being returned.",
        ),
        (Payment(amount=2500, currency="EUR"), "Nothing was paid for this booking, so there is nothing to refund."),
        (None, "Nothing was paid for this booking, so there is nothing to refund."),
    ],
)
def test_a_cancelled_paid_booking_tells_where_its_money_stands(payment, said):
    cancelled = booking(BookingStatus.CANCELLED, payment=payment, cancel_reason=CancelReason.OWNER)
    text = lines("booking_cancelled", event=PAID, booking=cancelled)
    assert text[2:4] == ["As you asked, your booking for Go & Rust is cancelled.", ""]
    assert text[4] == said


def test_a_cancelled_free_booking_says_nothing_of_money():
    text = lines("booking_cancelled", booking=booking(BookingStatus.CANCELLED, cancel_reason=CancelReason.OWNER))
    assert not any("refund" in line.lower() for line in text)


def test_event_changed_tells_the_new_time_place_and_link():
    moved = replace(PAID, starts_at=datetime(2026, 12, 9, 17, 0, tzinfo=UTC), ends_at=None, location="Salle 2")
    text = lines(
        "event_changed",
        event=moved,
        booking=booking(payment=paid()),
        changes=("starts_at", "ends_at", "location", "online_url"),
    )
    start = text.index("The organizer changed Go & Rust:")
    assert text[start + 1 : start + 6] == [
        "",
        "- New time: Wed 9 Dec 2026, 18:00 (Europe/Paris)",
        "- New place: Salle 2",
        "- New online link: https://meet.example.com/go",
        "",
    ]
    assert "Your booking stays as it is. If the change does not suit you, you can cancel it." in text


def test_event_changed_says_what_was_removed_and_hides_a_paid_link_from_those_not_confirmed():
    bare = replace(EVENT, location="", online_url=None)
    assert lines("event_changed", event=bare, changes=("location", "online_url"))[4:6] == [
        "- The event no longer has a place.",
        "- The event no longer has an online link.",
    ]
    pending = held(NOW + timedelta(minutes=10))
    assert lines("event_changed", event=PAID, booking=pending, changes=("online_url",))[4] == (
        "- The online link changed: it is shown on the event page once your seat is paid."
    )


@pytest.mark.parametrize("changes", [(), ("title",), ("location", "capacity")])
def test_event_changed_needs_known_changes(changes):
    with pytest.raises(ValueError, match="event_changed"):
        render(context("event_changed", changes=changes))


def test_event_cancelled_tells_the_refund_in_full():
    cancelled = booking(BookingStatus.CANCELLED, payment=paid(RefundStatus.PENDING))
    text = lines("event_cancelled", event=PAID, booking=cancelled)
    assert text[2:7] == [
        "Go & Rust, planned for Tue 8 Dec 2026, 18:00–20:00 (Europe/Paris), was cancelled, and your booking with it.",
        "",
        "As the event is cancelled, your payment of 25.00 EUR is refunded in full.",
        "",
        "Refund in progress: your payment of 25.00 EUR is being returned.",
    ]
    assert f"Find another event: {APP}/events" in text


def test_event_cancelled_tells_a_refund_made_or_failed():
    refunded = booking(BookingStatus.CANCELLED, payment=paid(RefundStatus.SUCCEEDED))
    assert lines("event_cancelled", event=PAID, booking=refunded)[6] == (
        "Refunded: your payment of 25.00 EUR has been returned."
    )
    failed = booking(BookingStatus.CANCELLED, payment=paid(RefundStatus.FAILED))
    assert lines("event_cancelled", event=PAID, booking=failed)[6] == (
        "The refund could not be made automatically: our staff will settle it with you."
    )


def test_event_cancelled_for_a_waitlisted_place_or_an_unset_time():
    waiting = booking(BookingStatus.CANCELLED)
    assert lines("event_cancelled", event=PAID, booking=waiting)[4] == NOTHING
    untimed = replace(EVENT, starts_at=None, ends_at=None)
    assert lines("event_cancelled", event=untimed, booking=waiting)[2:4] == [
        "Go & Rust was cancelled, and your booking with it.",
        "",
    ]


NOTHING = "Nothing was paid for this booking, so there is nothing to refund."


@pytest.mark.parametrize(
    ("ahead", "subject"),
    [
        (timedelta(hours=24), "Reminder: Go & Rust starts in about 24 hours"),
        (timedelta(hours=23, minutes=31), "Reminder: Go & Rust starts in about 24 hours"),
        (timedelta(hours=23, minutes=29), "Reminder: Go & Rust starts in about 23 hours"),
        (timedelta(minutes=90), "Reminder: Go & Rust starts in about 2 hours"),
        (timedelta(minutes=89, seconds=59), "Reminder: Go & Rust starts in 89 minutes"),
        (timedelta(minutes=1), "Reminder: Go & Rust starts in 1 minute"),
        (timedelta(seconds=59), "Reminder: Go & Rust has started"),
    ],
)
def test_a_reminder_says_how_soon_the_event_starts(ahead, subject):
    assert render(context("reminder", now=EVENT.starts_at - ahead)).subject == subject


def test_a_reminder_tells_when_where_and_how_to_stop_reminders():
    message = render(context("reminder", event=PAID, booking=booking(payment=paid()), unsubscribe_url=UNSUBSCRIBE))
    text = message.text.splitlines()
    assert WHEN in text and "Where: 12 rue de la Paix, Paris" in text
    assert "Online: https://meet.example.com/go" in text
    assert text[text.index("-- ") + 1 :] == [
        "You receive reminders of the events you booked.",
        f"Stop reminders <{UNSUBSCRIBE}>, or change your settings on your profile <{APP}/profile>.",
    ]
    assert message.headers == ONE_CLICK
    assert f'<a href="{UNSUBSCRIBE}" style="color:#0b57d0;">Stop reminders</a>' in (message.html or "")


def test_a_reminder_without_an_unsubscribe_link_has_no_header_and_points_to_the_profile():
    message = render(context("reminder"))
    assert message.headers == ()
    assert message.text.splitlines()[-1] == f"Change your settings on your profile <{APP}/profile>."


def test_a_reminder_needs_a_start_time():
    with pytest.raises(ValueError, match="start"):
        render(context("reminder", event=replace(EVENT, starts_at=None)))


def test_a_digest_has_a_line_per_event_and_an_unsubscribe_link():
    other = replace(EVENT, id="01OTHER", title="Rust", capacity=None, seats_booked=1)
    digest = (DigestLine(EVENT, 3, 0), DigestLine(other, 1, 2))
    message = render(context("digest", digest=digest, unsubscribe_url=UNSUBSCRIBE))
    assert message.subject == "Your daily digest: 4 new bookings, 2 cancellations"
    text = message.text.splitlines()
    assert [line for line in text if line.startswith("- ")] == [
        f"- Go & Rust <{APP}/dashboard/events/01EVENT/attendees>: +3 booked, −0 cancelled (12 of 20 seats booked)",
        f"- Rust <{APP}/dashboard/events/01OTHER/attendees>: +1 booked, −2 cancelled (1 seat booked)",
    ]
    assert f"Your dashboard: {APP}/dashboard" in text
    assert text[-1] == f"Stop digests <{UNSUBSCRIBE}>, or change your settings on your profile <{APP}/profile>."
    assert message.headers == ONE_CLICK


def test_a_digest_subject_counts_in_the_singular():
    message = render(context("digest", digest=(DigestLine(EVENT, 1, 0),)))
    assert message.subject == "Your daily digest: 1 new booking, 0 cancellations"


def test_an_empty_digest_is_refused():
    with pytest.raises(ValueError, match="digest"):
        render(context("digest"))


@pytest.mark.parametrize("kind", [kind for kind in TYPICAL if kind not in ("reminder", "digest")])
def test_messages_about_ones_own_booking_carry_no_unsubscribe_header(kind):
    changes, _ = TYPICAL[kind]
    message = render(context(kind, **changes, unsubscribe_url=UNSUBSCRIBE))
    assert message.headers == ()
    assert UNSUBSCRIBE not in message.text
    assert message.text.splitlines()[-2:] == [
        "You receive this e-mail about your booking on Sessions Marketplace. It cannot be turned off.",
        f"Notification settings: your profile <{APP}/profile>",
    ]


@pytest.mark.parametrize(
    ("starts_at", "event_time", "their_time"),
    [
        # Saturday: Paris still on winter time (UTC+1), New York already on summer time (UTC-4): 5 hours apart.
        (datetime(2026, 3, 28, 17, 0, tzinfo=UTC), "Sat 28 Mar 2026, 18:00–20:00", "Sat 28 Mar 2026, 13:00–15:00"),
        # Monday: Paris on summer time too (UTC+2): 6 hours apart again, the same 18:00 there.
        (datetime(2026, 3, 30, 16, 0, tzinfo=UTC), "Mon 30 Mar 2026, 18:00–20:00", "Mon 30 Mar 2026, 12:00–14:00"),
    ],
)
def test_times_are_in_the_events_zone_and_the_recipients_across_daylight_saving(starts_at, event_time, their_time):
    event = replace(EVENT, starts_at=starts_at, ends_at=starts_at + timedelta(hours=2))
    message = render(context("booking_confirmed", event=event, recipient_timezone="America/New_York"))
    text = message.text.splitlines()
    start = text.index(f"When: {event_time} (Europe/Paris)")
    assert text[start + 1] == f"  {their_time} your time (America/New_York)"
    assert f"When: {event_time} (Europe/Paris)<br>{their_time} your time (America/New_York)" in (message.html or "")


def test_an_event_over_midnight_shows_both_days():
    event = replace(EVENT, ends_at=datetime(2026, 12, 9, 1, 30, tzinfo=UTC))
    text = lines("booking_confirmed", event=event)
    assert "When: Tue 8 Dec 2026, 18:00 – Wed 9 Dec 2026, 02:30 (Europe/Paris)" in text


@pytest.mark.parametrize("zone", [None, "Europe/Paris", "Europe/Berlin", "Not/AZone", ""])
def test_the_recipients_time_is_left_out_when_it_reads_the_same_or_is_unknown(zone):
    text = lines("booking_confirmed", recipient_timezone=zone)
    when = text.index(WHEN)
    assert text[when + 1] == ""


def test_an_event_without_a_start_time_says_so():
    event = replace(EVENT, starts_at=None, ends_at=None)
    assert "When: to be announced" in lines("booking_confirmed", event=event, recipient_timezone="Asia/Tokyo")


def test_links_go_to_the_web_app_whatever_its_trailing_slash():
    text = lines("booking_confirmed", web_app_url=f"{APP}/", event=replace(EVENT, id="01 A/B"))
    assert f"See the event: {APP}/events/01%20A%2FB" in text


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown message kind: 'welcome'"):
        render(context("welcome"))


def test_a_recipient_without_an_address_is_refused():
    with pytest.raises(ValueError, match="no e-mail address"):
        render(context("booking_confirmed", recipient=replace(ALICE, email="")))
