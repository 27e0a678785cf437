"""What handlers need, created on first use and cached per process (nothing touches AWS at import)."""

from __future__ import annotations

from functools import lru_cache

from chalicelib.persistence.audit import DynamoAuditRepository
from chalicelib.persistence.bookings import DynamoBookingRepository, DynamoIdempotencyRepository
from chalicelib.persistence.events import DynamoEventRepository
from chalicelib.persistence.users import DynamoUserRepository
from chalicelib.security import keys
from chalicelib.security.tokens import Lifetimes
from chalicelib.services.accounts import TokenPolicy
from chalicelib.settings import Settings, get_settings


def settings() -> Settings:
    """The validated settings of this process."""
    return get_settings()


@lru_cache(maxsize=1)
def users() -> DynamoUserRepository:
    """The user repository."""
    return DynamoUserRepository()


@lru_cache(maxsize=1)
def events() -> DynamoEventRepository:
    """The event repository."""
    return DynamoEventRepository()


@lru_cache(maxsize=1)
def bookings() -> DynamoBookingRepository:
    """The booking repository."""
    return DynamoBookingRepository()


@lru_cache(maxsize=1)
def idempotency() -> DynamoIdempotencyRepository:
    """Stored responses of idempotent requests."""
    return DynamoIdempotencyRepository()


@lru_cache(maxsize=1)
def audit() -> DynamoAuditRepository:
    """The audit log of staff writes."""
    return DynamoAuditRepository()


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
