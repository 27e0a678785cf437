"""Interfaces the services need from persistence; DynamoDB implements them (chalicelib.persistence), unit
tests fake them (tests/support/fakes.py). Each method's docstring names the failures it may raise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.domain import AuditEntry, Booking, BookingResult, BookingStatus, Event, EventStatus, Page, Role, User


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


@dataclass(frozen=True)
class UserQuery:
    """The staff's list of users: any combination of filters, and a search term already normalized with
    `domain.identity`. The term matches a prefix of the username and, once it holds an `@`, of the e-mail."""

    search: str | None = None
    role: Role | None = None
    is_staff: bool | None = None
    is_active: bool | None = None

    @property
    def searches_email(self) -> bool:
        """Whether e-mail addresses are searched too: only a term that reaches the `@` (see the README)."""
        return self.search is not None and "@" in self.search

    def filters_match(self, user: User) -> bool:
        """Whether `user` passes the filters (the search term aside)."""
        return (
            (self.role is None or user.role is self.role)
            and (self.is_staff is None or user.is_staff is self.is_staff)
            and (self.is_active is None or user.is_active is self.is_active)
        )


class UserRepository(Protocol):
    """Accounts, with username and email unique regardless of case."""

    def get(self, user_id: str) -> User | None: ...

    def get_by_username(self, username: str) -> User | None: ...

    def add(self, user: User, audit: AuditEntry | None = None) -> None:
        """Store a new user (and `audit`, in the same transaction); raises UniqueViolation when the username or
        email is taken."""

    def save(self, old: User, new: User, audit: AuditEntry | None = None) -> None:
        """Replace `old` by `new` if unchanged since read (StaleWrite otherwise); moves the email marker when the
        email changes (UniqueViolation when taken); stores `audit` in the same transaction."""

    def record_login(self, user_id: str, at: datetime) -> None:
        """Set the user's `last_login` (a change of the account: concurrent saves of it start over)."""

    def list_users(self, query: UserQuery, *, limit: int, start: dict[str, str] | None) -> Page:
        """Users matching `query` in the order of the name that matched (the username, or for a user found only
        by e-mail, the e-mail). A page may hold fewer than `limit` users while `next_key` is set."""


class EventRepository(Protocol):
    """Events and the lists the API shows of them."""

    def get(self, event_id: str) -> Event | None: ...

    def get_with_seat(self, event_id: str, user_id: str) -> tuple[Event | None, BookingStatus | None]:
        """The event and the status of `user_id`'s active booking for it (None without one), read together
        in one request."""

    def get_many(self, event_ids: list[str]) -> dict[str, Event]: ...

    def add(self, event: Event) -> None: ...

    def save(self, old: Event, new: Event, audit: AuditEntry | None = None) -> None:
        """Replace `old` by `new` if unchanged since read (StaleWrite otherwise), with `audit` in the same
        transaction."""

    def delete(self, event: Event, audit: AuditEntry | None = None) -> None:
        """Delete if unchanged since read and without booked seats (StaleWrite otherwise), with `audit` in the
        same transaction."""

    def list_published(
        self, *, limit: int, start: dict[str, str] | None, creator: str | None, starts_from: str | None
    ) -> Page: ...

    def list_by_creator(self, creator: str, *, limit: int, start: dict[str, str] | None) -> Page: ...

    def list_all(
        self, *, status: EventStatus | None, creator: str | None, limit: int, start: dict[str, str] | None
    ) -> Page:
        """Events of every status (or of `status`), of everyone (or of `creator`), newest first."""


class BookingRepository(Protocol):
    """Bookings; every write keeps the event's seat counters and the active-booking marker in step."""

    def get(self, booking_id: str) -> Booking | None: ...

    def add(self, booking: Booking, *, now: str, record: IdempotentWrite | None) -> None:
        """Store a confirmed or waitlisted booking and count it on its event, in one transaction.

        Raises AlreadyBooked, EventChanged (the event's state no longer allows this status) or KeyAlreadyUsed."""

    def cancel(
        self,
        booking: Booking,
        cancelled: Booking,
        promote: Booking | None,
        record: IdempotentWrite | None,
        audit: AuditEntry | None = None,
    ) -> None:
        """Cancel `booking` (unchanged since read) and, for a confirmed one, confirm `promote` in its seat
        (or, with no `promote`, free the seat only while nobody waits); `audit` in the same transaction.

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


class AuditRepository(Protocol):
    """The audit log of staff writes (written by the other repositories, with each change)."""

    def list(self, *, actor: str | None, object_id: str | None, limit: int, start: dict[str, str] | None) -> Page:
        """Entries, newest first; only those by `actor` and/or about `object_id` when given."""
