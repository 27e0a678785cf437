"""ULID ids: 26 Crockford base32 characters, sortable by creation time, opaque to clients."""

from __future__ import annotations

import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ULID_RE = re.compile(r"\A[0-7][0-9A-HJKMNP-TV-Z]{25}\Z")


def new_id() -> str:
    """A new ULID: 48 bits of milliseconds then 80 random bits."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def is_valid_id(value: str) -> bool:
    """True when `value` is shaped like an id this API issued (checked before any database read)."""
    return bool(_ULID_RE.match(value))
