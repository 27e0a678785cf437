"""Signed one-click unsubscribe links (RFC 8058) for the optional notifications.

The signature is HMAC-SHA256 over `unsubscribe:<user id>:<kind>` with a key derived from the signing key, so a
link names one user and one kind and cannot be turned into another. Links are signed with the current key and
verified with the current or the previous one: a mailed link survives a rotation of the signing key (it verifies
for one to two rotation intervals, docs/accounts.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chalicelib.domain.notifications import OPTIONAL

if TYPE_CHECKING:
    from chalicelib.security.tokens import KeyRing

PATH = "/api/unsubscribe"
# The derivation's label keeps these signatures apart from anything else the signing key signs.
LABEL = b"unsubscribe-v1"


def _signature(secret: bytes, user_id: str, kind: str) -> str:
    derived = hmac.new(secret, LABEL, hashlib.sha256).digest()
    mac = hmac.new(derived, f"unsubscribe:{user_id}:{kind}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def sign(user_id: str, kind: str, keys: KeyRing) -> str:
    """The signature of (`user_id`, `kind`) with the current key; ValueError for a kind one cannot turn off."""
    if kind not in OPTIONAL:
        raise ValueError(f"{kind!r} is not a notification one can unsubscribe from")
    return _signature(keys.current().secret, user_id, kind)


def unsubscribe_url(api_base_url: str, user_id: str, kind: str, keys: KeyRing) -> str:
    """The link that turns `kind` (`reminder` or `digest`) off for `user_id`: for the List-Unsubscribe header
    and the message's footer. `api_base_url` is the API's public origin with its stage prefix, if any
    (`https://api.example.com/v1`): nothing in the settings names it outside a request."""
    query = urlencode({"u": user_id, "k": kind, "s": sign(user_id, kind, keys)})
    return f"{api_base_url.rstrip('/')}{PATH}?{query}"


def verify(user_id: str, kind: str, signature: str, keys: KeyRing) -> bool:
    """Whether `signature` was made for (`user_id`, `kind`) by the current or the previous key."""
    # compare_digest takes ASCII strings only; a signature is never anything else.
    if kind not in OPTIONAL or not signature.isascii():
        return False
    if hmac.compare_digest(signature, _signature(keys.current().secret, user_id, kind)):
        return True
    previous = keys.previous()  # read only when needed: deployed, it may cost a call to Secrets Manager
    return previous is not None and hmac.compare_digest(signature, _signature(previous.secret, user_id, kind))
