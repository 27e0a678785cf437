"""What the payment provider tells us, and what it never gets round to: signed webhook events and the sweep of
holds that ended without one.

Every change is a conditional transaction on the booking's status as read, so a duplicate, late or
out-of-order event, a sweep running at the same moment and a cancellation can all race: one wins, the others
find the booking changed and re-read it. A webhook event's id is recorded in the transaction that applies it,
so no event is ever applied twice."""

from __future__ import annotations

import enum
import time
from collections import Counter
from dataclasses import replace
from typing import TYPE_CHECKING

from chalicelib import metrics
from chalicelib.domain.common import iso, utcnow
from chalicelib.domain.enums import BookingStatus, CancelReason, RefundStatus
from chalicelib.errors import ServiceUnavailable
from chalicelib.logs import get_logger
from chalicelib.metrics import metric_fields
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.payments import EventAlreadyApplied, PaymentUnavailable, ProviderEvent
from chalicelib.services import payments
from chalicelib.services.bookings import next_in_line
from chalicelib.services.event_settlement import Provider, settle_due_events

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.domain.bookings import Booking
    from chalicelib.ports.bookings import BookingRepository
    from chalicelib.ports.events import EventRepository
    from chalicelib.ports.payments import CheckoutState
    from chalicelib.services.payments import PaymentTerms

COMPLETED = "checkout.session.completed"
EXPIRED = "checkout.session.expired"
ATTEMPTS = 3
SWEEP_PAGE = 50

log = get_logger()


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
                return _completed(bookings, terms, booking, event)
            return _expired(bookings, events, terms, booking, event, utcnow())
        except EventAlreadyApplied:
            return Outcome.DUPLICATE
        except StaleWrite:
            continue  # the booking changed since it was read (a parallel delivery, the sweep, a cancellation)
    raise PaymentUnavailable("the booking kept changing")  # Stripe retries the delivery later


def _completed(
    bookings: BookingRepository,
    terms: PaymentTerms,
    booking: Booking,
    event: ProviderEvent | None,
    state: CheckoutState | None = None,
) -> Outcome:
    """A paid checkout (reported by `event`, or found by the sweep as `state`): it confirms the held seat only if
    exactly the booking's price was paid; any other money is refunded in full (the refund policy)."""
    received = event.received() if event is not None else state.received() if state is not None else None
    payment = booking.payment
    if received is None or payment is None:
        return Outcome.IGNORED  # only card payments are offered: a completed checkout is a paid one
    if payment.payment_intent is not None:
        return Outcome.IGNORED  # this booking's payment is already recorded (confirmed, or being refunded)
    if booking.status is BookingStatus.PENDING_PAYMENT and received.matches(payment):
        confirmed = replace(booking, status=BookingStatus.CONFIRMED, payment=received.on(payment))
        bookings.confirm(booking, confirmed, event)
        return Outcome.APPLIED
    if booking.status is BookingStatus.PENDING_PAYMENT:
        # Another amount or currency than the booking's: it never buys the seat, which stays held (and can be
        # released, or runs out) while the money goes back.
        log.error(
            "payment does not match its booking",
            extra={
                "fields": {
                    **metric_fields("PaymentMismatch"),
                    "booking_id": booking.id,
                    "expected": f"{payment.amount} {payment.currency}",
                    "received": f"{received.amount} {received.currency}",
                }
            },
        )
    elif booking.status not in (BookingStatus.EXPIRED, BookingStatus.CANCELLED):
        return Outcome.IGNORED
    # Paid after the seat was given up, or the wrong amount: the money goes back (the refund policy).
    payments.refund_late_payment(bookings, terms, booking, received, event)
    return Outcome.APPLIED


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
    hold_end = booking.hold_expires_at
    # The provider closes a checkout before our hold ends only when the customer left it (its own deadline is
    # later than the hold's end, and the sweep closes it only once the hold is over).
    left = event is not None and hold_end is not None and now < hold_end
    reason = CancelReason.CHECKOUT_CANCELLED if left else CancelReason.HOLD_EXPIRED
    expired = replace(booking, status=BookingStatus.EXPIRED, cancelled_at=now, cancel_reason=reason)
    bookings.expire(booking, expired, promotion, event)
    metrics.count(metrics.HOLD_EXPIRED)
    if promotion is not None and seat_event is not None:
        payments.start_promoted_checkout(bookings, terms, promotion.promoted, seat_event.title)
    return Outcome.APPLIED


def sweep(
    bookings: BookingRepository,
    events: EventRepository,
    terms: PaymentTerms | None,
    *,
    budget_seconds: float,
    now: datetime | None = None,
) -> dict[str, int]:
    """The scheduled sweep: end holds whose time is up without any webhook (and close the checkouts of cancelled
    holds the provider could not close then), settle the bookings of cancelled events, and issue or retry owed
    refunds. Reads only the indexes of work due (earliest first), a page at a time, within `budget_seconds`.

    A hold's checkout is closed at the provider before its seat is freed, so no payment can complete for a
    seat given to someone else; if it turns out paid, the booking is confirmed instead. While the provider
    is unreachable, holds are kept until their checkout's own deadline (after which nothing can be paid), and
    the provider is not called again in the same run. Without payments configured, only events are settled."""
    deadline = time.monotonic() + budget_seconds
    counts: Counter[str] = Counter()
    provider = Provider(terms)
    now = now or utcnow()
    if terms is not None:
        _sweep_due(bookings, events, terms, "hold", deadline, now, counts, provider)
    settle_due_events(events, bookings, provider, deadline=deadline, now=now, counts=counts)
    if terms is not None:
        _sweep_due(bookings, events, terms, "refund", deadline, now, counts, provider)
    log.info("payment sweep", extra={"fields": dict(counts)})
    _count_oldest_owed_refund(bookings, now)
    return dict(counts)


def _count_oldest_owed_refund(bookings: BookingRepository, now: datetime) -> None:
    """The OldestRefundOwedSeconds data point of this run (0 when none is owed): money owed for too long is the
    alarm, whatever the reason the refunds are not going through."""
    try:
        oldest = bookings.oldest_owed_refund()
    except ServiceUnavailable:
        log.warning("the oldest owed refund could not be read")  # the next run counts it
        return
    seconds = max(0, int((now - oldest).total_seconds())) if oldest is not None else 0
    metrics.count(metrics.OLDEST_REFUND_OWED_SECONDS, seconds, unit="Seconds")


def _sweep_due(
    bookings: BookingRepository,
    events: EventRepository,
    terms: PaymentTerms,
    kind: str,
    deadline: float,
    now: datetime,
    counts: Counter[str],
    provider: Provider,
) -> None:
    seen: set[str] = set()
    while time.monotonic() < deadline:
        due = [b for b in bookings.due(kind, iso(now), SWEEP_PAGE) if b.id not in seen]
        if not due:
            return
        for booking in due:
            seen.add(booking.id)
            if time.monotonic() >= deadline:
                return
            if kind == "refund":
                if provider.down:
                    continue
                settled = payments.issue_refund(bookings, terms, booking, now)
                counts["refunds_succeeded" if settled.refund_status is RefundStatus.SUCCEEDED else "refunds_due"] += 1
                provider.down = settled.refund_status is RefundStatus.PENDING
                continue
            if booking.status is BookingStatus.PENDING_PAYMENT:
                outcome, provider.down = _end_hold(bookings, events, terms, booking, now, provider.down)
            else:
                outcome, provider.down = _close_cancelled_checkout(bookings, terms, booking, now, provider.down)
            counts[outcome] += 1


def _close_cancelled_checkout(
    bookings: BookingRepository, terms: PaymentTerms, booking: Booking, now: datetime, provider_down: bool
) -> tuple[str, bool]:
    """The checkout of a hold cancelled while the provider was unreachable: close it now; if it was paid
    meanwhile (and its webhook never came), the money bought nothing and is refunded."""
    session = booking.payment.checkout_session if booking.payment else None
    state = None
    if session is not None and not provider_down:
        try:
            state = terms.provider.expire_checkout(session)
        except PaymentUnavailable as exc:
            log.warning("closing a checkout failed", extra={"fields": {"booking_id": booking.id, "error": str(exc)}})
            provider_down = True
    if session is not None and state is None:
        payments.recheck_checkout(bookings, booking, now)
        return "checkouts_kept", provider_down
    received = state.received() if state is not None else None
    try:
        if received is not None:
            payments.refund_late_payment(bookings, terms, booking, received, None)
            return "late_payments_refunded", provider_down
        bookings.checkout_closed(booking)
    except (StaleWrite, EventAlreadyApplied):
        return "changed", provider_down
    return "checkouts_closed", provider_down


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
        if state is not None and state.paid and payment.payment_intent is None:
            try:
                _completed(bookings, terms, booking, None, state)
            except (StaleWrite, EventAlreadyApplied):
                return "changed", provider_down
            current = bookings.get(booking.id)
            if current is None or current.status is not BookingStatus.PENDING_PAYMENT:
                return "holds_paid", provider_down
            booking = current  # paid another amount: refunded, and the hold ends as unpaid ones do
        elif state is None and payment.session_expires_at is not None and now < payment.session_expires_at:
            return "holds_kept", provider_down  # it could still be paid: decide once the provider answers
    try:
        _expired(bookings, events, terms, booking, None, now)
    except StaleWrite:
        return "changed", provider_down
    return "holds_expired", provider_down
