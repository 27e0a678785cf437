"""Bookings: taking a seat (or a place in the waitlist), cancelling, and the lists of bookings.

The rules that need the current seat count are enforced by the repository's transaction conditions; what
is checked here first only decides which transaction to try and which error to give."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.domain import Booking, BookingStatus, Event, EventStatus, Page, StoredResponse, iso, utcnow
from chalicelib.errors import Conflict, NotFound, PermissionDenied
from chalicelib.ids import is_valid_id, new_id
from chalicelib.security.access import Principal
from chalicelib.services.ports import (
    AlreadyBooked,
    BookingRepository,
    EventChanged,
    EventRepository,
    IdempotencyRepository,
    IdempotentWrite,
    KeyAlreadyUsed,
    StaleWrite,
)

ATTEMPTS = 3
IDEMPOTENCY_SECONDS = 24 * 3600
Render = Callable[[Booking], dict[str, Any]]


@dataclass(frozen=True)
class Idempotency:
    """An Idempotency-Key request: the key (scoped to the caller), what identifies the request, and how to
    render the response to store."""

    key: str
    fingerprint: str
    render: Render
    status: int

    def record(self, booking: Booking) -> IdempotentWrite:
        """The record to write with the transaction that produces `booking`."""
        now = int(time.time())
        body = json.dumps(self.render(booking), separators=(",", ":"), ensure_ascii=False)
        response = StoredResponse(fingerprint=self.fingerprint, status=self.status, body=body)
        return IdempotentWrite(key=self.key, response=response, expires_at=now + IDEMPOTENCY_SECONDS, now=now)


@dataclass(frozen=True)
class Outcome:
    """What a booking request produced: a booking, or the stored first response to replay."""

    booking: Booking | None = None
    replay: StoredResponse | None = None


def fingerprint(user_id: str, method: str, path: str, body: Any) -> str:
    """Identifies a request for idempotency: same caller, same operation, same body."""
    canonical = json.dumps([user_id, method, path.rstrip("/"), body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(records: IdempotencyRepository, idem: Idempotency) -> Outcome:
    stored = records.get(idem.key, int(time.time()))
    if stored is None:
        # Stored a moment ago and already expired: vanishingly rare; the client may simply retry.
        raise Conflict("A request with this Idempotency-Key is being processed; retry.", "conflict")
    if stored.fingerprint != idem.fingerprint:
        raise Conflict("This Idempotency-Key was used for a different request.", "idempotency_key_reused")
    return Outcome(replay=stored)


def _bookable(event: Event | None, principal: Principal) -> Event:
    if event is None or event.status is EventStatus.DRAFT:
        raise NotFound()
    if event.creator == principal.user_id:
        raise PermissionDenied("You cannot book your own event.")
    started = event.starts_at is not None and event.starts_at <= utcnow()
    if event.status is not EventStatus.PUBLISHED or started:
        raise Conflict("This event is not open for booking.", "event_not_bookable")
    return event


def book(
    events: EventRepository,
    bookings: BookingRepository,
    records: IdempotencyRepository,
    principal: Principal,
    event_id: str,
    *,
    waitlist: bool,
    idempotency: Idempotency | None = None,
) -> Outcome:
    """Take a seat at a published, future event; when full, a place in the waitlist if asked for.

    One read (the event) and one transaction in the usual case; a lost race re-reads and retries."""
    event = _bookable(events.get(event_id) if is_valid_id(event_id) else None, principal)
    for _ in range(ATTEMPTS):
        full = event.capacity is not None and event.seats_booked >= event.capacity
        if full and not waitlist:
            raise Conflict("This event is full.", "event_full")
        booking = Booking(
            id=new_id(),
            event_id=event.id,
            event_creator=event.creator,
            user_id=principal.user_id,
            username=principal.username,
            status=BookingStatus.WAITLISTED if full else BookingStatus.CONFIRMED,
            created_at=utcnow(),
        )
        record = idempotency.record(booking) if idempotency else None
        try:
            bookings.add(booking, now=iso(utcnow()), record=record)
            return Outcome(booking=booking)
        except KeyAlreadyUsed:
            assert idempotency is not None
            return _replay(records, idempotency)
        except AlreadyBooked:
            raise Conflict("You already have a booking for this event.", "already_booked") from None
        except EventChanged:
            # Seats were taken or freed, or the event was cancelled, since it was read.
            event = _bookable(events.get(event_id), principal)
    raise Conflict("The event is changing quickly; try again.", "conflict")


def _visible_booking(bookings: BookingRepository, booking_id: str, principal: Principal) -> Booking:
    booking = bookings.get(booking_id) if is_valid_id(booking_id) else None
    allowed = booking is not None and (
        principal.is_staff or principal.user_id in (booking.user_id, booking.event_creator)
    )
    if booking is None or not allowed:
        raise NotFound()  # other people's bookings are not even confirmed to exist
    return booking


def cancel(
    bookings: BookingRepository,
    records: IdempotencyRepository,
    principal: Principal,
    booking_id: str,
    *,
    idempotency: Idempotency | None = None,
) -> Outcome:
    """Cancel a booking (its owner, the event's creator or staff); a freed seat goes to the oldest waiting
    booking in the same transaction. Cancelling twice is harmless."""
    booking = _visible_booking(bookings, booking_id, principal)
    for _ in range(ATTEMPTS):
        if not booking.active:
            if idempotency is not None and records.get(idempotency.key, int(time.time())) is not None:
                return _replay(records, idempotency)
            return Outcome(booking=booking)
        promote = bookings.oldest_waitlisted(booking.event_id) if booking.status is BookingStatus.CONFIRMED else None
        cancelled = replace(booking, status=BookingStatus.CANCELLED, cancelled_at=utcnow())
        record = idempotency.record(cancelled) if idempotency else None
        try:
            bookings.cancel(booking, cancelled, promote, record)
            return Outcome(booking=cancelled)
        except KeyAlreadyUsed:
            assert idempotency is not None
            return _replay(records, idempotency)
        except StaleWrite:
            refreshed = bookings.get(booking.id)
            if refreshed is None:
                raise NotFound() from None
            booking = refreshed
    raise Conflict("The booking is changing quickly; try again.", "conflict")


def my_bookings(
    bookings: BookingRepository,
    events: EventRepository,
    principal: Principal,
    *,
    limit: int,
    start: dict[str, str] | None,
) -> tuple[Page, dict[str, Event]]:
    """The caller's bookings, newest first, with their events (one query and one batch read)."""
    page = bookings.list_by_user(principal.user_id, limit=limit, start=start)
    return page, events.get_many([b.event_id for b in page.items])


def event_bookings(
    bookings: BookingRepository,
    events: EventRepository,
    principal: Principal,
    event_id: str,
    *,
    limit: int,
    start: dict[str, str] | None,
) -> Page:
    """The bookings of an event, newest first: for its creator and staff."""
    event = events.get(event_id) if is_valid_id(event_id) else None
    if event is None or (
        event.status is EventStatus.DRAFT and not (principal.is_staff or principal.user_id == event.creator)
    ):
        raise NotFound()
    if not (principal.is_staff or principal.user_id == event.creator):
        raise PermissionDenied()
    return bookings.list_by_event(event_id, limit=limit, start=start)
