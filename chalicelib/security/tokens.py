"""JWT access and refresh tokens (HS256, simplejwt's claims and error messages).

Beyond simplejwt's claims, tokens carry `gen`, the account's token generation when they were issued (raising
it revokes every token of the account), and refresh tokens `fam`, their family: the `jti` of the refresh token
the sign-in issued, shared by every token rotated from it. Tokens without them (issued before they existed)
read as generation 0 and as the root of their own family.

PyJWT (and the cryptography package it loads when installed) is imported on first use: routes that never
see a token, such as the public event list, do not pay for it at a cold start."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "jti", "token_type"]
ACCESS = "access"
REFRESH = "refresh"
GENERATION = "gen"
FAMILY = "fam"
# Clocks of the machines issuing and checking tokens may differ this much.
CLOCK_SKEW_SECONDS = 30


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
    generation: int = 0
    family: str = ""


@dataclass(frozen=True)
class Lifetimes:
    """How long each type of token lives: tokens claiming to live longer were not issued by this API."""

    access_seconds: int
    refresh_seconds: int

    def of(self, token_type: str) -> int:
        """The lifetime of `token_type` (0 for a type this API does not issue)."""
        return {ACCESS: self.access_seconds, REFRESH: self.refresh_seconds}.get(token_type, 0)


def new_jti() -> str:
    """A fresh token id."""
    return uuid.uuid4().hex


def issue(
    user_id: str,
    token_type: str,
    lifetime_seconds: int,
    key: bytes,
    now: float | None = None,
    *,
    jti: str | None = None,
    generation: int | None = None,
    family: str | None = None,
) -> str:
    """A signed token of `token_type` for `user_id` (with `gen` and `fam` claims when given)."""
    import jwt

    issued = int(time.time() if now is None else now)
    payload: dict[str, Any] = {
        "token_type": token_type,
        "exp": issued + lifetime_seconds,
        "iat": issued,
        "jti": jti or new_jti(),
        "user_id": user_id,
    }
    if generation is not None:
        payload[GENERATION] = generation
    if family is not None:
        payload[FAMILY] = family
    return jwt.encode(payload, key, algorithm=ALGORITHM)


def decode(
    token: str, key: bytes, lifetimes: Lifetimes, expected_type: str | None = None, now: float | None = None
) -> Claims:
    """Verify signature, algorithm, expiry, required claims and a plausible lifetime; raise TokenError with
    simplejwt's message."""
    import jwt

    try:
        payload: dict[str, Any] = jwt.decode(
            token, key, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS, "verify_iat": False}
        )
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
    exp, iat, generation = payload["exp"], payload["iat"], payload.get(GENERATION, 0)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (exp, iat, generation)):
        raise TokenError("Token is invalid")
    family = payload.get(FAMILY, payload["jti"])
    if not isinstance(family, str) or not family:
        raise TokenError("Token is invalid")
    current = time.time() if now is None else now
    # Signed with our key yet impossible for us to have issued: a leaked key or a forged token, refused.
    if iat > current + CLOCK_SKEW_SECONDS or exp - iat > lifetimes.of(token_type):
        raise TokenError("Token is invalid")
    return Claims(
        token_type=token_type,
        user_id=user_id,
        jti=payload["jti"],
        exp=exp,
        iat=iat,
        generation=generation,
        family=family,
    )
