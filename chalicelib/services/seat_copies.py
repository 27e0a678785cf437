"""The lists' copy of each event's seat counts (ports.EventRepository.copy_seats), kept by the notifier from the
bookings' stream. A list page is then one Query of an index (the cold start's first request reads nothing else)
and a booking still writes no event item: the copy is written once per event per batch of changes, and only
when its counts moved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.bookings import Booking
from chalicelib.domain.enums import BookingStatus

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from chalicelib.ports.events import EventRepository
    from chalicelib.ports.notices import Change


def _counted(booking: Booking | None) -> str | None:
    """What a booking in this state counts as: a seat, a waiting place, or nothing."""
    if booking is None:
        return None
    if booking.holds_seat:
        return "seat"
    return "waiting" if booking.status is BookingStatus.WAITLISTED else None


def moved(change: Change) -> str | None:
    """The event whose seat counts a booking's change moved; None for any other change."""
    old = change.old if isinstance(change.old, Booking) else None
    new = change.new if isinstance(change.new, Booking) else None
    booking = new or old
    if booking is None or _counted(old) == _counted(new):
        return None
    return booking.event_id


def copy(events: EventRepository, changes: Sequence[Change], now: datetime) -> list[str]:
    """Copy the counts of every event these changes moved; returns the positions of those changes when the
    copy failed (retried with them: copying again is harmless)."""
    from chalicelib.logs import get_logger

    moving = [(change.position, event_id) for change in changes if (event_id := moved(change)) is not None]
    if not moving:
        return []
    try:
        events.copy_seats([event_id for _, event_id in moving], now)
    except Exception as exc:  # noqa: BLE001 - any failure is retried with the batch
        get_logger().warning("seat copy failed", extra={"fields": {"error": type(exc).__name__}})
        return [position for position, _ in moving]
    return []
