"""Turn an Authorization header into a verified Principal, with simplejwt's answers for each failure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.domain.access import Principal
from chalicelib.errors import NotAuthenticated
from chalicelib.ids import is_valid_id
from chalicelib.security.tokens import ACCESS, Claims, Lifetimes, TokenError, decode

if TYPE_CHECKING:
    from chalicelib.ports.users import UserRepository
    from chalicelib.security.tokens import Keys

NOT_PROVIDED = "Authentication credentials were not provided."


def token_not_valid(message: str) -> NotAuthenticated:
    """simplejwt's answer for an access token that cannot be used, `message` saying why."""
    return NotAuthenticated(
        "Given token not valid for any token type",
        code="token_not_valid",
        extra={"messages": [{"token_class": "AccessToken", "token_type": "access", "message": message}]},
    )


def access_claims(header: str | None, key: Keys, lifetimes: Lifetimes) -> Claims:
    """The verified claims of a `Bearer <access token>` header; NotAuthenticated with simplejwt's body
    otherwise (no database read)."""
    parts = (header or "").split()
    if not parts or parts[0] != "Bearer":
        raise NotAuthenticated(NOT_PROVIDED)
    if len(parts) != 2:
        raise NotAuthenticated(
            "Authorization header must contain two space-delimited values", code="bad_authorization_header"
        )
    try:
        claims = decode(parts[1], key, lifetimes, expected_type=ACCESS)
    except TokenError as exc:
        raise token_not_valid(str(exc)) from exc
    if not is_valid_id(claims.user_id):
        # Never an id this API issued; checked before it reaches DynamoDB, which refuses an empty key.
        raise token_not_valid("Token contained no recognizable user identification")
    return claims


def verify_access(header: str | None, users: UserRepository, key: Keys, lifetimes: Lifetimes) -> tuple[Principal, int]:
    """The caller behind a `Bearer <access token>` header and when the token expires; NotAuthenticated with
    simplejwt's body otherwise. Reads the user: deactivated and deleted accounts are refused, and so are tokens
    of an earlier token generation (revoked by a password change or reset, or by signing out everywhere)."""
    claims = access_claims(header, key, lifetimes)
    user = users.get(claims.user_id)
    if user is None:
        raise NotAuthenticated("User not found", code="user_not_found")
    if claims.generation != user.token_generation:
        raise token_not_valid("Token is blacklisted")
    if not user.is_active:
        raise NotAuthenticated("User is inactive", code="user_inactive")
    return Principal(user_id=user.id, username=user.username, role=user.role, is_staff=user.is_staff), claims.exp


def authenticate(header: str | None, users: UserRepository, key: Keys, lifetimes: Lifetimes) -> Principal:
    """The caller behind a `Bearer <access token>` header; NotAuthenticated otherwise."""
    return verify_access(header, users, key, lifetimes)[0]
