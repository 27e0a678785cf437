"""Turn an Authorization header into a verified Principal, with simplejwt's answers for each failure."""

from __future__ import annotations

from chalicelib.errors import NotAuthenticated
from chalicelib.security.access import Principal
from chalicelib.security.tokens import ACCESS, TokenError, decode
from chalicelib.services.ports import UserRepository

NOT_PROVIDED = "Authentication credentials were not provided."


def authenticate(header: str | None, users: UserRepository, key: bytes) -> Principal:
    """The caller behind a `Bearer <access token>` header; NotAuthenticated otherwise."""
    parts = (header or "").split()
    if not parts or parts[0] != "Bearer":
        raise NotAuthenticated(NOT_PROVIDED)
    if len(parts) != 2:
        raise NotAuthenticated(
            "Authorization header must contain two space-delimited values", code="bad_authorization_header"
        )
    try:
        claims = decode(parts[1], key, expected_type=ACCESS)
    except TokenError as exc:
        raise NotAuthenticated(
            "Given token not valid for any token type",
            code="token_not_valid",
            extra={"messages": [{"token_class": "AccessToken", "token_type": "access", "message": str(exc)}]},
        ) from exc
    user = users.get(claims.user_id)
    if user is None:
        raise NotAuthenticated("User not found", code="user_not_found")
    if not user.is_active:
        raise NotAuthenticated("User is inactive", code="user_inactive")
    return Principal(user_id=user.id, username=user.username, role=user.role, is_staff=user.is_staff)
