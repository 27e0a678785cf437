"""Accounts: the user repository and the staff's queries over it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.domain.audit import AuditEntry
    from chalicelib.domain.common import Page
    from chalicelib.domain.enums import Role
    from chalicelib.domain.users import User
    from chalicelib.ports.uploads import Claim


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
        """Whether e-mail addresses are searched too: only a term that reaches the `@` (see docs/dynamodb.md)."""
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

    def get_by_email(self, email: str) -> User | None: ...

    def add(self, user: User, audit: AuditEntry | None = None) -> None:
        """Store a new user (and `audit`, in the same transaction); raises UniqueViolation when the username or
        email is taken."""

    def save(self, old: User, new: User, audit: AuditEntry | None = None, claim: Claim | None = None) -> None:
        """Replace `old` by `new` if unchanged since read (StaleWrite otherwise); moves the email marker when the
        email changes (UniqueViolation when taken); stores `audit` in the same transaction; with `claim`, marks
        that upload used in it too (UploadUnavailable)."""

    def record_login(self, user_id: str, at: datetime) -> None:
        """Set the user's `last_login` (a change of the account: concurrent saves of it start over)."""

    def list_users(self, query: UserQuery, *, limit: int, start: dict[str, str] | None) -> Page:
        """Users matching `query` in the order of the name that matched (the username, or for a user found only
        by e-mail, the e-mail). A page may hold fewer than `limit` users while `next_key` is set."""
