"""Schemas of events: separate create, update and public shapes."""

from __future__ import annotations

from typing import ClassVar, Literal

from chalicelib.schemas.fields import (
    Capacity,
    Currency,
    Description,
    HttpsUrl,
    Location,
    NoImageYet,
    Price,
    TimeZoneName,
    Title,
    UploadId,
    When,
)
from chalicelib.schemas.validation import InputSchema

EVENT_READ_ONLY = frozenset({"id", "creator", "creator_username", "created_at", "updated_at", "seats_booked"})


class EventCreateIn(InputSchema):
    """POST /api/events/: a new event; cancelling is an edit, not a starting state."""

    read_only_fields: ClassVar[frozenset[str]] = EVENT_READ_ONLY
    title: Title
    description: Description
    starts_at: When = None
    ends_at: When = None
    timezone: TimeZoneName = "UTC"
    capacity: Capacity = None
    price: Price | None = None
    currency: Currency = "USD"
    location: Location = ""
    online_url: HttpsUrl = None
    image: NoImageYet = None
    status: Literal["draft", "published"] = "published"


class EventUpdateIn(InputSchema):
    """PATCH /api/events/<id>/: any subset of the writable fields."""

    read_only_fields: ClassVar[frozenset[str]] = EVENT_READ_ONLY
    not_null_fields: ClassVar[frozenset[str]] = frozenset(
        {"title", "description", "timezone", "price", "currency", "location", "status"}
    )
    title: Title | None = None
    description: Description | None = None
    starts_at: When = None
    ends_at: When = None
    timezone: TimeZoneName | None = None
    capacity: Capacity = None
    price: Price | None = None
    currency: Currency | None = None
    location: Location | None = None
    online_url: HttpsUrl = None
    image: UploadId = None
    status: Literal["draft", "published", "cancelled"] | None = None
