"""Settling a cancelled event: every booking it still has is cancelled and every paid one refunded in full, in
bounded batches, until none remain. A durable job: the event's cancellation is committed first (with the number
of bookings to settle, and the event entering the index of settlements due), then the sweep works through the
event's bookings a batch at a time and records how far it got after each batch.

Killed at any point, nothing is lost or done twice: a booking's cancellation and the refund it owes are one
transaction conditional on the booking's status as read, so a batch done again skips what it already settled;
a refund is asked of the provider with the booking's idempotency key, and one not yet asked (or not answered)
stays owed in the index of refunds, which the sweep retries. The settlement ends only when the event's counters
say no booking is active, so a booking the (eventually consistent) index did not show yet is found by another
pass."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.common import iso
from chalicelib.domain.enums import BookingStatus, RefundStatus
from chalicelib.ports.common import StaleWrite
from chalicelib.services import payments
from chalicelib.services.bookings import end_booking

if TYPE_CHECKING:
    from collections import Counter
    from datetime import datetime

    from chalicelib.domain.bookings import Booking
    from chalicelib.domain.events import Event
    from chalicelib.ports.bookings import BookingRepository
    from chalicelib.ports.events import EventRepository
    from chalicelib.services.payments import PaymentTerms

# Bookings read (and settled) per batch; the position is recorded after each.
BATCH = 25
# Events asked of the index at a time.
EVENTS_PAGE = 10
# When a pass ends with bookings still active (an index that lagged), the next pass starts this much later.
REPASS_SECONDS = 30


class Provider:
    """Whether the payment provider is down in this run: once it fails, no more calls are made (what they were
    for stays owed, and is done by a later run)."""

    def __init__(self, terms: PaymentTerms | None) -> None:
        self.terms = terms
        self.down = False

    @property
    def usable(self) -> PaymentTerms | None:
        return None if self.down else self.terms


def settle_due_events(
    events: EventRepository,
    bookings: BookingRepository,
    provider: Provider,
    *,
    deadline: float,
    now: datetime,
    counts: Counter[str],
) -> None:
    """Work on the settlements due at `now`, oldest first, until none is left or the monotonic `deadline`."""
    seen: set[str] = set()
    while time.monotonic() < deadline:
        due = [event_id for event_id in events.settlements_due(iso(now), EVENTS_PAGE) if event_id not in seen]
        if not due:
            return
        for event_id in due:
            seen.add(event_id)
            if time.monotonic() >= deadline:
                return
            settle_event(events, bookings, provider, event_id, deadline=deadline, now=now, counts=counts)


def settle_event(
    events: EventRepository,
    bookings: BookingRepository,
    provider: Provider,
    event_id: str,
    *,
    deadline: float,
    now: datetime,
    counts: Counter[str],
) -> None:
    """Settle one cancelled event's bookings, a batch at a time, from where the last run stopped."""
    event = events.get(event_id)
    if event is None or event.settlement is None or event.settlement.completed_at is not None:
        return
    position = event.settlement.position
    while True:
        page = bookings.list_by_event_part(event_id, parts=event.booking_parts, limit=BATCH, start=position)
        for booking in page.items:
            if time.monotonic() >= deadline:
                return  # this batch is done again next time: what it settled is skipped then
            if booking.active:
                settle_booking(bookings, events, provider, booking, now)
                counts["bookings_settled"] += 1
        position = page.next_key
        if position is None:
            break
        if not _moved_on(events, event, position, iso(now)):
            return
    try:
        events.finish_settlement(event, now)
        counts["events_settled"] += 1
    except StaleWrite:
        # Bookings are still active that the index did not show yet: another pass, a little later (unless
        # another run, working on the same event at the same time, has just finished it).
        if _moved_on(events, event, None, iso(now + timedelta(seconds=REPASS_SECONDS))):
            counts["events_repassed"] += 1


def _moved_on(events: EventRepository, event: Event, position: dict[str, str] | None, next_at: str) -> bool:
    """Record how far the settlement got; False when no settlement is running any more: another run (the sweep
    of another minute, overlapping this one) finished it."""
    try:
        events.save_settlement_position(event, position, next_at)
    except StaleWrite:
        return False
    return True


def settle_booking(
    bookings: BookingRepository, events: EventRepository, provider: Provider, booking: Booking, now: datetime
) -> None:
    """Cancel one booking of a cancelled event, owing a paid one's refund in the same transaction, then close a
    held seat's checkout and ask for the refund (unless the provider is down in this run: then both are left to
    the sweep, durably)."""
    ended = end_booking(bookings, events, None, booking, terms=provider.terms)
    if not ended.committed:
        return
    if ended.released.status is BookingStatus.PENDING_PAYMENT:
        if provider.usable is None:
            payments.recheck_checkout(bookings, ended.cancelled, now)
        elif not payments.close_checkout(bookings, provider.usable, ended.released, ended.cancelled):
            provider.down = True
    terms = provider.usable
    if terms is not None and ended.cancelled.refund_status is RefundStatus.PENDING:
        settled = payments.issue_refund(bookings, terms, ended.cancelled, now)
        provider.down = settled.refund_status is RefundStatus.PENDING
