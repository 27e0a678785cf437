"""Bookings: taking a seat (or a place in the waitlist), cancelling, and the lists of bookings.

The rules that need the current seat count are enforced by the repository's transaction conditions; what
is checked here first only decides which transaction to try and which error to give."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chalicelib import metrics
from chalicelib.domain.bookings import Booking, BookingResult
from chalicelib.domain.common import Page, iso, utcnow
from chalicelib.domain.enums import AuditAction, BookingStatus, CancelReason, EventStatus, RefundStatus
from chalicelib.errors import AdmissionRequired, Busy, Conflict, NotFound, PermissionDenied, ServiceUnavailable
from chalicelib.ids import is_valid_id, new_id
from chalicelib.ports.bookings import (
    AlreadyBooked,
    BookingRepository,
    EventChanged,
    IdempotencyRepository,
    IdempotentWrite,
    KeyAlreadyUsed,
    Promotion,
    StoredResult,
)
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.payments import PaymentRefused, PaymentUnavailable
from chalicelib.services import payments
from chalicelib.services.audit import Changes, entry, on_behalf_of_others

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from chalicelib.domain.access import Principal
    from chalicelib.domain.events import Event
    from chalicelib.ports.events import EventRepository
    from chalicelib.services.payments import PaymentTerms
    from chalicelib.services.queue import Admission

ATTEMPTS = 3
IDEMPOTENCY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class IdempotentRequest:
    """A request sent with an Idempotency-Key: the client's key and the (validated) body it came with."""

    key: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Idempotency:
    """The caller's key and the fingerprint its stored result is bound to."""

    key: str
    fingerprint: str

    @classmethod
    def of(cls, principal: Principal, operation: str, target: str, request: IdempotentRequest) -> Idempotency:
        """Scope the client's key to the caller and bind it to the operation, its resource and its body."""
        return cls(
            key=f"{principal.user_id}#{request.key}",
            fingerprint=fingerprint(principal.user_id, operation, target, request.payload),
        )

    def record(self, result: BookingResult) -> IdempotentWrite:
        """The record to write in the same transaction as the change that produces `result`."""
        now = int(time.time())
        return IdempotentWrite(
            key=self.key,
            stored=StoredResult(fingerprint=self.fingerprint, result=result),
            expires_at=now + IDEMPOTENCY_SECONDS,
            now=now,
        )

    def replay(self, stored: StoredResult) -> BookingResult:
        """The stored result, if it answers this very request."""
        if stored.fingerprint != self.fingerprint:
            raise Conflict("This Idempotency-Key was used for a different request.", "idempotency_key_reused")
        return replace(stored.result, replayed=True)


def fingerprint(user_id: str, operation: str, target: str, payload: dict[str, Any]) -> str:
    """What a stored result is bound to: the caller, the operation, the resource it acts on and the body.
    The same key sent for another resource or body is another request, refused rather than replayed."""
    canonical = json.dumps([user_id, operation, target, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _stored(records: IdempotencyRepository, idem: Idempotency) -> BookingResult:
    stored = records.get(idem.key, int(time.time()))
    if stored is None:
        # Stored a moment ago and already expired: vanishingly rare; the client may simply retry.
        raise Conflict("A request with this Idempotency-Key is being processed; retry.", "conflict")
    return idem.replay(stored)


def _answered_before(
    records: IdempotencyRepository, idem: Idempotency | None, refusal: Conflict | AdmissionRequired
) -> BookingResult:
    """A retry of a request that succeeded meets the state that success created (the seat it took, an event
    now full): its stored result answers it, not the refusal. Read only on this refusal path."""
    stored = records.get(idem.key, int(time.time())) if idem is not None else None
    if idem is None or stored is None:
        raise refusal
    return idem.replay(stored)


def _bookable(event: Event | None, principal: Principal) -> Event:
    if event is None or not event.visible_to(principal):
        raise NotFound()
    if event.creator == principal.user_id:
        raise PermissionDenied("You cannot book your own event.")
    started = event.starts_at is not None and event.starts_at <= utcnow()
    if event.status is not EventStatus.PUBLISHED or started:
        raise Conflict("This event is not open for booking.", "event_not_bookable")
    return event


def _status_for(bookings: BookingRepository, event: Event, principal: Principal, waitlist: bool) -> BookingStatus:
    """The status a new booking would get now (a seat at a paid event is held until paid); a full event
    refuses unless a waitlist place is asked for."""
    if event.capacity is None or event.seats_booked < event.capacity:
        return BookingStatus.PENDING_PAYMENT if event.paid else BookingStatus.CONFIRMED
    if waitlist:
        return BookingStatus.WAITLISTED
    # Someone who already holds a place must hear that, not that the event is full.
    if bookings.active_status(event.id, principal.user_id) is not None:
        raise Conflict("You already have a booking for this event.", "already_booked")
    raise Conflict("This event is full.", "event_full")


def book(
    events: EventRepository,
    bookings: BookingRepository,
    records: IdempotencyRepository,
    principal: Principal,
    event_id: str,
    *,
    waitlist: bool,
    request: IdempotentRequest | None = None,
    terms: PaymentTerms | None = None,
    admission: Admission | None = None,
) -> BookingResult:
    """Take a seat at a published, future event; when full, a place in the waitlist if asked for. At a paid
    event the seat is held (pending payment) and the answer carries the checkout to pay it through. Once an
    event's sales have opened, only with an `admission` from its queue (services.queue.require_admission).

    One read (the event) and one transaction in the usual case; a lost race re-reads and retries. A paid seat
    then makes its checkout at the provider and stores it (one more write)."""
    idem = Idempotency.of(principal, "book", event_id, request) if request else None
    try:
        result = _book(events, bookings, principal, event_id, waitlist, idem, terms, admission)
    except KeyAlreadyUsed:
        assert idem is not None
        result = _stored(records, idem)
    except (Conflict, AdmissionRequired) as refusal:
        result = _answered_before(records, idem, refusal)
    if not result.replayed:
        metrics.count(metrics.BOOKING_CREATED)
    if result.replayed and result.booking.status is BookingStatus.PENDING_PAYMENT and terms is not None:
        # The first answer was stored with the hold, before its checkout existed: complete it from the booking.
        title = result.event.title if result.event else ""
        result = replace(result, booking=payments.ensure_checkout(bookings, terms, result.booking, title))
    return result


def _book(
    events: EventRepository,
    bookings: BookingRepository,
    principal: Principal,
    event_id: str,
    waitlist: bool,
    idem: Idempotency | None,
    terms: PaymentTerms | None,
    admission: Admission | None = None,
) -> BookingResult:
    # Read eventually consistent (half the cost, and any replica: a popular event's booking rush reads its
    # items thousands of times a second): the transaction re-checks the seat counter, and a refusal re-reads.
    event = _bookable(events.get(event_id, consistent=False) if is_valid_id(event_id) else None, principal)
    if event.sales_open_at is not None:
        from chalicelib.services.queue import require_admission

        require_admission(event, principal.user_id, admission)
    for _ in range(ATTEMPTS):
        status = _status_for(bookings, event, principal, waitlist)
        now = utcnow()
        payment = None
        if status is BookingStatus.PENDING_PAYMENT:
            if terms is None:
                raise ServiceUnavailable("Payments are not configured.")
            payment = payments.hold(event, terms, now)
        booking = Booking(
            id=new_id(),
            event_id=event.id,
            event_creator=event.creator,
            user_id=principal.user_id,
            username=principal.username,
            status=status,
            created_at=now,
            payment=payment,
        )
        result = BookingResult(booking, event.shown_to(principal, holds_seat=booking.confirmed))
        try:
            # The store says which seat counter took the seat: a withdrawal gives it back there.
            booking = bookings.add(
                booking, now=iso(now), record=idem.record(result) if idem else None, shards=event.seat_shards
            )
        except AlreadyBooked:
            raise Conflict("You already have a booking for this event.", "already_booked") from None
        except EventChanged:
            # Seats were taken or freed, or the event was cancelled, since it was read.
            event = _bookable(events.get(event_id), principal)
            continue
        if terms is None or status is not BookingStatus.PENDING_PAYMENT:
            return result
        return replace(result, booking=_checkout_or_withdraw(bookings, events, terms, booking, event, idem))
    raise Busy("The event is changing quickly; try again in a moment.")


def _checkout_or_withdraw(
    bookings: BookingRepository,
    events: EventRepository,
    terms: PaymentTerms,
    booking: Booking,
    event: Event,
    idem: Idempotency | None,
) -> Booking:
    """The checkout of a new hold; when the provider cannot make one, the hold is undone (booking, marker,
    seat and stored result: the refused request wrote nothing) and the client told to retry. Should undoing
    fail too, the hold runs out and the sweep frees it, and a retry with the same key completes the checkout."""
    try:
        return payments.start_checkout(bookings, terms, booking, event.title)
    except (PaymentUnavailable, PaymentRefused) as exc:
        try:
            fresh = events.get(event.id) or event
            promotion = next_in_line(bookings, booking, fresh, terms, utcnow())
            bookings.withdraw(booking, promotion, idem.key if idem else None)
            if promotion is not None:
                payments.start_promoted_checkout(bookings, terms, promotion.promoted, fresh.title)
        except (StaleWrite, ServiceUnavailable, Conflict):
            pass
        if isinstance(exc, PaymentRefused):
            raise Conflict("The payment provider refused this payment.", "payment_refused") from None
        raise ServiceUnavailable("The payment provider is unavailable; try again.") from None


def _visible_booking(bookings: BookingRepository, booking_id: str, principal: Principal) -> Booking:
    booking = bookings.get(booking_id) if is_valid_id(booking_id) else None
    if booking is None or not booking.visible_to(principal):
        raise NotFound()  # other people's bookings are not even confirmed to exist
    return booking


def cancel(
    bookings: BookingRepository,
    events: EventRepository,
    records: IdempotencyRepository,
    principal: Principal,
    booking_id: str,
    *,
    request: IdempotentRequest | None = None,
    terms: PaymentTerms | None = None,
) -> BookingResult:
    """Cancel a booking (its owner, the event's creator or staff); a freed seat goes to the oldest waiting
    booking in the same transaction (never at a cancelled event). Cancelling twice is harmless. A confirmed paid
    booking is refunded as the policy says (services.payments.refund_policy): the refund is owed in the
    cancelling transaction and asked of the provider after it, and retried by the sweep if the provider fails."""
    idem = Idempotency.of(principal, "cancel", booking_id, request) if request else None
    booking = _visible_booking(bookings, booking_id, principal)
    if not booking.active and idem is not None:
        # The cancellation may have been this very request, retried: its stored result answers.
        stored = records.get(idem.key, int(time.time()))
        if stored is not None:
            return idem.replay(stored)
    try:
        result = _cancel(bookings, events, principal, booking, idem, terms, AuditAction.BOOKING_CANCEL)
    except KeyAlreadyUsed:
        assert idem is not None
        result = _stored(records, idem)
    return replace(result, booking=result.booking.shown_to(principal))


def refund(
    bookings: BookingRepository,
    events: EventRepository,
    principal: Principal,
    booking_id: str,
    *,
    terms: PaymentTerms | None,
) -> BookingResult:
    """The event's creator or staff refund a paid booking in full without waiting for its owner: a confirmed one
    is cancelled (its seat freed, or passed on, and its refund owed in the same transaction); one its owner
    cancelled too late to be refunded gets its refund now. Staff acting on someone else's booking are audited.
    409 `nothing_to_refund` when no payment is kept (free, unpaid, already refunded or being refunded)."""
    booking = _visible_booking(bookings, booking_id, principal)
    if not (principal.is_staff or principal.user_id == booking.event_creator):
        raise PermissionDenied()
    payment = booking.payment
    if terms is None:
        raise ServiceUnavailable("Payments are not configured.")
    if payment is None or payment.payment_intent is None:
        raise Conflict("This booking has no payment to refund.", "nothing_to_refund")
    if booking.confirmed:
        result = _cancel(bookings, events, principal, booking, None, terms, AuditAction.BOOKING_REFUND)
        return replace(result, booking=result.booking.shown_to(principal))
    for _ in range(ATTEMPTS):
        if payment is None or payment.refund_status is not RefundStatus.NOT_REFUNDABLE:
            raise Conflict("This booking's payment is already refunded, or being refunded.", "nothing_to_refund")
        owed = replace(booking, payment=replace(payment, refund_status=RefundStatus.PENDING))
        audit = None
        if on_behalf_of_others(principal, booking.user_id):
            changes = {"refund_status": (RefundStatus.NOT_REFUNDABLE.value, RefundStatus.PENDING.value)}
            audit = entry(principal, AuditAction.BOOKING_REFUND, booking.id, changes)
        try:
            bookings.grant_refund(booking, owed, audit)
        except StaleWrite:
            booking = _reread(bookings, booking)
            payment = booking.payment
            continue
        settled = payments.issue_refund(bookings, terms, owed, utcnow())
        event = events.get(booking.event_id)
        return BookingResult(settled.shown_to(principal), event.shown_to(principal) if event else None)
    raise Busy("The booking is changing quickly; try again in a moment.")


def cancel_reason(booking: Booking, event: Event | None, canceller: Principal | None) -> CancelReason:
    """Why a booking is cancelled: its event was (or is gone), or who cancels it (None: the settlement of a
    cancelled event)."""
    if event is None or event.status is EventStatus.CANCELLED or canceller is None:
        return CancelReason.EVENT_CANCELLED
    if canceller.user_id == booking.user_id:
        return CancelReason.OWNER
    if canceller.user_id == event.creator:
        return CancelReason.ORGANIZER
    return CancelReason.STAFF


@dataclass(frozen=True)
class Ended:
    """A cancellation once committed: the booking as it was (`released`) and as it is now, its event as read,
    and the waiting booking that took its seat, if any. `committed` is False when the booking was found no
    longer active (then `released` and `cancelled` are both the booking as read)."""

    released: Booking
    cancelled: Booking
    event: Event | None
    promotion: Promotion | None
    committed: bool = True


def end_booking(
    bookings: BookingRepository,
    events: EventRepository,
    canceller: Principal | None,
    booking: Booking,
    *,
    terms: PaymentTerms | None,
    record: Callable[[BookingResult], IdempotentWrite | None] | None = None,
    action: AuditAction = AuditAction.BOOKING_CANCEL,
) -> Ended:
    """The cancelling transaction of an active booking, retried on a lost race (`committed` False when the
    booking turns out no longer active). No provider call: the caller closes checkouts and asks for refunds
    afterwards."""
    for _ in range(ATTEMPTS):
        event = events.get(booking.event_id)
        if not booking.active:
            return Ended(booking, booking, event, None, committed=False)
        now = utcnow()
        payment = payments.cancelled_payment(booking, event, canceller, terms, now)
        reason = cancel_reason(booking, event, canceller)
        cancelled = replace(
            booking, status=BookingStatus.CANCELLED, cancelled_at=now, payment=payment, cancel_reason=reason
        )
        shown = event.shown_to(canceller) if event else None
        stored = record(BookingResult(cancelled, shown)) if record is not None else None
        promotion = next_in_line(bookings, booking, event, terms, now)
        audit = None
        if canceller is not None and on_behalf_of_others(canceller, booking.user_id):
            changes: Changes = {"status": (booking.status.value, cancelled.status.value)}
            if payment is not None and payment.refund_status is not None and action is AuditAction.BOOKING_REFUND:
                changes["refund_status"] = (None, payment.refund_status.value)
            audit = entry(canceller, action, booking.id, changes)
        try:
            bookings.cancel(booking, cancelled, promotion, stored, audit)
        except StaleWrite:
            booking = _reread(bookings, booking)
            continue
        return Ended(booking, cancelled, event, promotion)
    raise Busy("The booking is changing quickly; try again in a moment.")


def _cancel(
    bookings: BookingRepository,
    events: EventRepository,
    principal: Principal,
    booking: Booking,
    idem: Idempotency | None,
    terms: PaymentTerms | None,
    action: AuditAction,
) -> BookingResult:
    ended = end_booking(
        bookings, events, principal, booking, terms=terms, record=idem.record if idem else None, action=action
    )
    if not ended.committed:
        return BookingResult(ended.cancelled, ended.event.shown_to(principal) if ended.event else None)
    after_release(bookings, terms, ended)
    cancelled = ended.cancelled
    if terms is not None:
        cancelled = payments.issue_refund(bookings, terms, cancelled, utcnow())
    return BookingResult(cancelled, ended.event.shown_to(principal) if ended.event else None)


def next_in_line(
    bookings: BookingRepository, booking: Booking, event: Event | None, terms: PaymentTerms | None, now: datetime
) -> Promotion | None:
    """The waiting booking that takes the seat `booking` frees, and what it becomes: confirmed, or at a paid
    event held pending its own payment. Nobody is promoted at a cancelled event (its waiting bookings are being
    cancelled too). The event's counter says whether to look; if it is stale, the transaction's `waitlisted = 0`
    condition fails and the caller retries."""
    if not booking.holds_seat or event is None or event.waitlisted == 0 or event.status is EventStatus.CANCELLED:
        return None
    waiting = bookings.oldest_waitlisted(booking.event_id)
    if waiting is None:
        return None
    if event.paid and terms is not None:
        try:
            payment = payments.hold(event, terms, now)
        except Conflict:
            return None  # a price its currency cannot carry: the seat is freed instead of promised
        return Promotion(waiting, replace(waiting, status=BookingStatus.PENDING_PAYMENT, payment=payment))
    return Promotion(waiting, replace(waiting, status=BookingStatus.CONFIRMED))


def after_release(bookings: BookingRepository, terms: PaymentTerms | None, ended: Ended) -> None:
    """Best-effort provider calls once a seat was released: close the released hold's checkout, open the
    promoted booking's. A provider out of reach is not an error here: the sweep closes the checkout later, and a
    promoted hold without one runs out and passes the seat on (payments.start_promoted_checkout)."""
    if ended.released.status is BookingStatus.PENDING_PAYMENT:
        payments.close_checkout(bookings, terms, ended.released, ended.cancelled)
    if ended.promotion is not None and ended.event is not None:
        payments.start_promoted_checkout(bookings, terms, ended.promotion.promoted, ended.event.title)


def _reread(bookings: BookingRepository, booking: Booking) -> Booking:
    refreshed = bookings.get(booking.id)
    if refreshed is None:
        raise NotFound()
    return refreshed


def my_bookings(
    bookings: BookingRepository,
    events: EventRepository,
    principal: Principal,
    *,
    limit: int,
    start: dict[str, str] | None,
    terms: PaymentTerms | None = None,
) -> Page:
    """The caller's bookings (BookingResult items), newest first, with their events (one query and one batch
    read), and what cancelling each now would do with its money."""
    page = bookings.list_by_user(principal.user_id, limit=limit, start=start)
    found = events.get_many([b.event_id for b in page.items])
    now = utcnow()
    items = []
    for booking in page.items:
        event = found.get(booking.event_id)
        shown = event.shown_to(principal, holds_seat=booking.confirmed) if event else None
        preview = payments.preview(booking, event, principal, terms, now)
        items.append(BookingResult(booking, shown, refund_if_cancelled=preview))
    return Page(items=items, next_key=page.next_key)


def event_bookings(
    bookings: BookingRepository,
    events: EventRepository,
    principal: Principal,
    event_id: str,
    *,
    limit: int,
    start: dict[str, str] | None,
    terms: PaymentTerms | None = None,
) -> Page:
    """The bookings of an event (BookingResult items), newest first: for its creator and staff."""
    event = events.get(event_id) if is_valid_id(event_id) else None
    if event is None or not event.visible_to(principal):
        raise NotFound()
    if not event.managed_by(principal):
        raise PermissionDenied()
    page = bookings.list_by_event(event_id, parts=event.booking_parts, limit=limit, start=start)
    now = utcnow()
    return Page(
        items=[
            BookingResult(
                b.shown_to(principal), event, refund_if_cancelled=payments.preview(b, event, principal, terms, now)
            )
            for b in page.items
        ],
        next_key=page.next_key,
    )
