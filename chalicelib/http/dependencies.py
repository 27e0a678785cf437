"""What handlers need, created on first use and cached per process (nothing touches AWS at import)."""

from __future__ import annotations

from functools import lru_cache

from chalicelib.persistence.bookings import DynamoBookingRepository, DynamoIdempotencyRepository
from chalicelib.persistence.events import DynamoEventRepository
from chalicelib.persistence.models import bind_tables
from chalicelib.persistence.users import DynamoUserRepository
from chalicelib.security import keys
from chalicelib.security.tokens import Lifetimes
from chalicelib.services.accounts import TokenPolicy
from chalicelib.settings import Settings, get_settings


def settings() -> Settings:
    """The validated settings of this process."""
    return get_settings()


@lru_cache(maxsize=1)
def tables() -> None:
    """Point the models at this stage's tables, once per process, before any repository is used. Done here
    rather than by the app's builder because the authorizer runs as its own Lambda from its own module."""
    s = get_settings()
    bind_tables(s.tables, s.region, s.aws)


@lru_cache(maxsize=1)
def users() -> DynamoUserRepository:
    """The user repository."""
    tables()
    return DynamoUserRepository()


@lru_cache(maxsize=1)
def events() -> DynamoEventRepository:
    """The event repository."""
    tables()
    return DynamoEventRepository()


@lru_cache(maxsize=1)
def bookings() -> DynamoBookingRepository:
    """The booking repository."""
    tables()
    return DynamoBookingRepository()


@lru_cache(maxsize=1)
def idempotency() -> DynamoIdempotencyRepository:
    """Stored results of idempotent requests."""
    tables()
    return DynamoIdempotencyRepository()


def signing_key() -> bytes:
    """The JWT (and cursor) signing key, fetched on first use."""
    return keys.signing_key(get_settings())


def lifetimes() -> Lifetimes:
    """How long each type of token lives."""
    s = get_settings()
    return Lifetimes(access_seconds=s.access_token_seconds, refresh_seconds=s.refresh_token_seconds)


def token_policy() -> TokenPolicy:
    """Signing key and token lifetimes."""
    return TokenPolicy(key=signing_key(), lifetimes=lifetimes())
