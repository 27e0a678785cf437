"""Interfaces the services need from persistence; DynamoDB implements them (chalicelib.persistence), unit
tests fake them (tests/support/fakes.py). Each method's docstring names the failures it may raise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.domain import (
    AuditEntry,
    Booking,
    BookingResult,
    BookingStatus,
    Event,
    EventStatus,
    Page,
    Payment,
    Rate,
    Role,
    Upload,
    User,
)


class UniqueViolation(Exception):
    """A username or email is already taken; `fields` names which."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


class StaleWrite(Exception):
    """The item changed since it was read (optimistic concurrency), or no longer exists."""


class AlreadyBooked(Exception):
    """The user already holds an active booking for the event."""


class EventChanged(Exception):
    """The event no longer matches what the booking was decided on (full, freed up, cancelled, started)."""


class KeyAlreadyUsed(Exception):
    """An unexpired response is already stored under this idempotency key."""


class TokenRevoked(Exception):
    """The refresh token's family is revoked, or the token was already rotated (and its family now is)."""


class TicketGone(Exception):
    """The password-reset ticket was used or replaced since it was read."""


class QuotaExceeded(Exception):
    """A throttle's window is used up; it ends in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class MailUnavailable(Exception):
    """The mail service did not take the message."""


class PaymentUnavailable(Exception):
    """The payment provider could not be reached, timed out or failed: nothing is known to have happened, and
    the same request (with the same idempotency key) may be retried."""


class PaymentRefused(Exception):
    """The payment provider refused the request for good (an amount or currency it does not take, a refund of a
    payment it does not know); retrying will not help."""


class InvalidSignature(Exception):
    """A webhook's signature is missing, malformed, stale or not made with the stage's endpoint secret."""


class EventAlreadyApplied(Exception):
    """The provider event was already applied (its record exists): nothing was written."""


@dataclass(frozen=True)
class RefreshToken:
    """What the token store needs of a verified refresh token."""

    user_id: str
    jti: str
    family: str
    expires_at: int

    @property
    def root(self) -> bool:
        """The refresh token a sign-in issued: its family has no stored state until it is first rotated."""
        return self.jti == self.family


@dataclass(frozen=True)
class ResetTicket:
    """A pending password reset: the e-mailed token is never stored, only its digest, and the ticket is bound
    to the password hash and e-mail address it was issued for (a change of either voids it)."""

    user_id: str
    digest: str
    binding: str
    expires_at: int


@dataclass(frozen=True)
class Quota:
    """One throttle counter: `rate.count` uses per window of `rate.seconds`, under `key`."""

    key: str
    rate: Rate


@dataclass(frozen=True)
class MailMessage:
    """A plain-text e-mail to one recipient."""

    to: str
    subject: str
    text: str


class UploadUnavailable(Exception):
    """The upload was used by another request, or expired, after it was checked."""


class ObjectChanged(Exception):
    """The stored object is no longer the version that was checked (replaced or deleted since)."""


@dataclass(frozen=True)
class Claim:
    """Marks an upload as used, in the same transaction as the write that stores its image: only while it is
    unused, `owner`'s, and unexpired at `now` (seconds since the epoch). Raises UploadUnavailable otherwise."""

    upload_id: str
    owner: str
    now: int


@dataclass(frozen=True)
class StoredResult:
    """The first result of an idempotent request and what identifies that request."""

    fingerprint: str
    result: BookingResult


@dataclass(frozen=True)
class CheckoutRequest:
    """A checkout for one booking: `amount` in the currency's minor unit, payable until `expires_at` (Unix time)."""

    booking_id: str
    event_id: str
    user_id: str
    title: str
    amount: int
    currency: str
    expires_at: int


@dataclass(frozen=True)
class CheckoutSession:
    """A checkout the provider made: where to pay, and until when (Unix time)."""

    id: str
    url: str
    expires_at: int


@dataclass(frozen=True)
class CheckoutState:
    """What the provider knows of a checkout: `open`, `complete` or `expired`, and the payment if it was paid."""

    session_id: str
    status: str
    paid: bool
    payment_intent: str | None


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event about a checkout (`checkout.session.completed`, `...expired`, or another type
    this API ignores). `booking_id` is the checkout's client reference."""

    id: str
    type: str
    session_id: str | None
    booking_id: str | None
    paid: bool
    payment_intent: str | None


@dataclass(frozen=True)
class Promotion:
    """The oldest waiting booking as read (`waiting`) and what it becomes in the freed seat (`promoted`:
    confirmed, or pending payment with a new hold at a paid event)."""

    waiting: Booking
    promoted: Booking


@dataclass(frozen=True)
class IdempotentWrite:
    """The result to store under `key`, in the same transaction as the write that produces it."""

    key: str
    stored: StoredResult
    expires_at: int
    now: int


@dataclass(frozen=True)
class UserQuery:
    """The staff's list of users: any combination of filters, and a search term already normalized with
    `domain.identity`. The term matches a prefix of the username and, once it holds an `@`, of the e-mail."""

    search: str | None = None
    role: Role | None = None
    is_staff: bool | None = None
    is_active: bool | None = None

    @property
    def searches_email(self) -> bool:
        """Whether e-mail addresses are searched too: only a term that reaches the `@` (see the README)."""
        return self.search is not None and "@" in self.search

    def filters_match(self, user: User) -> bool:
        """Whether `user` passes the filters (the search term aside)."""
        return (
            (self.role is None or user.role is self.role)
            and (self.is_staff is None or user.is_staff is self.is_staff)
            and (self.is_active is None or user.is_active is self.is_active)
        )


class UserRepository(Protocol):
    """Accounts, with username and email unique regardless of case."""

    def get(self, user_id: str) -> User | None: ...

    def get_by_username(self, username: str) -> User | None: ...

    def get_by_email(self, email: str) -> User | None: ...

    def add(self, user: User, audit: AuditEntry | None = None) -> None:
        """Store a new user (and `audit`, in the same transaction); raises UniqueViolation when the username or
        email is taken."""

    def save(self, old: User, new: User, audit: AuditEntry | None = None, claim: Claim | None = None) -> None:
        """Replace `old` by `new` if unchanged since read (StaleWrite otherwise); moves the email marker when the
        email changes (UniqueViolation when taken); stores `audit` in the same transaction; with `claim`, marks
        that upload used in it too (UploadUnavailable)."""

    def record_login(self, user_id: str, at: datetime) -> None:
        """Set the user's `last_login` (a change of the account: concurrent saves of it start over)."""

    def list_users(self, query: UserQuery, *, limit: int, start: dict[str, str] | None) -> Page:
        """Users matching `query` in the order of the name that matched (the username, or for a user found only
        by e-mail, the e-mail). A page may hold fewer than `limit` users while `next_key` is set."""


class EventRepository(Protocol):
    """Events and the lists the API shows of them."""

    def get(self, event_id: str) -> Event | None: ...

    def get_with_seat(self, event_id: str, user_id: str) -> tuple[Event | None, BookingStatus | None]:
        """The event and the status of `user_id`'s active booking for it (None without one), read together
        in one request."""

    def get_many(self, event_ids: list[str]) -> dict[str, Event]: ...

    def add(self, event: Event) -> None: ...

    def save(self, old: Event, new: Event, audit: AuditEntry | None = None, claim: Claim | None = None) -> None:
        """Replace `old` by `new` if unchanged since read (StaleWrite otherwise), with `audit` in the same
        transaction; with `claim`, marks that upload used in it too (UploadUnavailable)."""

    def delete(self, event: Event, audit: AuditEntry | None = None) -> None:
        """Delete if unchanged since read and without booked seats (StaleWrite otherwise), with `audit` in the
        same transaction."""

    def list_published(
        self, *, limit: int, start: dict[str, str] | None, creator: str | None, starts_from: str | None
    ) -> Page: ...

    def list_by_creator(self, creator: str, *, limit: int, start: dict[str, str] | None) -> Page: ...

    def list_all(
        self, *, status: EventStatus | None, creator: str | None, limit: int, start: dict[str, str] | None
    ) -> Page:
        """Events of every status (or of `status`), of everyone (or of `creator`), newest first."""


class BookingRepository(Protocol):
    """Bookings; every write keeps the event's seat counters and the active-booking marker in step."""

    def get(self, booking_id: str) -> Booking | None: ...

    def add(self, booking: Booking, *, now: str, record: IdempotentWrite | None) -> None:
        """Store a confirmed or waitlisted booking and count it on its event, in one transaction.

        Raises AlreadyBooked, EventChanged (the event's state no longer allows this status) or KeyAlreadyUsed."""

    def cancel(
        self,
        booking: Booking,
        cancelled: Booking,
        promote: Promotion | None,
        record: IdempotentWrite | None,
        audit: AuditEntry | None = None,
    ) -> None:
        """Cancel `booking` (unchanged since read); for one holding a seat, pass the seat to `promote` (or, with
        no `promote`, free it only while nobody waits). `cancelled` may owe a refund (then it enters the index
        of payment work due). `audit`, when given, is written in the same transaction.

        Raises StaleWrite when any of them changed, KeyAlreadyUsed as `add` does."""

    def expire(
        self, booking: Booking, expired: Booking, promote: Promotion | None, applied: ProviderEvent | None
    ) -> None:
        """End an unpaid hold (`booking` still pending payment), its seat passing as `cancel` does; `applied`,
        when given, is recorded in the same transaction.

        Raises EventAlreadyApplied when `applied` was recorded before, else StaleWrite when anything changed."""

    def withdraw(self, booking: Booking, promote: Promotion | None, record_key: str | None) -> None:
        """Undo a hold whose checkout could not be made: delete the booking (still pending payment), its marker
        and the idempotency record under `record_key`, the seat passing as `cancel` does. Raises StaleWrite."""

    def attach_checkout(self, booking: Booking, payment: Payment) -> None:
        """Store the checkout of a booking still pending payment. Raises StaleWrite otherwise."""

    def confirm(self, booking: Booking, confirmed: Booking, applied: ProviderEvent | None) -> None:
        """Confirm a booking still pending payment (the seat stays counted) with its payment; `applied` as in
        `expire`. Raises EventAlreadyApplied or StaleWrite."""

    def owe_refund(self, booking: Booking, owed: Booking, applied: ProviderEvent | None) -> None:
        """Record a payment that arrived for a booking no longer holding its seat, with the refund it is owed
        (unchanged since read, and no payment recorded yet). Raises EventAlreadyApplied or StaleWrite."""

    def settle_refund(self, booking: Booking, settled: Booking) -> None:
        """Record the outcome of a pending refund (it leaves the index of work due). Raises StaleWrite when the
        refund is no longer pending."""

    def postpone_refund(self, booking: Booking, attempt_at: str) -> None:
        """Retry a pending refund at `attempt_at` (ISO time). Raises StaleWrite when it is no longer pending."""

    def due(self, kind: str, now: str, limit: int) -> list[Booking]:
        """Payment work due at `now`, earliest first, from the index (never a Scan): `hold` (holds ended
        unpaid) or `refund` (refunds to issue or retry)."""

    def get_for_event(self, booking_id: str, event_id: str) -> tuple[Booking | None, bool]:
        """The booking and whether provider event `event_id` was already applied, in one request."""

    def oldest_waitlisted(self, event_id: str) -> Booking | None: ...

    def active_status(self, event_id: str, user_id: str) -> BookingStatus | None:
        """The status of the user's active booking for the event, None without one."""

    def list_by_user(self, user_id: str, *, limit: int, start: dict[str, str] | None) -> Page: ...

    def list_by_event(self, event_id: str, *, limit: int, start: dict[str, str] | None) -> Page: ...


class IdempotencyRepository(Protocol):
    """Results stored by idempotency key."""

    def get(self, key: str, now: int) -> StoredResult | None:
        """The unexpired result under `key`, if any."""


class RefreshFamilies(Protocol):
    """The state of each sign-in's chain of refresh tokens (its family): which token is live, or that the
    family is revoked. Each item lives as long as the newest token of its family."""

    def rotate(self, token: RefreshToken, successor: str, expires_at: int) -> None:
        """Make `successor` (a jti) the family's live token, if `token` is that now; raises TokenRevoked when
        the family is revoked or `token` was already rotated, revoking the family (reuse detection)."""

    def revoke(self, token: RefreshToken) -> None:
        """Revoke `token`'s family (sign-out); raises TokenRevoked when it already was or `token` had been
        rotated already (the family is revoked all the same)."""

    def check(self, token: RefreshToken) -> None:
        """Raises TokenRevoked unless `token` is its family's live token; writes nothing."""


class PasswordResets(Protocol):
    """At most one pending password reset per user."""

    def get(self, user_id: str) -> ResetTicket | None: ...

    def put(self, ticket: ResetTicket) -> None:
        """Store `ticket`, replacing any earlier one of the user (only the latest e-mailed link works)."""

    def redeem(self, ticket: ResetTicket, old: User, new: User) -> None:
        """Delete `ticket` and replace `old` by `new`, in one transaction: raises TicketGone when the ticket
        was used or replaced meanwhile, StaleWrite when the user changed since read."""


class Counters(Protocol):
    """Throttle counters shared by every instance of the API."""

    def take(self, quotas: Sequence[Quota], now: int) -> None:
        """Count one use of every quota, all or none; raises QuotaExceeded (with the seconds until the used-up
        window ends) when one is used up. A quota's window opens at its first use."""

    def give_back(self, quotas: Sequence[Quota], now: int) -> None:
        """Uncount a use taken at `now` (one that turned out not to count), in windows that have not ended."""


class PaymentProvider(Protocol):
    """The payment provider (Stripe): hosted checkouts, refunds and signed webhook events."""

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A checkout for the booking; the same booking always gets the same checkout (the request is
        idempotent per booking). Raises PaymentUnavailable or PaymentRefused."""

    def expire_checkout(self, session_id: str) -> CheckoutState:
        """Close an open checkout so that it can no longer be paid; returns its state afterwards (`complete`
        with its payment if it was paid first). Raises PaymentUnavailable."""

    def refund(self, payment_intent: str, amount: int, booking_id: str) -> str | None:
        """Refund `amount` of a payment, once per booking however often it is asked; the refund's id (None when
        the payment turns out refunded already). Raises PaymentUnavailable or PaymentRefused."""

    def read_event(self, payload: bytes, signature: str | None) -> ProviderEvent:
        """The event a webhook carries, once its signature (over the raw body, with the stage's endpoint
        secret) is verified. Raises InvalidSignature."""


class Mailer(Protocol):
    """Outgoing e-mail."""

    def send(self, message: MailMessage) -> None:
        """Deliver `message` (locally: keep it); raises MailUnavailable when the mail service fails."""


class AuditRepository(Protocol):
    """The audit log of staff writes (written by the other repositories, with each change)."""

    def list(self, *, actor: str | None, object_id: str | None, limit: int, start: dict[str, str] | None) -> Page:
        """Entries, newest first; only those by `actor` and/or about `object_id` when given."""


class UploadRepository(Protocol):
    """Records of uploads (claimed through the user and event repositories' `save`)."""

    def get(self, upload_id: str) -> Upload | None:
        """The upload, claimed or not, expired or not (None when unknown or deleted by its TTL)."""

    def add(self, upload: Upload) -> None: ...


@dataclass(frozen=True)
class PresignedPost:
    """A form a browser posts, with the file as its last field, to `url`: the storage checks the signed policy
    in `fields` (one key, one content type, a size range, an expiry) and stores the file under that key."""

    url: str
    fields: dict[str, str]


@dataclass(frozen=True)
class ObjectStart:
    """The first bytes of a stored object, its whole size in bytes and its version tag (ETag)."""

    head: bytes
    size: int
    etag: str


class ObjectStore(Protocol):
    """The bucket of uploads and media. Every method raises ServiceUnavailable when the storage fails or hangs."""

    def presigned_post(self, key: str, *, content_type: str, max_bytes: int, expires_seconds: int) -> PresignedPost:
        """A signed form for one object under `key`, of exactly `content_type`, of 1 to `max_bytes` bytes."""

    def read_start(self, key: str, length: int) -> ObjectStart | None:
        """The object's first `length` bytes (one ranged read), or None when there is no object under `key`."""

    def publish(self, source: str, target: str, *, etag: str, content_type: str, cache_control: str) -> None:
        """Copy `source` to `target` inside the storage, with these headers, only if `source` is still the
        version tagged `etag` (ObjectChanged otherwise)."""

    def delete(self, key: str) -> None:
        """Remove the object under `key` (nothing happens when there is none)."""
