"""Opaque, tamper-evident pagination cursors: the next page's start key, signed and bound to its list."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from chalicelib.errors import MalformedRequest

_MAC_BYTES = 16


def _mac(key: bytes, scope: str, payload: bytes) -> bytes:
    derived = hmac.new(key, b"cursor-v1", hashlib.sha256).digest()
    return hmac.new(derived, scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_cursor(start_key: dict[str, str], scope: str, key: bytes) -> str:
    """An opaque string for `start_key`, valid only for the list named by `scope`."""
    payload = json.dumps(start_key, separators=(",", ":"), sort_keys=True).encode()
    raw = _mac(key, scope, payload) + payload
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, scope: str, key: bytes) -> dict[str, str]:
    """The start key inside `cursor`; MalformedRequest when it was modified or belongs to another list."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError) as exc:
        raise MalformedRequest("Invalid cursor") from exc
    mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, _mac(key, scope, payload)):
        raise MalformedRequest("Invalid cursor")
    value = json.loads(payload)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise MalformedRequest("Invalid cursor")
    return value
