"""Schemas of booking requests."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictBool, StrictStr

from chalicelib.schemas.validation import InputSchema

# An admission token is a few hundred characters; nothing longer was issued by the queue.
MAX_ADMISSION = 2048


class BookingCreateIn(InputSchema):
    """POST /api/events/<id>/bookings/: `waitlist` asks for a place in the waitlist when the event is full;
    `admission` is the token the event's on-sale queue gave (required once its sales have opened)."""

    waitlist: StrictBool = False
    admission: Annotated[StrictStr, Field(max_length=MAX_ADMISSION)] | None = None


class BookingCancelIn(InputSchema):
    """POST /api/bookings/<id>/cancel/: no fields."""
