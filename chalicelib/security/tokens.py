"""JWT access and refresh tokens (HS256, simplejwt's claims and error messages)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "jti", "token_type"]
ACCESS = "access"
REFRESH = "refresh"


class TokenError(Exception):
    """A token that cannot be used; the message is simplejwt's wording."""


@dataclass(frozen=True)
class Claims:
    """The verified claims this API relies on."""

    token_type: str
    user_id: str
    jti: str
    exp: int
    iat: int


def issue(user_id: str, token_type: str, lifetime_seconds: int, key: bytes, now: float | None = None) -> str:
    """A signed token of `token_type` for `user_id`."""
    issued = int(time.time() if now is None else now)
    payload = {
        "token_type": token_type,
        "exp": issued + lifetime_seconds,
        "iat": issued,
        "jti": uuid.uuid4().hex,
        "user_id": user_id,
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def decode(token: str, key: bytes, expected_type: str | None = None) -> Claims:
    """Verify signature, algorithm, expiry and required claims; raise TokenError with simplejwt's message."""
    try:
        payload: dict[str, Any] = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("Token is expired") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise TokenError("Token is invalid") from exc
    user_id = payload.get("user_id")
    token_type = payload.get("token_type")
    if not isinstance(user_id, str) or not isinstance(token_type, str) or not isinstance(payload.get("jti"), str):
        raise TokenError("Token contained no recognizable user identification")
    if expected_type is not None and token_type != expected_type:
        raise TokenError("Token has wrong type")
    return Claims(
        token_type=token_type, user_id=user_id, jti=payload["jti"], exp=int(payload["exp"]), iat=int(payload["iat"])
    )
