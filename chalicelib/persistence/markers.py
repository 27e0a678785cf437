"""Booking markers: the one item per user and event that makes a second active booking impossible."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.enums import BookingStatus

if TYPE_CHECKING:
    from chalicelib.persistence.models.uniques import UniqueModel


def booking_key(event_id: str, user_id: str) -> str:
    """Marker key of a user's active booking for an event: at most one can exist."""
    return f"BOOKING#{event_id}#{user_id}"


def marker_status(marker: UniqueModel | None) -> BookingStatus | None:
    """The status a booking marker records (None without a marker)."""
    if marker is None:
        return None
    # Markers written before they carried a status are of confirmed or waitlisted bookings: the cautious
    # reading is "waiting", which never reveals a paid event's link to someone without a seat.
    return BookingStatus(marker.status) if marker.status else BookingStatus.WAITLISTED
