"""The shared low-level connection that transactions need, created on first use and cached."""

from __future__ import annotations

from functools import lru_cache

from pynamodb.connection import Connection

from chalicelib.persistence.models import UserModel


@lru_cache(maxsize=1)
def get_connection() -> Connection:
    """One connection per process (same region as the models; the endpoint comes from botocore's environment)."""
    return Connection(region=getattr(UserModel.Meta, "region", None))


def reset_connection() -> None:
    """Forget the cached connection (tests switch endpoints between runs)."""
    get_connection.cache_clear()
