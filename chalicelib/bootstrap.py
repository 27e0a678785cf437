"""The composition root: the one module that builds the app's settings, adapters, repositories and the rules'
parameters from them, each on first use and cached per process (nothing touches AWS at import). The HTTP
handlers, the authorizer, the scheduled sweep, manage.py, the local stack's seed, the benchmarks and the tests
all take what they need from here; nothing else constructs a repository or an adapter."""

from __future__ import annotations

from functools import lru_cache, partial
from typing import TYPE_CHECKING

from chalicelib.settings import Settings, get_settings

# Each dependency imports its module on first use: a cold start loads the persistence and services of the
# routes it serves, not of every route (the public list needs neither bookings, accounts nor payments).
if TYPE_CHECKING:
    from chalicelib.adapters.secrets import SecretVersions
    from chalicelib.adapters.stripe_payments import StripePayments
    from chalicelib.persistence.audit import DynamoAuditRepository
    from chalicelib.persistence.bookings import DynamoBookingRepository, DynamoIdempotencyRepository
    from chalicelib.persistence.counters import DynamoCounters
    from chalicelib.persistence.digests import DynamoDigestBook
    from chalicelib.persistence.events import DynamoEventRepository
    from chalicelib.persistence.notices import DynamoNoticeLedger
    from chalicelib.persistence.search import DynamoEventSearch
    from chalicelib.persistence.suppressions import DynamoSuppressions
    from chalicelib.persistence.tokens import DynamoPasswordResets, DynamoRefreshFamilies
    from chalicelib.persistence.users import DynamoUserRepository
    from chalicelib.ports.mail import Mailer
    from chalicelib.ports.notices import Change
    from chalicelib.security.tokens import KeyRing, Lifetimes
    from chalicelib.services.accounts import TokenPolicy
    from chalicelib.services.notifications import Outbox
    from chalicelib.services.payments import PaymentTerms
    from chalicelib.services.queue import Admission, Queue
    from chalicelib.services.throttling import Guard
    from chalicelib.services.uploads import Media


def settings() -> Settings:
    """The validated settings of this process."""
    return get_settings()


@lru_cache(maxsize=1)
def tables() -> None:
    """Point the models at this stage's tables, once per process, before any repository is used. Done here
    rather than by the app's builder because the authorizer runs as its own Lambda from its own module. The
    tables' connections share a botocore session."""
    from chalicelib.persistence.models import bind_tables
    from chalicelib.persistence.pynamodb_private import share_sessions

    share_sessions()
    s = get_settings()
    bind_tables(s.tables, s.region, s.aws)


@lru_cache(maxsize=1)
def users() -> DynamoUserRepository:
    """The user repository."""
    from chalicelib.persistence.users import DynamoUserRepository

    tables()
    return DynamoUserRepository()


@lru_cache(maxsize=1)
def events() -> DynamoEventRepository:
    """The event repository."""
    from chalicelib.persistence.events import DynamoEventRepository

    tables()
    return DynamoEventRepository()


@lru_cache(maxsize=1)
def search() -> DynamoEventSearch:
    """Search over the published events."""
    from chalicelib.persistence.search import DynamoEventSearch

    return DynamoEventSearch(events())


@lru_cache(maxsize=1)
def queue() -> Queue:
    """The on-sale queues, with this process's caches of their events and counters."""
    from chalicelib.persistence.queue import DynamoQueue
    from chalicelib.services.queue import Queue

    tables()
    s = get_settings()
    return Queue(
        DynamoQueue(),
        events(),
        signing_keys(),
        max_rate=s.queue_max_admissions_per_second,
        admission_seconds=s.admission_seconds,
    )


def admission(token: str | None) -> Admission:
    """A booking's admission from the queue (None: none sent) and what verifies it."""
    from chalicelib.services.queue import Admission

    return Admission(token, signing_keys(), get_settings().admission_seconds)


@lru_cache(maxsize=1)
def bookings() -> DynamoBookingRepository:
    """The booking repository."""
    from chalicelib.persistence.bookings import DynamoBookingRepository

    tables()
    return DynamoBookingRepository()


@lru_cache(maxsize=1)
def idempotency() -> DynamoIdempotencyRepository:
    """Stored results of idempotent requests."""
    from chalicelib.persistence.bookings import DynamoIdempotencyRepository

    tables()
    return DynamoIdempotencyRepository()


@lru_cache(maxsize=1)
def families() -> DynamoRefreshFamilies:
    """Refresh-token families (rotation, reuse detection, sign-out)."""
    from chalicelib.persistence.tokens import DynamoRefreshFamilies

    tables()
    return DynamoRefreshFamilies()


@lru_cache(maxsize=1)
def resets() -> DynamoPasswordResets:
    """Pending password resets."""
    from chalicelib.persistence.tokens import DynamoPasswordResets

    tables()
    return DynamoPasswordResets()


@lru_cache(maxsize=1)
def counters() -> DynamoCounters:
    """Throttle counters."""
    from chalicelib.persistence.counters import DynamoCounters

    tables()
    return DynamoCounters()


def guard() -> Guard:
    """The stage's rate limits over the shared counters."""
    from chalicelib.services.throttling import Guard

    return Guard(counters(), get_settings().rate_limits)


@lru_cache(maxsize=1)
def mailer() -> Mailer:
    """Outgoing e-mail: SES in deployed stages, a folder of .eml files locally; never to a suppressed address."""
    from chalicelib.adapters.mail import mailer_for
    from chalicelib.services.mail_feedback import SuppressingMailer

    return SuppressingMailer(mailer_for(get_settings()), suppressions())


@lru_cache(maxsize=1)
def suppressions() -> DynamoSuppressions:
    """Addresses no mail is sent to (permanent bounces, complaints)."""
    from chalicelib.persistence.suppressions import DynamoSuppressions

    tables()
    return DynamoSuppressions()


@lru_cache(maxsize=1)
def notice_ledger() -> DynamoNoticeLedger:
    """The ledger that sends each notification once."""
    from chalicelib.persistence.notices import DynamoNoticeLedger

    tables()
    return DynamoNoticeLedger()


@lru_cache(maxsize=1)
def digest_book() -> DynamoDigestBook:
    """The day's bookings and cancellations per creator, for their daily digest."""
    from chalicelib.persistence.digests import DynamoDigestBook

    tables()
    return DynamoDigestBook()


def outbox() -> Outbox:
    """What the Notifier delivers notifications with (and records the creators' digests in)."""
    from chalicelib.security.unsubscribe import unsubscribe_url
    from chalicelib.services.digests import record_change
    from chalicelib.services.notifications import Outbox

    settings = get_settings()
    base = settings.api_url

    def unsubscribe_link(user_id: str, kind: str) -> str:
        assert base is not None
        return unsubscribe_url(base, user_id, kind, signing_keys())

    link = unsubscribe_link if base is not None else None
    record = partial(record_change, digest_book())
    return Outbox(users(), events(), bookings(), notice_ledger(), mailer(), settings.web_app_url, link, record)


def stream_changes(records: list[dict[str, object]]) -> list[Change]:
    """The bookings' and events' changes among a batch of stream records (Lambda's event, or the Streams API's
    records with their stream's `eventSourceARN` added); records of other tables are left out."""
    from chalicelib.persistence.changes import change_of, table_of

    tables()
    changes = []
    for record in records:
        table = table_of(str(record.get("eventSourceARN", "")))
        if table is not None:
            changes.append(change_of(record, table))
    return changes


@lru_cache(maxsize=1)
def payment_provider() -> StripePayments:
    """Stripe (locally, devstack's stand-in of it), its client made on first use."""
    from chalicelib.adapters.stripe_payments import StripePayments

    return StripePayments(get_settings())


def payment_terms() -> PaymentTerms | None:
    """The provider and the stage's hold and refund rules; None where payments are not configured (a paid
    event then cannot be booked: 503)."""
    s = get_settings().payments
    if not s.configured:
        return None
    from chalicelib.services.payments import PaymentTerms

    return PaymentTerms(payment_provider(), s.hold_seconds, s.refund_cutoff_seconds)


@lru_cache(maxsize=1)
def audit() -> DynamoAuditRepository:
    """The audit log of staff writes."""
    from chalicelib.persistence.audit import DynamoAuditRepository

    tables()
    return DynamoAuditRepository()


@lru_cache(maxsize=1)
def media() -> Media:
    """Upload records and the upload bucket (its S3 client is made on first use, not here)."""
    from chalicelib.adapters.s3 import S3ObjectStore
    from chalicelib.persistence.uploads import DynamoUploadRepository
    from chalicelib.services.uploads import Media

    tables()
    return Media(uploads=DynamoUploadRepository(), store=S3ObjectStore(get_settings()))


def signing_keys() -> KeyRing:
    """The JWT signing keys: the current one signs, the previous one still verifies; each read on first use."""
    from chalicelib.adapters import secrets as keys

    return keys.signing_keys(get_settings())


def secret_versions() -> SecretVersions:
    """The signing secret's versions, for its rotation function."""
    from chalicelib.adapters.secrets import SecretVersions

    return SecretVersions(get_settings())


def lifetimes() -> Lifetimes:
    """How long each type of token lives."""
    from chalicelib.security.tokens import Lifetimes

    s = get_settings()
    return Lifetimes(access_seconds=s.access_token_seconds, refresh_seconds=s.refresh_token_seconds)


def token_policy() -> TokenPolicy:
    """Signing key, token lifetimes and whether refresh tokens rotate."""
    from chalicelib.services.accounts import TokenPolicy

    return TokenPolicy(key=signing_keys(), lifetimes=lifetimes(), rotate=get_settings().rotate_refresh_tokens)
