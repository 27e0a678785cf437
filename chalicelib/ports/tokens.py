"""Refresh-token families and pending password resets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.domain.users import User


class TokenRevoked(Exception):
    """The refresh token's family is revoked, or the token was already rotated (and its family now is)."""


class TicketGone(Exception):
    """The password-reset ticket was used or replaced since it was read."""


@dataclass(frozen=True)
class RefreshToken:
    """What the token store needs of a verified refresh token."""

    user_id: str
    jti: str
    family: str
    expires_at: int

    @property
    def root(self) -> bool:
        """The refresh token a sign-in issued: its family has no stored state until it is first rotated."""
        return self.jti == self.family


@dataclass(frozen=True)
class ResetTicket:
    """A pending password reset: the e-mailed token is never stored, only its digest, and the ticket is bound
    to the password hash and e-mail address it was issued for (a change of either voids it)."""

    user_id: str
    digest: str
    binding: str
    expires_at: int


class RefreshFamilies(Protocol):
    """The state of each sign-in's chain of refresh tokens (its family): which token is live, or that the
    family is revoked. Each item lives as long as the newest token of its family."""

    def rotate(self, token: RefreshToken, successor: str, expires_at: int) -> None:
        """Make `successor` (a jti) the family's live token, if `token` is that now; raises TokenRevoked when
        the family is revoked or `token` was already rotated, revoking the family (reuse detection)."""

    def revoke(self, token: RefreshToken) -> None:
        """Revoke `token`'s family (sign-out); raises TokenRevoked when it already was or `token` had been
        rotated already (the family is revoked all the same)."""

    def check(self, token: RefreshToken) -> None:
        """Raises TokenRevoked unless `token` is its family's live token; writes nothing."""


class PasswordResets(Protocol):
    """At most one pending password reset per user."""

    def get(self, user_id: str) -> ResetTicket | None: ...

    def put(self, ticket: ResetTicket) -> None:
        """Store `ticket`, replacing any earlier one of the user (only the latest e-mailed link works)."""

    def redeem(self, ticket: ResetTicket, old: User, new: User) -> None:
        """Delete `ticket` and replace `old` by `new`, in one transaction: raises TicketGone when the ticket
        was used or replaced meanwhile, StaleWrite when the user changed since read."""
