"""Interfaces the services need from persistence; DynamoDB implements them (chalicelib.persistence), unit
tests fake them (tests/support/fakes.py). Each method's docstring names the failures it may raise."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.domain import Booking, BookingResult, BookingStatus, Event, Page, User


class UniqueViolation(Exception):
    """A username or email is already taken; `fields` names which."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


class StaleWrite(Exception):
    """The item changed since it was read (optimistic concurrency), or no longer exists."""


class AlreadyBooked(Exception):
    """The user already holds an active booking for the event."""


class EventChanged(Exception):
    """The event no longer matches what the booking was decided on (full, freed up, cancelled, started)."""


class KeyAlreadyUsed(Exception):
    """An unexpired response is already stored under this idempotency key."""


@dataclass(frozen=True)
class StoredResult:
    """The first result of an idempotent request and what identifies that request."""

    fingerprint: str
    result: BookingResult


@dataclass(frozen=True)
class IdempotentWrite:
    """The result to store under `key`, in the same transaction as the write that produces it."""

    key: str
    stored: StoredResult
    expires_at: int
    now: int


class UserRepository(Protocol):
    """Accounts, with username and email unique regardless of case."""

    def get(self, user_id: str) -> User | None: ...

    def get_by_username(self, username: str) -> User | None: ...

    def add(self, user: User) -> None:
        """Store a new user; raises UniqueViolation when the username or email is taken."""

    def save(self, old: User, new: User) -> None:
        """Replace `old` by `new` if unchanged since read; moves the email marker when the email changes."""


class EventRepository(Protocol):
    """Events and the lists the API shows of them."""

    def get(self, event_id: str) -> Event | None: ...

    def get_with_seat(self, event_id: str, user_id: str) -> tuple[Event | None, BookingStatus | None]:
        """The event and the status of `user_id`'s active booking for it (None without one), read together
        in one request."""

    def get_many(self, event_ids: list[str]) -> dict[str, Event]: ...

    def add(self, event: Event) -> None: ...

    def save(self, old: Event, new: Event) -> None:
        """Replace `old` by `new` if unchanged since read (StaleWrite otherwise)."""

    def delete(self, event: Event) -> None:
        """Delete if unchanged since read and without booked seats (StaleWrite otherwise)."""

    def list_published(
        self, *, limit: int, start: dict[str, str] | None, creator: str | None, starts_from: str | None
    ) -> Page: ...

    def list_by_creator(self, creator: str, *, limit: int, start: dict[str, str] | None) -> Page: ...


class BookingRepository(Protocol):
    """Bookings; every write keeps the event's seat counters and the active-booking marker in step."""

    def get(self, booking_id: str) -> Booking | None: ...

    def add(self, booking: Booking, *, now: str, record: IdempotentWrite | None) -> None:
        """Store a confirmed or waitlisted booking and count it on its event, in one transaction.

        Raises AlreadyBooked, EventChanged (the event's state no longer allows this status) or KeyAlreadyUsed."""

    def cancel(
        self, booking: Booking, cancelled: Booking, promote: Booking | None, record: IdempotentWrite | None
    ) -> None:
        """Cancel `booking` (unchanged since read) and, for a confirmed one, confirm `promote` in its seat
        (or, with no `promote`, free the seat only while nobody waits).

        Raises StaleWrite when any of them changed, KeyAlreadyUsed as `add` does."""

    def oldest_waitlisted(self, event_id: str) -> Booking | None: ...

    def active_status(self, event_id: str, user_id: str) -> BookingStatus | None:
        """The status of the user's active booking for the event, None without one."""

    def list_by_user(self, user_id: str, *, limit: int, start: dict[str, str] | None) -> Page: ...

    def list_by_event(self, event_id: str, *, limit: int, start: dict[str, str] | None) -> Page: ...


class IdempotencyRepository(Protocol):
    """Results stored by idempotency key."""

    def get(self, key: str, now: int) -> StoredResult | None:
        """The unexpired result under `key`, if any."""
