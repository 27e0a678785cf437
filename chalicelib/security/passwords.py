"""bcrypt password hashing, with a dummy hash so that unknown usernames cost the same time as known ones.

bcrypt is imported on first use: only the routes that hash or check a password load it."""

from __future__ import annotations

from functools import lru_cache

BCRYPT_MAX_BYTES = 72


def fits_bcrypt(password: str) -> bool:
    """bcrypt reads at most 72 bytes (bcrypt 5 raises beyond); longer passwords are refused, never truncated."""
    return len(password.encode("utf-8")) <= BCRYPT_MAX_BYTES


def hash_password(password: str, rounds: int) -> str:
    """A salted bcrypt hash of `password` at cost `rounds`."""
    import bcrypt

    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> bytes:
    import bcrypt

    return bcrypt.hashpw(b"timing-equaliser", bcrypt.gensalt(rounds))


def check_password(password: str, password_hash: str | None, rounds: int) -> bool:
    """True when `password` matches; with no hash (unknown user) or an over-long password, burn the same
    time on a dummy hash and answer False."""
    import bcrypt

    candidate = password.encode("utf-8")
    if password_hash is None or len(candidate) > BCRYPT_MAX_BYTES:
        bcrypt.checkpw(candidate[:BCRYPT_MAX_BYTES], _dummy_hash(rounds))
        return False
    try:
        return bcrypt.checkpw(candidate, password_hash.encode("ascii"))
    except ValueError:
        return False
