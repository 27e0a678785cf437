"""The JWT signing key: from the environment locally, from AWS Secrets Manager in deployed stages."""

from __future__ import annotations

import threading

from chalicelib.adapters.aws import client
from chalicelib.errors import ServiceUnavailable
from chalicelib.settings import MIN_SIGNING_KEY_BYTES, Settings

_lock = threading.Lock()
_cache: dict[str, bytes] = {}


def signing_key(settings: Settings) -> bytes:
    """The key, fetched once per process; a missing or short secret is an outage (503), never a weak key."""
    if settings.jwt_signing_key is not None:
        return settings.jwt_signing_key
    arn = settings.jwt_secret_arn
    if arn is None:
        raise ServiceUnavailable("The signing key is not configured.")  # check_startup refuses this earlier
    with _lock:
        if arn not in _cache:
            try:
                value = client("secretsmanager", settings).get_secret_value(SecretId=arn)["SecretString"]
            except Exception as exc:
                raise ServiceUnavailable() from exc
            key = value.encode()
            if len(key) < MIN_SIGNING_KEY_BYTES:
                raise ServiceUnavailable("The signing key is not configured correctly.")
            _cache[arn] = key
        return _cache[arn]
