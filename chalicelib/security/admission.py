"""Admission tokens: a short-lived JWT the on-sale queue gives a visitor whose turn has come, which the booking
endpoint requires at an event whose sales opening has passed (services.queue).

Signed like the access tokens (HS256 by the current key of the same ring, its `kid` in the header) but with
other claims: `typ` "admission", `sub` the user, `evt` the event, `iat` and `exp`. An access token is therefore
never an admission (no `typ`), nor an admission an access token (no `token_type`, `user_id` or `jti`, which
security.tokens requires)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from chalicelib.security.tokens import ALGORITHM, CLOCK_SKEW_SECONDS, StaticKeys

if TYPE_CHECKING:
    from chalicelib.security.tokens import KeyRing, Keys

ADMISSION = "admission"
EXPIRED = "expired"
INVALID = "invalid"
REQUIRED = ["typ", "sub", "evt", "iat", "exp"]


class AdmissionError(Exception):
    """An admission that cannot be used: `reason` is EXPIRED or INVALID."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AdmissionClaims(NamedTuple):
    """What a verified admission says."""

    user_id: str
    event_id: str
    expires_at: int


def _ring(keys: Keys) -> KeyRing:
    return StaticKeys(keys) if isinstance(keys, bytes) else keys


def issue_admission(user_id: str, event_id: str, lifetime_seconds: int, keys: Keys, now: float) -> str:
    """An admission of `user_id` to book at `event_id` until `now + lifetime_seconds`."""
    import jwt

    issued = int(now)
    payload = {"typ": ADMISSION, "sub": user_id, "evt": event_id, "iat": issued, "exp": issued + lifetime_seconds}
    signer = _ring(keys).current()
    return jwt.encode(payload, signer.secret, algorithm=ALGORITHM, headers={"kid": signer.kid})


def verify_admission(token: str, keys: Keys, lifetime_seconds: int, now: float) -> AdmissionClaims:
    """The claims of an admission signed by a key of the ring (the one its kid names), not expired at `now` and
    living no longer than this API issues them for; AdmissionError otherwise."""
    import jwt

    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = _ring(keys).find(kid) if isinstance(kid, str) else None
        if key is None:
            raise AdmissionError(INVALID)
        # Expiry is checked below against `now`, the caller's clock, not PyJWT's.
        options: Any = {"require": REQUIRED, "verify_exp": False, "verify_iat": False}
        payload = jwt.decode(token, key.secret, algorithms=[ALGORITHM], options=options)
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise AdmissionError(INVALID) from exc
    user_id, event_id, iat, exp = payload["sub"], payload["evt"], payload["iat"], payload["exp"]
    if payload["typ"] != ADMISSION or not isinstance(user_id, str) or not isinstance(event_id, str):
        raise AdmissionError(INVALID)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (iat, exp)):
        raise AdmissionError(INVALID)
    # Signed with our key yet never issued by us (too long a life, issued in the future): refused as forged.
    if exp - iat > lifetime_seconds or iat > now + CLOCK_SKEW_SECONDS:
        raise AdmissionError(INVALID)
    if now >= exp:
        raise AdmissionError(EXPIRED)
    return AdmissionClaims(user_id=user_id, event_id=event_id, expires_at=exp)
