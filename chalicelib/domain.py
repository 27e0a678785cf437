"""Entities of the marketplace as plain dataclasses, free of HTTP and DynamoDB."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


class Role(enum.StrEnum):
    """What a signed-in account may do beyond booking."""

    USER = "USER"
    CREATOR = "CREATOR"


class BookingStatus(enum.StrEnum):
    """A booking holds a seat (confirmed), waits for one (waitlisted), or no longer counts (cancelled)."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class EventStatus(enum.StrEnum):
    """Lifecycle of an event; only published events are listed publicly."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds and Z, the API's one timestamp format."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class User:
    """An account; `password_hash` never leaves the server (public shapes omit it)."""

    id: str
    username: str
    email: str
    password_hash: str
    role: Role = Role.USER
    is_staff: bool = False
    is_active: bool = True
    avatar: str | None = None
    date_joined: datetime = field(default_factory=utcnow)
    version: int = 1

    def can_create_events(self) -> bool:
        """Creators and staff publish events."""
        return self.is_staff or self.role is Role.CREATOR

    def with_changes(self, **changes: object) -> User:
        """A copy with `changes` applied and the version bumped."""
        return replace(self, **changes, version=self.version + 1)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Event:
    """A session that a creator publishes and users book."""

    id: str
    title: str
    description: str
    creator: str
    creator_username: str
    created_at: datetime
    updated_at: datetime
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: str = "UTC"
    capacity: int | None = None
    seats_booked: int = 0
    waitlisted: int = 0
    price: Decimal = Decimal("0.00")
    currency: str = "USD"
    location: str = ""
    online_url: str | None = None
    image: str | None = None
    status: EventStatus = EventStatus.PUBLISHED
    version: int = 1

    def with_changes(self, **changes: object) -> Event:
        """A copy with `changes` applied, `updated_at` set and the version bumped."""
        return replace(self, **changes, updated_at=utcnow(), version=self.version + 1)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Booking:
    """A user's seat (or place in the waitlist) at an event."""

    id: str
    event_id: str
    event_creator: str
    user_id: str
    username: str
    status: BookingStatus
    created_at: datetime
    cancelled_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Confirmed and waitlisted bookings count; cancelled ones do not."""
        return self.status is not BookingStatus.CANCELLED


@dataclass(frozen=True)
class StoredResponse:
    """The first answer to an idempotent request, replayed to its retries."""

    fingerprint: str
    status: int
    body: str


@dataclass(frozen=True)
class Page:
    """One page of a list: the items and the key to continue after them (None on the last page)."""

    items: list[Any]
    next_key: dict[str, str] | None
