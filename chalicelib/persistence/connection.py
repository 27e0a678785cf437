"""The shared low-level connection that transactions need, created on first use and cached."""

from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection

from chalicelib.persistence.models import connection_settings


@lru_cache(maxsize=1)
def get_connection() -> Connection:
    """One connection per process, configured like the models (region, timeouts); the endpoint comes from
    botocore's environment."""
    return Connection(**connection_settings())
