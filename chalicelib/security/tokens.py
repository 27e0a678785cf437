"""JWT access and refresh tokens (HS256, simplejwt's claims and error messages).

Beyond simplejwt's claims, tokens carry `gen`, the account's token generation when they were issued (raising
it revokes every token of the account), and refresh tokens `fam`, their family: the `jti` of the refresh token
the sign-in issued, shared by every token rotated from it. Tokens without them (issued before they existed)
read as generation 0 and as the root of their own family.

The header names the key that signed the token (`kid`): signing keys rotate, and a token is checked against
the key its kid names, the current one or the one before it; a token without a kid (issued before kids
existed) against both. docs/accounts.md, "Signing keys and rotation", says how long each key is trusted.

PyJWT (and the cryptography package it loads when installed) is imported on first use: routes that never
see a token, such as the public event list, do not pay for it at a cold start."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Protocol

    class SigningKey(Protocol):
        """An HMAC key and its id, the `kid` of the tokens it signs."""

        @property
        def kid(self) -> str: ...

        @property
        def secret(self) -> bytes: ...

    class KeyRing(Protocol):
        """The key that signs new tokens and the one before it, which still verifies the tokens it signed.
        Either may be read from a store on demand (and raise ServiceUnavailable when it cannot be)."""

        def current(self) -> SigningKey:
            """The key that signs new tokens."""
            ...

        def previous(self) -> SigningKey | None:
            """The key the current one replaced, if any."""
            ...

        def find(self, kid: str) -> SigningKey | None:
            """The current or the previous key when `kid` names one of them."""
            ...

    # A key itself (as the tests hold it: its kid is derived from it) or the stage's key ring.
    Keys = bytes | KeyRing

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


class Key:
    """A key in hand and its kid."""

    # A plain class: a cold start pays for each NamedTuple or dataclass it defines.
    __slots__ = ("kid", "secret")

    def __init__(self, kid: str, secret: bytes) -> None:
        self.kid = kid
        self.secret = secret


def key_id(secret: bytes) -> str:
    """The kid of a key known only by its value: derived from it one-way, so the header reveals nothing of it."""
    return hmac.new(secret, b"jwt-key-id", hashlib.sha256).hexdigest()[:16]


class StaticKeys:
    """A KeyRing of keys in hand (the local stage's JWT_SIGNING_KEY and JWT_PREVIOUS_SIGNING_KEY, the tests)."""

    __slots__ = ("_current", "_previous")

    def __init__(self, secret: bytes, previous: bytes | None = None) -> None:
        self._current = Key(key_id(secret), secret)
        self._previous = Key(key_id(previous), previous) if previous is not None else None

    def current(self) -> Key:
        return self._current

    def previous(self) -> Key | None:
        return self._previous

    def find(self, kid: str) -> Key | None:
        return next((key for key in (self._current, self._previous) if key is not None and key.kid == kid), None)


def _ring(keys: Keys) -> KeyRing:
    return StaticKeys(keys) if isinstance(keys, bytes) else keys


# NamedTuples rather than dataclasses: each dataclass costs a cold start about a millisecond and a half.
class Claims(NamedTuple):
    """The verified claims this API relies on."""

    token_type: str
    user_id: str
    jti: str
    exp: int
    iat: int
    generation: int = 0
    family: str = ""


class Lifetimes(NamedTuple):
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
    key: Keys,
    now: float | None = None,
    *,
    jti: str | None = None,
    generation: int | None = None,
    family: str | None = None,
) -> str:
    """A token of `token_type` for `user_id` (with `gen` and `fam` claims when given), signed with the current
    key and naming it in its header."""
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
    signer = _ring(key).current()
    return jwt.encode(payload, signer.secret, algorithm=ALGORITHM, headers={"kid": signer.kid})


def _candidates(token: str, ring: KeyRing) -> Iterator[bytes]:
    """The keys that may have signed `token`, each read only when the one before did not verify it."""
    import jwt

    kid = jwt.get_unverified_header(token).get("kid")
    if kid is None:
        # Issued before tokens named their key, by the key that was current then: that key may have been
        # rotated since (the first rotation follows this change's deploy), so the previous key is tried too.
        yield ring.current().secret
        previous = ring.previous()
        if previous is not None:
            yield previous.secret
        return
    found = ring.find(kid)  # a str: PyJWT refuses any other kid as an invalid token
    if found is not None:
        yield found.secret


def _verified(token: str, key: Keys) -> dict[str, Any]:
    import jwt

    for secret in _candidates(token, _ring(key)):
        try:
            payload: dict[str, Any] = jwt.decode(
                token, secret, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS, "verify_iat": False}
            )
        except jwt.InvalidSignatureError:
            continue
        return payload
    # No key of ours signed it, or its kid names none of ours: the same answer as any token we did not sign.
    raise jwt.InvalidSignatureError("no key verifies the token")


def decode(
    token: str, key: Keys, lifetimes: Lifetimes, expected_type: str | None = None, now: float | None = None
) -> Claims:
    """Verify signature (by the key the header's kid names), algorithm, expiry, required claims and a plausible
    lifetime; raise TokenError with simplejwt's message."""
    import jwt

    try:
        payload = _verified(token, key)
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
