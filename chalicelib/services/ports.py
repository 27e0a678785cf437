"""Interfaces the services need from persistence; DynamoDB implements them, unit tests fake them."""

from __future__ import annotations

from typing import Protocol

from chalicelib.domain import Event, Page, User


class UniqueViolation(Exception):
    """A username or email is already taken; `fields` names which."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


class StaleWrite(Exception):
    """The item changed since it was read (optimistic concurrency), or no longer exists."""


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

    def add(self, event: Event) -> None: ...

    def save(self, old: Event, new: Event) -> None:
        """Replace `old` by `new` if unchanged since read (StaleWrite otherwise)."""

    def delete(self, event: Event) -> None:
        """Delete if unchanged since read and without booked seats (StaleWrite otherwise)."""

    def list_published(
        self, *, limit: int, start: dict[str, str] | None, creator: str | None, starts_from: str | None
    ) -> Page: ...

    def list_by_creator(self, creator: str, *, limit: int, start: dict[str, str] | None) -> Page: ...
