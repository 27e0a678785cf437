"""Opaque, tamper-evident pagination cursors: the next page's start key, signed and bound to its list."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import TYPE_CHECKING

from chalicelib.errors import MalformedRequest

if TYPE_CHECKING:
    from collections.abc import Callable

_MAC_BYTES = 16


def _mac(key: bytes, scope: str, payload: bytes) -> bytes:
    derived = hmac.new(key, b"cursor-v1", hashlib.sha256).digest()
    return hmac.new(derived, scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def _signed(mac: bytes, scope: str, payload: bytes, key: bytes, previous: Callable[[], bytes | None] | None) -> bool:
    if hmac.compare_digest(mac, _mac(key, scope, payload)):
        return True
    older = previous() if previous is not None else None
    return older is not None and hmac.compare_digest(mac, _mac(older, scope, payload))


def encode_cursor(start_key: dict[str, str], scope: str, key: bytes) -> str:
    """An opaque string for `start_key`, valid only for the list named by `scope`."""
    payload = json.dumps(start_key, separators=(",", ":"), sort_keys=True).encode()
    raw = _mac(key, scope, payload) + payload
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str, scope: str, key: bytes, previous: Callable[[], bytes | None] | None = None
) -> dict[str, str]:
    """The start key inside `cursor`; MalformedRequest when it was modified or belongs to another list. A cursor
    signed with the key before the current one (`previous`, asked for only then: it may be read from a store)
    is still good, so that a client paging through a list across a key rotation goes on."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError) as exc:
        raise MalformedRequest("Invalid cursor") from exc
    mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(mac) != _MAC_BYTES or not _signed(mac, scope, payload, key, previous):
        raise MalformedRequest("Invalid cursor")
    value = json.loads(payload)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise MalformedRequest("Invalid cursor")
    return value
