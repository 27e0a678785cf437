"""Accounts, and what makes two usernames or e-mail addresses the same."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime

from chalicelib.domain.common import utcnow
from chalicelib.domain.enums import Role


def normalize_username(username: str) -> str:
    """The stored form of a username: NFKC, as Django's `normalize_username` does, so that compatibility
    characters (`ｕｓｅｒ`, `𝐮𝐬𝐞𝐫`) become the letters they stand for."""
    return unicodedata.normalize("NFKC", username)


def identity(name: str) -> str:
    """What makes two usernames (or email addresses) the same account: equal after NFKC and case folding."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


@dataclass(frozen=True)
class PendingEmail:
    """A change of address waiting for its confirmation: the new address, the digest of the token e-mailed to
    it, and when it lapses (Unix time)."""

    address: str
    digest: str
    expires_at: int


@dataclass(frozen=True)
class NotificationPreferences:
    """What the user lets the marketplace send beyond the transactional messages (domain.notifications):
    reminders before an event, the creators' daily digest; and the IANA zone their e-mails show times in as
    well as the event's own (None: the event's zone only). The zone is checked where it is set."""

    reminders: bool = True
    digest: bool = True
    timezone: str | None = None

    def allows(self, kind: str) -> bool:
        """Whether a notification of `kind` may be sent: transactional kinds always are; ValueError for a kind
        domain.notifications does not list."""
        from chalicelib.domain.notifications import KINDS, OPTIONAL

        if kind not in KINDS:
            raise ValueError(f"unknown notification kind {kind!r}")
        preference = OPTIONAL.get(kind)
        return preference is None or bool(getattr(self, preference))


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
    last_login: datetime | None = None
    version: int = 1
    # Carried by every token issued to the account; raising it revokes them all (password change or reset,
    # signing out everywhere), since a token is honoured only while its generation is the account's.
    token_generation: int = 0
    # A new address asked for and not yet confirmed from it (services.credentials.request_email_change).
    pending_email: PendingEmail | None = None
    notifications: NotificationPreferences = NotificationPreferences()
    # The secret part of the personal calendar feed's URL (services.preferences); None until first asked for.
    calendar_secret: str | None = None
    # What the organizer page shows (services.creators): plain text, "" when not given.
    display_name: str = ""
    bio: str = ""

    @property
    def email_pending(self) -> str | None:
        """The address the account is changing to, once confirmed from it."""
        return self.pending_email.address if self.pending_email else None

    def with_changes(self, **changes: object) -> User:
        """A copy with `changes` applied and the version bumped."""
        return replace(self, **changes, version=self.version + 1)  # type: ignore[arg-type]
