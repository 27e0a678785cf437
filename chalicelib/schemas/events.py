"""Schemas of events: separate create, update and public shapes."""

from __future__ import annotations

from typing import ClassVar, Literal

from chalicelib.schemas.fields import (
    Capacity,
    Category,
    City,
    Currency,
    Description,
    HttpsUrl,
    Location,
    NoImageYet,
    Online,
    Price,
    SeatShards,
    Tags,
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
    category: Category = None
    tags: Tags = ()
    # Left out: taken from the location (city) and the online link or location (online), see domain.search.
    city: City | None = None
    online: Online | None = None
    # When sales open: bookings then need an admission from the event's on-sale queue (null: no queue).
    sales_open_at: When = None
    # Seat counters for a popular event's on-sale (left out: one per 300 seats, docs/dynamodb.md).
    seat_shards: SeatShards | None = None


class EventUpdateIn(InputSchema):
    """PATCH /api/events/<id>/: any subset of the writable fields."""

    read_only_fields: ClassVar[frozenset[str]] = EVENT_READ_ONLY
    not_null_fields: ClassVar[frozenset[str]] = frozenset(
        {
            "title",
            "description",
            "timezone",
            "price",
            "currency",
            "location",
            "status",
            "tags",
            "city",
            "online",
            "seat_shards",
        }
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
    category: Category = None
    tags: Tags | None = None
    city: City | None = None
    online: Online | None = None
    # When sales open: bookings then need an admission from the event's on-sale queue (null: no queue).
    sales_open_at: When = None
    seat_shards: SeatShards | None = None
