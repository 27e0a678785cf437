"""What the payment provider tells us, and what it never gets round to: signed webhook events and the sweep of
holds that ended without one.

Every change is a conditional transaction on the booking's status as read, so a duplicate, late or
out-of-order event, a sweep running at the same moment and a cancellation can all race: one wins, the others
find the booking changed and re-read it. A webhook event's id is recorded in the transaction that applies it,
so no event is ever applied twice."""

from __future__ import annotations

import enum
import logging
import time
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

from chalicelib.domain.common import iso, utcnow
from chalicelib.domain.enums import BookingStatus, RefundStatus
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.payments import EventAlreadyApplied, PaymentUnavailable, ProviderEvent
from chalicelib.services import payments
from chalicelib.services.bookings import next_in_line

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.domain.bookings import Booking
    from chalicelib.ports.bookings import BookingRepository
    from chalicelib.ports.events import EventRepository
    from chalicelib.services.payments import PaymentTerms

COMPLETED = "checkout.session.completed"
EXPIRED = "checkout.session.expired"
ATTEMPTS = 3
SWEEP_PAGE = 50

log = logging.getLogger("sessions_marketplace")


class Outcome(enum.StrEnum):
    """What a webhook event did: applied, already applied before (duplicate), or nothing (ignored: another
    type, an unknown booking or checkout, or a booking already past what the event says)."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


def handle_event(
    bookings: BookingRepository, events: EventRepository, terms: PaymentTerms, event: ProviderEvent
) -> Outcome:
    """Apply a verified provider event at most once.

    `completed` confirms a held booking. Money for a booking that no longer holds its seat (its hold expired,
    or it was cancelled before the payment arrived) is refunded in full. `expired` ends a hold and frees its
    seat, which goes to the oldest waiting booking as on a cancellation."""
    if event.type not in (COMPLETED, EXPIRED) or not event.booking_id or not event.session_id:
        return Outcome.IGNORED
    for _ in range(ATTEMPTS):
        booking, applied = bookings.get_for_event(event.booking_id, event.id)
        if applied:
            return Outcome.DUPLICATE
        payment = booking.payment if booking else None
        if booking is None or payment is None or payment.checkout_session != event.session_id:
            return Outcome.IGNORED  # not a checkout of ours (or not this booking's)
        try:
            if event.type == COMPLETED:
                return _completed(bookings, events, terms, booking, event)
            return _expired(bookings, events, terms, booking, event, utcnow())
        except EventAlreadyApplied:
            return Outcome.DUPLICATE
        except StaleWrite:
            continue  # the booking changed since it was read (a parallel delivery, the sweep, a cancellation)
    raise PaymentUnavailable("the booking kept changing")  # Stripe retries the delivery later


def _completed(
    bookings: BookingRepository,
    events: EventRepository,
    terms: PaymentTerms,
    booking: Booking,
    event: ProviderEvent | None,
    payment_intent: str | None = None,
) -> Outcome:
    paid_with = event.payment_intent if event is not None else payment_intent
    if event is not None and not event.paid:
        return Outcome.IGNORED  # only card payments are offered: a completed checkout is a paid one
    assert booking.payment is not None
    paid = replace(booking.payment, payment_intent=paid_with)
    if booking.status is BookingStatus.PENDING_PAYMENT:
        bookings.confirm(booking, replace(booking, status=BookingStatus.CONFIRMED, payment=paid), event)
        return Outcome.APPLIED
    if booking.status in (BookingStatus.EXPIRED, BookingStatus.CANCELLED) and booking.payment.payment_intent is None:
        # Paid after the seat was given up: the money goes back (the README's refund policy).
        owed = replace(booking, payment=replace(paid, refund_status=RefundStatus.PENDING))
        bookings.owe_refund(booking, owed, event)
        payments.issue_refund(bookings, terms, owed, utcnow())
        return Outcome.APPLIED
    return Outcome.IGNORED  # already confirmed, or its payment already known


def _expired(
    bookings: BookingRepository,
    events: EventRepository,
    terms: PaymentTerms,
    booking: Booking,
    event: ProviderEvent | None,
    now: datetime,
) -> Outcome:
    if booking.status is not BookingStatus.PENDING_PAYMENT:
        return Outcome.IGNORED  # paid, cancelled or expired already
    seat_event = events.get(booking.event_id)
    promotion = next_in_line(bookings, booking, seat_event, terms, now)
    expired = replace(booking, status=BookingStatus.EXPIRED, cancelled_at=now)
    bookings.expire(booking, expired, promotion, event)
    if promotion is not None and seat_event is not None:
        payments.start_promoted_checkout(bookings, terms, promotion.promoted, seat_event.title)
    return Outcome.APPLIED


def sweep(
    bookings: BookingRepository,
    events: EventRepository,
    terms: PaymentTerms,
    *,
    budget_seconds: float,
    now: datetime | None = None,
) -> dict[str, int]:
    """The scheduled sweep: end holds whose time is up without any webhook, and issue or retry owed refunds.
    Reads only the index of payment work due (earliest first), a page at a time, within `budget_seconds`.

    A hold's checkout is closed at the provider before its seat is freed, so no payment can complete for a
    seat given to someone else; if it turns out paid, the booking is confirmed instead. While the provider
    is unreachable, holds are kept until their checkout's own deadline (after which nothing can be paid), and
    the provider is not called again in the same run."""
    deadline = time.monotonic() + budget_seconds
    counts: Counter[str] = Counter()
    provider_down = False
    now = now or utcnow()
    for kind in ("hold", "refund"):
        seen: set[str] = set()
        while time.monotonic() < deadline:
            due = [b for b in bookings.due(kind, iso(now), SWEEP_PAGE) if b.id not in seen]
            if not due:
                break
            for booking in due:
                seen.add(booking.id)
                if time.monotonic() >= deadline:
                    break
                if kind == "refund":
                    if provider_down:
                        continue
                    settled = payments.issue_refund(bookings, terms, booking, now)
                    counts[
                        "refunds_succeeded" if settled.refund_status is RefundStatus.SUCCEEDED else "refunds_due"
                    ] += 1
                    provider_down = settled.refund_status is RefundStatus.PENDING
                    continue
                outcome, provider_down = _end_hold(bookings, events, terms, booking, now, provider_down)
                counts[outcome] += 1
    log.info("payment sweep", extra={"fields": dict(counts)})
    return dict(counts)


def _end_hold(
    bookings: BookingRepository,
    events: EventRepository,
    terms: PaymentTerms,
    booking: Booking,
    now: datetime,
    provider_down: bool,
) -> tuple[str, bool]:
    """End one hold whose time is up; returns what happened and whether the provider is (still) down."""
    payment = booking.payment
    assert payment is not None
    session = payment.checkout_session
    if session is not None:
        if provider_down:
            state = None
        else:
            try:
                state = terms.provider.expire_checkout(session)
            except PaymentUnavailable as exc:
                log.warning(
                    "closing a checkout failed", extra={"fields": {"booking_id": booking.id, "error": str(exc)}}
                )
                state, provider_down = None, True
        if state is not None and state.paid:
            try:
                _completed(bookings, events, terms, booking, None, state.payment_intent)
            except StaleWrite:
                return "changed", provider_down
            return "holds_paid", provider_down
        if state is None and payment.session_expires_at is not None and now < payment.session_expires_at:
            return "holds_kept", provider_down  # it could still be paid: decide once the provider answers
    try:
        _expired(bookings, events, terms, booking, None, now)
    except StaleWrite:
        return "changed", provider_down
    return "holds_expired", provider_down
