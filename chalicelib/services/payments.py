"""Paying for a seat: the hold a booking of a paid event takes, its checkout at the provider, and refunds.

A held seat counts in `seats_booked` from the booking transaction on, so payments in flight can never oversell.
The provider is called only after the write that makes its outcome recoverable: the checkout after the hold
exists (a checkout that cannot be made undoes the hold), a refund after the cancellation that owes it is stored
(a refund that fails stays owed, in the index the sweep reads, and is retried)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.bookings import Booking, Payment
from chalicelib.domain.common import iso
from chalicelib.domain.enums import BookingStatus, EventStatus, RefundStatus
from chalicelib.domain.money import minor_units
from chalicelib.errors import Conflict, ServiceUnavailable
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.payments import CheckoutRequest, PaymentProvider, PaymentRefused, PaymentUnavailable

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.events import Event
    from chalicelib.ports.bookings import BookingRepository

# Stripe refuses a Checkout Session that expires sooner than 30 minutes after it is made; the minute on top
# absorbs the difference between our clock and the provider's.
MIN_CHECKOUT_SECONDS = 31 * 60
# A refund the provider could not take is tried again after this long, then twice as long, up to the cap.
REFUND_RETRY_SECONDS = 60
REFUND_RETRY_CAP_SECONDS = 3600

log = logging.getLogger("sessions_marketplace")


@dataclass(frozen=True)
class PaymentTerms:
    """The provider and the stage's payment rules: how long a seat is held for its payment, and until how
    long before an event's start its owner's cancellation is refunded in full."""

    provider: PaymentProvider
    hold_seconds: int
    refund_cutoff_seconds: int


def hold(event: Event, terms: PaymentTerms, now: datetime) -> Payment:
    """The payment a new hold on `event` waits for: its price in minor units, until the hold's end."""
    try:
        amount = minor_units(event.price, event.currency)
    except ValueError:
        raise Conflict("This event's price cannot be charged in its currency.", "event_not_bookable") from None
    return Payment(amount=amount, currency=event.currency, hold_expires_at=now + timedelta(seconds=terms.hold_seconds))


def checkout_deadline(hold_expires_at: datetime, terms: PaymentTerms) -> datetime:
    """When the provider's checkout expires: at the hold's end, or at the provider's minimum lifetime (from the
    hold's start) when the hold is shorter. The seat is not kept that long: the sweep closes the checkout when
    the hold ends. Derived from the hold alone, so that a retried request sends the provider the very same
    parameters under the same idempotency key."""
    started = hold_expires_at - timedelta(seconds=terms.hold_seconds)
    return max(hold_expires_at, started + timedelta(seconds=MIN_CHECKOUT_SECONDS))


def start_checkout(bookings: BookingRepository, terms: PaymentTerms, booking: Booking, title: str) -> Booking:
    """Make (or find again: the request is idempotent per booking) the checkout of a held booking and store
    it. Raises PaymentUnavailable or PaymentRefused, having stored nothing."""
    payment = booking.payment
    assert payment is not None and payment.hold_expires_at is not None
    deadline = checkout_deadline(payment.hold_expires_at, terms)
    session = terms.provider.create_checkout(
        CheckoutRequest(
            booking_id=booking.id,
            event_id=booking.event_id,
            user_id=booking.user_id,
            title=title,
            amount=payment.amount,
            currency=payment.currency,
            expires_at=int(deadline.timestamp()),
        )
    )
    paid_by = replace(
        payment,
        checkout_session=session.id,
        checkout_url=session.url,
        session_expires_at=datetime.fromtimestamp(session.expires_at, tz=deadline.tzinfo),
    )
    try:
        bookings.attach_checkout(booking, paid_by)
    except StaleWrite:
        pass  # paid, expired or cancelled meanwhile: what it became is what counts, and it is stored
    return replace(booking, payment=paid_by)


def ensure_checkout(bookings: BookingRepository, terms: PaymentTerms, booking: Booking, title: str) -> Booking:
    """A pending booking with its checkout: the stored one, or one made now (the first attempt may have been
    cut short after the hold was stored). Bookings no longer pending are returned as they are."""
    current = bookings.get(booking.id) or booking
    if current.status is not BookingStatus.PENDING_PAYMENT or current.checkout_url is not None:
        return current
    try:
        return start_checkout(bookings, terms, current, title)
    except PaymentUnavailable:
        raise ServiceUnavailable("The payment provider is unavailable; try again.") from None
    except PaymentRefused:
        raise Conflict("The payment provider refused this payment.", "payment_refused") from None


def start_promoted_checkout(
    bookings: BookingRepository, terms: PaymentTerms | None, promoted: Booking, title: str
) -> None:
    """Best effort, after the transaction that promoted a waiting booking into a held seat: its checkout. If
    the provider fails now, the hold runs out unpaid and the seat goes to the next in line."""
    if terms is None or promoted.status is not BookingStatus.PENDING_PAYMENT:
        return
    try:
        start_checkout(bookings, terms, promoted, title)
    except (PaymentUnavailable, PaymentRefused) as exc:
        log.warning("checkout of a promoted booking failed", extra={"fields": _fields(promoted, exc)})


def close_checkout(terms: PaymentTerms | None, booking: Booking) -> None:
    """Best effort, after a pending booking was cancelled: its checkout can no longer be paid. If it was paid
    first, or the provider is unreachable and it is paid later, the payment arrives for a booking without a
    seat and is refunded (services.settlement)."""
    session = booking.payment.checkout_session if booking.payment else None
    if terms is None or session is None:
        return
    try:
        terms.provider.expire_checkout(session)
    except PaymentUnavailable as exc:
        log.warning("closing a checkout failed", extra={"fields": _fields(booking, exc)})


def refund_due(booking: Booking, event: Event | None, principal: Principal, terms: PaymentTerms, now: datetime) -> bool:
    """The refund policy for cancelling a paid, confirmed booking: in full when its owner cancels at least the
    cutoff (24 h by default) before the event starts, or the event has no start time; in full whatever the time
    when the event's creator or staff cancel it, or the event itself was cancelled (or deleted); else nothing."""
    if principal.user_id != booking.user_id or event is None or event.status is EventStatus.CANCELLED:
        return True
    if event.starts_at is None:
        return True
    return now <= event.starts_at - timedelta(seconds=terms.refund_cutoff_seconds)


def cancelled_payment(
    booking: Booking, event: Event | None, principal: Principal, terms: PaymentTerms | None, now: datetime
) -> Payment | None:
    """The payment of `booking` once cancelled: a confirmed paid booking owes a refund or, under the policy,
    keeps the money; others are unchanged."""
    payment = booking.payment
    if payment is None or booking.status is not BookingStatus.CONFIRMED or payment.payment_intent is None:
        return payment
    owed = terms is None or refund_due(booking, event, principal, terms, now)
    return replace(payment, refund_status=RefundStatus.PENDING if owed else RefundStatus.NOT_REFUNDABLE)


def issue_refund(bookings: BookingRepository, terms: PaymentTerms, booking: Booking, now: datetime) -> Booking:
    """Ask the provider for a refund that is owed (once per booking, whatever the number of attempts) and store
    the outcome. Never raises for the provider: a failure leaves the refund owed and retried later."""
    payment = booking.payment
    if payment is None or payment.refund_status is not RefundStatus.PENDING or payment.payment_intent is None:
        return booking
    try:
        refund_id = terms.provider.refund(payment.payment_intent, payment.amount, booking.id)
        settled = replace(booking, payment=replace(payment, refund_status=RefundStatus.SUCCEEDED, refund_id=refund_id))
    except PaymentUnavailable as exc:
        log.warning("refund deferred", extra={"fields": _fields(booking, exc)})
        _postpone(bookings, booking, now)
        return booking
    except PaymentRefused as exc:
        # The provider will not refund this payment (already disputed, say): staff settle it by hand.
        log.error("refund refused", extra={"fields": _fields(booking, exc)})
        settled = replace(booking, payment=replace(payment, refund_status=RefundStatus.FAILED))
    try:
        bookings.settle_refund(booking, settled)
    except StaleWrite:
        return bookings.get(booking.id) or booking  # settled by a parallel attempt
    return settled


def _postpone(bookings: BookingRepository, booking: Booking, now: datetime) -> None:
    # Backoff from the time the refund was first owed: the longer it has failed, the less often it is tried.
    owed_since = booking.cancelled_at or now
    waited = max((now - owed_since).total_seconds(), REFUND_RETRY_SECONDS)
    delay = min(waited, REFUND_RETRY_CAP_SECONDS)
    try:
        bookings.postpone_refund(booking, iso(now + timedelta(seconds=delay)))
    except StaleWrite:
        pass


def _fields(booking: Booking, exc: Exception) -> dict[str, str]:
    return {"booking_id": booking.id, "error": type(exc).__name__, "reason": str(exc)[:200]}
