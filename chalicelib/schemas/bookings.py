"""Schemas of booking requests."""

from __future__ import annotations

from pydantic import StrictBool

from chalicelib.schemas.validation import InputSchema


class BookingCreateIn(InputSchema):
    """POST /api/events/<id>/bookings/: `waitlist` asks for a place in the waitlist when the event is full."""

    waitlist: StrictBool = False


class BookingCancelIn(InputSchema):
    """POST /api/bookings/<id>/cancel/: no fields."""
