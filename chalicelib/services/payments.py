"""Paying for a seat: the hold a booking of a paid event takes, its checkout at the provider, and refunds.

A held seat counts in `seats_booked` from the booking transaction on, so payments in flight can never oversell.
The provider is called only after the write that makes its outcome recoverable: the checkout after the hold
exists (a checkout that cannot be made undoes the hold), a refund after the cancellation that owes it is stored
(a refund that fails stays owed, in the index the sweep reads, and is retried)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib import metrics
from chalicelib.domain.bookings import Booking, Payment, Received, RefundPreview
from chalicelib.domain.common import iso, utcnow
from chalicelib.domain.enums import BookingStatus, EventStatus, RefundReason, RefundStatus
from chalicelib.domain.money import major_units, minor_units
from chalicelib.errors import Conflict, ServiceUnavailable
from chalicelib.logs import get_logger
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.payments import (
    CheckoutRequest,
    EventAlreadyApplied,
    PaymentProvider,
    PaymentRefused,
    PaymentUnavailable,
)

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.domain.events import Event
    from chalicelib.ports.bookings import BookingRepository
    from chalicelib.ports.payments import ProviderEvent

# Stripe refuses a Checkout Session that expires sooner than 30 minutes after it is made; the minute on top
# absorbs the difference between our clock and the provider's.
MIN_CHECKOUT_SECONDS = 31 * 60
# A refund the provider could not take is tried again after this long, then twice as long, up to the cap.
REFUND_RETRY_SECONDS = 60
REFUND_RETRY_CAP_SECONDS = 3600

log = get_logger()


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


def close_checkout(bookings: BookingRepository, terms: PaymentTerms | None, released: Booking, ended: Booking) -> bool:
    """After a pending booking (`released`, as it was) was cancelled (`ended`): its checkout can no longer be
    paid. If the provider says it was paid first, that money bought nothing and is refunded now. The cancelling
    transaction left the booking in the index of holds: it leaves once closed, and if the provider cannot be
    reached (or this never runs) the sweep closes the checkout later, and refunds a payment made meanwhile
    should its webhook never come. False when the provider was down."""
    session = released.payment.checkout_session if released.payment else None
    if terms is None or session is None:
        return True
    try:
        state = terms.provider.expire_checkout(session)
    except PaymentUnavailable as exc:
        log.warning("closing a checkout failed", extra={"fields": _fields(released, exc)})
        recheck_checkout(bookings, ended, utcnow())
        return False
    received = state.received()
    try:
        if received is not None:
            refund_late_payment(bookings, terms, ended, received, None)
        else:
            bookings.checkout_closed(ended)  # nothing is owed on it any more
    except (StaleWrite, EventAlreadyApplied):
        pass  # its webhook recorded the payment first (and refunds it), or the sweep closed it meanwhile
    return True


def recheck_checkout(bookings: BookingRepository, ended: Booking, now: datetime) -> None:
    """Have the sweep close the checkout of a cancelled hold later (the provider could not be reached now)."""
    try:
        bookings.recheck_checkout(ended, iso(now + timedelta(seconds=REFUND_RETRY_SECONDS)))
    except StaleWrite:
        pass  # a payment was recorded meanwhile: its refund is owed, and the sweep issues it


# The refund policy, in one place. A payment is refunded in full when:
#   - the event was cancelled (or deleted), whoever cancels the booking and whenever (event_cancelled);
#   - the event's creator or staff cancel the booking, or refund it, whenever (cancelled_by_organizer,
#     refunded_by_organizer);
#   - its owner cancels it at least the cutoff (24 h) before the start, or the event has no start time
#     (before_cutoff, no_start_time); later, nothing is refunded (after_cutoff, the only case kept);
#   - it arrives for a booking that no longer holds its seat: the hold expired or the booking was cancelled
#     before the payment completed (late_payment);
#   - its amount or currency is not the booking's: it never confirms the seat (payment_mismatch).


def refund_policy(
    booking: Booking, event: Event | None, canceller: Principal | None, terms: PaymentTerms, now: datetime
) -> RefundPreview:
    """What cancelling the paid, confirmed `booking` by `canceller` (None: the settlement of its cancelled
    event) at `now` does with its money."""
    if event is None or event.status is EventStatus.CANCELLED or canceller is None:
        return RefundPreview(True, RefundReason.EVENT_CANCELLED)
    if canceller.user_id != booking.user_id:
        return RefundPreview(True, RefundReason.CANCELLED_BY_ORGANIZER)  # only its creator and staff may
    if event.starts_at is None:
        return RefundPreview(True, RefundReason.NO_START_TIME)
    until = event.starts_at - timedelta(seconds=terms.refund_cutoff_seconds)
    if now <= until:
        return RefundPreview(True, RefundReason.BEFORE_CUTOFF, until)
    return RefundPreview(False, RefundReason.AFTER_CUTOFF, until)


def preview(
    booking: Booking, event: Event | None, viewer: Principal, terms: PaymentTerms | None, now: datetime
) -> RefundPreview | None:
    """What `viewer` cancelling `booking` now would do with its money; None when no money is at stake (free,
    waiting, held but unpaid, or no longer active)."""
    if terms is None or not _paid_seat(booking):
        return None
    payment = booking.payment
    assert payment is not None
    currency = payment.paid_currency or payment.currency
    paid = major_units(payment.refund_amount, currency)
    return replace(refund_policy(booking, event, viewer, terms, now), amount=paid, currency=currency)


def _paid_seat(booking: Booking) -> bool:
    payment = booking.payment
    return booking.status is BookingStatus.CONFIRMED and payment is not None and payment.payment_intent is not None


def cancelled_payment(
    booking: Booking, event: Event | None, principal: Principal | None, terms: PaymentTerms | None, now: datetime
) -> Payment | None:
    """The payment of `booking` once cancelled: a confirmed paid booking owes a refund or, under the policy,
    keeps the money; others are unchanged."""
    payment = booking.payment
    if payment is None or not _paid_seat(booking):
        return payment
    owed = terms is None or refund_policy(booking, event, principal, terms, now).full
    return replace(payment, refund_status=RefundStatus.PENDING if owed else RefundStatus.NOT_REFUNDABLE)


def refund_late_payment(
    bookings: BookingRepository, terms: PaymentTerms, booking: Booking, paid: Received, applied: ProviderEvent | None
) -> Booking:
    """Money that bought nothing (the booking had given up its seat, or the amount or currency was wrong):
    record it with its refund owed (once: only while no payment is recorded on the booking), then ask the
    provider for it. Raises StaleWrite or EventAlreadyApplied as BookingRepository.owe_refund does."""
    assert booking.payment is not None
    owed = replace(booking, payment=replace(paid.on(booking.payment), refund_status=RefundStatus.PENDING))
    bookings.owe_refund(booking, owed, applied)
    return issue_refund(bookings, terms, owed, utcnow())


def issue_refund(bookings: BookingRepository, terms: PaymentTerms, booking: Booking, now: datetime) -> Booking:
    """Ask the provider for a refund that is owed (once per booking, whatever the number of attempts) and store
    the outcome. Never raises for the provider: a failure leaves the refund owed and retried later."""
    payment = booking.payment
    if payment is None or payment.refund_status is not RefundStatus.PENDING or payment.payment_intent is None:
        return booking
    try:
        refund_id = terms.provider.refund(payment.payment_intent, payment.refund_amount, booking.id)
        settled = replace(booking, payment=replace(payment, refund_status=RefundStatus.SUCCEEDED, refund_id=refund_id))
        metrics.count(metrics.REFUND_ISSUED)
    except PaymentUnavailable as exc:
        log.warning("refund deferred", extra={"fields": _fields(booking, exc)})
        metrics.count(metrics.REFUND_FAILED, outcome="deferred")
        _postpone(bookings, booking, now)
        return booking
    except PaymentRefused as exc:
        # The provider will not refund this payment (already disputed, say): staff settle it by hand.
        log.error("refund refused", extra={"fields": _fields(booking, exc)})
        metrics.count(metrics.REFUND_FAILED, outcome="refused")
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
