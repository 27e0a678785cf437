"""Entities of the marketplace as plain dataclasses, free of HTTP and DynamoDB."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


class Role(enum.StrEnum):
    """What a signed-in account may do beyond booking."""

    USER = "USER"
    CREATOR = "CREATOR"


class Access(enum.StrEnum):
    """Access levels of the API's routes, from anyone to staff only."""

    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    CREATOR = "creator"  # creators and staff
    STAFF = "staff"


@dataclass(frozen=True)
class Principal:
    """The verified caller of a request."""

    user_id: str
    username: str
    role: Role
    is_staff: bool

    def has(self, access: Access) -> bool:
        """True when this caller meets `access`."""
        if access is Access.STAFF:
            return self.is_staff
        if access is Access.CREATOR:
            return self.is_staff or self.role is Role.CREATOR
        return True


class BookingStatus(enum.StrEnum):
    """A booking holds a seat (confirmed), holds one until its payment or its hold's end (pending_payment),
    waits for one (waitlisted), or no longer counts (cancelled; expired: a hold that ended unpaid)."""

    CONFIRMED = "confirmed"
    PENDING_PAYMENT = "pending_payment"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# Bookings that count: each holds a seat (confirmed, pending payment) or a waitlist place, and its marker.
ACTIVE_STATUSES = frozenset({BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT, BookingStatus.WAITLISTED})
# Bookings counted in an event's `seats_booked`.
SEAT_STATUSES = frozenset({BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT})


class RefundStatus(enum.StrEnum):
    """Where the money of a paid booking that no longer holds a seat stands: a refund is owed and being issued
    (pending), the provider accepted it (succeeded), it refused it for good (failed: staff must act), or the
    refund policy keeps the money (not_refundable)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_REFUNDABLE = "not_refundable"


class EventStatus(enum.StrEnum):
    """Lifecycle of an event; only published events are listed publicly."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


def normalize_username(username: str) -> str:
    """The stored form of a username: NFKC, as Django's `normalize_username` does, so that compatibility
    characters (`ｕｓｅｒ`, `𝐮𝐬𝐞𝐫`) become the letters they stand for."""
    return unicodedata.normalize("NFKC", username)


def identity(name: str) -> str:
    """What makes two usernames (or email addresses) the same account: equal after NFKC and case folding."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds and Z, the API's one timestamp format."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class User:
    """An account; `password_hash` never leaves the server (public shapes omit it)."""

    id: str
    username: str
    email: str
    password_hash: str
    role: Role = Role.USER
    is_staff: bool = False
    is_active: bool = True
    avatar: str | None = None
    date_joined: datetime = field(default_factory=utcnow)
    last_login: datetime | None = None
    version: int = 1
    # Carried by every token issued to the account; raising it revokes them all (password change or reset,
    # signing out everywhere), since a token is honoured only while its generation is the account's.
    token_generation: int = 0

    def with_changes(self, **changes: object) -> User:
        """A copy with `changes` applied and the version bumped."""
        return replace(self, **changes, version=self.version + 1)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Rate:
    """At most `count` uses per window of `seconds`; a window opens at its first use, and once used up it
    stays closed until it ends."""

    count: int
    seconds: int


@dataclass(frozen=True)
class RateLimits:
    """The throttles of the account endpoints (per stage)."""

    sign_in_username: Rate  # failed password checks per username
    sign_in_ip: Rate  # failed password checks per client IP
    sign_up_ip: Rate  # sign-up requests per client IP
    reset_ip: Rate  # password-reset requests per client IP
    reset_email: Rate  # reset e-mails per address (beyond it, requests are answered alike but send nothing)


@dataclass(frozen=True)
class Event:
    """A session that a creator publishes and users book."""

    id: str
    title: str
    description: str
    creator: str
    creator_username: str
    created_at: datetime
    updated_at: datetime
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: str = "UTC"
    capacity: int | None = None
    seats_booked: int = 0
    waitlisted: int = 0
    price: Decimal = Decimal("0.00")
    currency: str = "USD"
    location: str = ""
    online_url: str | None = None
    image: str | None = None
    status: EventStatus = EventStatus.PUBLISHED
    version: int = 1

    def with_changes(self, **changes: object) -> Event:
        """A copy with `changes` applied, `updated_at` set and the version bumped."""
        return replace(self, **changes, updated_at=utcnow(), version=self.version + 1)  # type: ignore[arg-type]

    @property
    def paid(self) -> bool:
        """Events with a price above zero are paid."""
        return self.price > 0

    def managed_by(self, principal: Principal | None) -> bool:
        """Its creator and staff manage an event: edit it, see drafts and attendees, cancel any booking."""
        return principal is not None and (principal.is_staff or principal.user_id == self.creator)

    def visible_to(self, principal: Principal | None) -> bool:
        """A draft exists only for those who manage it; every other event is public."""
        return self.status is not EventStatus.DRAFT or self.managed_by(principal)

    def shown_to(self, principal: Principal | None, *, holds_seat: bool = False) -> Event:
        """The event as `principal` may see it: a paid event's online link is what people pay for, so only
        those holding a confirmed seat and those who manage the event see it."""
        if self.online_url is None or not self.paid or holds_seat or self.managed_by(principal):
            return self
        return replace(self, online_url=None)


# Currencies whose smallest unit is the unit itself, and those counted in thousandths, as the payment provider
# (Stripe) takes amounts; every other currency is counted in hundredths.
ZERO_DECIMAL_CURRENCIES = frozenset("BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split())
THREE_DECIMAL_CURRENCIES = frozenset("BHD JOD KWD OMR TND".split())
# Counted in hundredths, but card networks take whole units only (Stripe refuses fractional amounts).
WHOLE_UNITS_ONLY = ZERO_DECIMAL_CURRENCIES | {"ISK"}


def minor_units(price: Decimal, currency: str) -> int:
    """`price` in the currency's minor unit, as the payment provider takes it (500 JPY is 500, 5 USD is 500,
    5 KWD is 5000); ValueError when the currency cannot carry it (a fraction of a yen or a krona)."""
    if currency in WHOLE_UNITS_ONLY and price != price.to_integral_value():
        raise ValueError(f"{currency} is charged in whole units: the price must be a whole number.")
    if currency in ZERO_DECIMAL_CURRENCIES:
        return int(price)
    factor = 1000 if currency in THREE_DECIMAL_CURRENCIES else 100
    return int(price * factor)


@dataclass(frozen=True)
class Payment:
    """How a booking of a paid event is paid: what it costs (minor units), the hold on its seat and the
    provider's checkout, the payment once made, and the refund once owed."""

    amount: int
    currency: str
    hold_expires_at: datetime | None = None
    checkout_session: str | None = None
    checkout_url: str | None = None
    # The provider's own deadline for the checkout (at least its minimum lifetime; see services.payments).
    session_expires_at: datetime | None = None
    payment_intent: str | None = None
    refund_status: RefundStatus | None = None
    refund_id: str | None = None


@dataclass(frozen=True)
class Booking:
    """A user's seat (or place in the waitlist) at an event."""

    id: str
    event_id: str
    event_creator: str
    user_id: str
    username: str
    status: BookingStatus
    created_at: datetime
    cancelled_at: datetime | None = None
    payment: Payment | None = None

    @property
    def active(self) -> bool:
        """Confirmed, pending and waitlisted bookings count; cancelled and expired ones do not."""
        return self.status in ACTIVE_STATUSES

    @property
    def confirmed(self) -> bool:
        """Holds a seat, paid for where the event is paid."""
        return self.status is BookingStatus.CONFIRMED

    @property
    def holds_seat(self) -> bool:
        """Counted in the event's `seats_booked`: confirmed, or held while its payment is pending."""
        return self.status in SEAT_STATUSES

    @property
    def checkout_url(self) -> str | None:
        """Where the booking is paid for, while its hold lasts."""
        if self.status is not BookingStatus.PENDING_PAYMENT or self.payment is None:
            return None
        return self.payment.checkout_url

    @property
    def hold_expires_at(self) -> datetime | None:
        """When an unpaid hold ends."""
        if self.status is not BookingStatus.PENDING_PAYMENT or self.payment is None:
            return None
        return self.payment.hold_expires_at

    @property
    def refund_status(self) -> RefundStatus | None:
        """The refund of a paid booking that no longer holds its seat (None while there is nothing to refund)."""
        return self.payment.refund_status if self.payment is not None else None

    def shown_to(self, principal: Principal) -> Booking:
        """The booking as `principal` sees it: the checkout link is its owner's alone to pay through."""
        if self.checkout_url is None or principal.user_id == self.user_id:
            return self
        assert self.payment is not None
        return replace(self, payment=replace(self.payment, checkout_url=None))

    def visible_to(self, principal: Principal) -> bool:
        """Its owner, the event's creator and staff see a booking, and may cancel it; nobody else learns it
        exists."""
        return principal.is_staff or principal.user_id in (self.user_id, self.event_creator)


@dataclass(frozen=True)
class BookingResult:
    """What a booking request produced: the booking, its event as the caller may see it (None once the
    event is deleted), and whether this is the stored result of an earlier identical request."""

    booking: Booking
    event: Event | None
    replayed: bool = False


class AuditAction(enum.StrEnum):
    """What a staff member did; the part before the dot is the type of object acted on."""

    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    EVENT_UPDATE = "event.update"
    EVENT_CANCEL = "event.cancel"
    EVENT_DELETE = "event.delete"
    BOOKING_CANCEL = "booking.cancel"

    @property
    def object_type(self) -> str:
        """`user`, `event` or `booking`."""
        return self.value.split(".", 1)[0]


@dataclass(frozen=True)
class Actor:
    """Who did something: the id and the username they had then."""

    id: str
    username: str


@dataclass(frozen=True)
class AuditEntry:
    """One staff write, stored in the same transaction as the change it records. `changes` maps a field to its
    old and new values, as JSON values (None where there was, or is, nothing)."""

    id: str
    at: datetime
    actor: Actor
    action: AuditAction
    object_id: str
    changes: dict[str, tuple[Any, Any]]

    @property
    def object_type(self) -> str:
        """The type of the object acted on."""
        return self.action.object_type


class UploadPurpose(enum.StrEnum):
    """What an uploaded image is for, which decides who may use it and where."""

    AVATAR = "avatar"
    EVENT_IMAGE = "event_image"


@dataclass(frozen=True)
class Upload:
    """A file a user was allowed to send straight to the bucket, under `key`, as `content_type` of at most
    `size` bytes; usable once (claimed), by its owner, for its purpose (an event image for its event only),
    until `expires_at` (seconds since the epoch)."""

    id: str
    owner: str
    purpose: UploadPurpose
    content_type: str
    size: int
    key: str
    created_at: datetime
    expires_at: int
    event_id: str | None = None
    claimed: bool = False


@dataclass(frozen=True)
class Page:
    """One page of a list: the items and the key to continue after them (None on the last page)."""

    items: list[Any]
    next_key: dict[str, str] | None
