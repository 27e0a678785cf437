"""Schemas of booking requests."""

from __future__ import annotations

from typing import Literal

from pydantic import StrictBool

from chalicelib.schemas.validation import InputSchema, OutputSchema


class BookingCreateIn(InputSchema):
    """POST /api/events/<id>/bookings/: `waitlist` asks for a place in the waitlist when the event is full."""

    waitlist: StrictBool = False


class BookingCancelIn(InputSchema):
    """POST /api/bookings/<id>/cancel/: no fields."""


class BookingPublic(OutputSchema):
    """A booking as its owner, the event's creator and staff see it."""

    id: str
    event: str
    user: str
    username: str
    status: Literal["confirmed", "waitlisted", "cancelled"]
    created_at: str
    cancelled_at: str | None


class BookingList(OutputSchema):
    """A page of bookings."""

    results: list[BookingPublic]
    next: str | None


class EventSummary(OutputSchema):
    """What a list of bookings shows of each event."""

    id: str
    title: str
    starts_at: str | None
    ends_at: str | None
    timezone: str
    location: str
    online_url: str | None
    status: Literal["draft", "published", "cancelled"]


class MyBooking(BookingPublic):
    """One of the caller's bookings with its event (null once the event is deleted)."""

    event_summary: EventSummary | None


class MyBookingList(OutputSchema):
    """A page of the caller's bookings."""

    results: list[MyBooking]
    next: str | None
