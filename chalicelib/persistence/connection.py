"""The shared low-level connection that transactions need, created on first use and cached."""

from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection

from chalicelib.persistence.models import UserModel


@lru_cache(maxsize=1)
def get_connection() -> Connection:
    """One connection per process, configured like the models (region, timeouts); the endpoint comes from
    botocore's environment."""
    meta = UserModel.Meta
    return Connection(
        region=getattr(meta, "region", None),
        connect_timeout_seconds=getattr(meta, "connect_timeout_seconds", None),
        read_timeout_seconds=getattr(meta, "read_timeout_seconds", None),
        max_retry_attempts=getattr(meta, "max_retry_attempts", None),
    )
