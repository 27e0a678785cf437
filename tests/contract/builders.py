"""Domain objects for the contract tests, at fixed times (every store sees the same clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from chalicelib.domain.audit import Actor, AuditEntry
from chalicelib.domain.bookings import Booking, BookingResult, Payment
from chalicelib.domain.common import Page, iso
from chalicelib.domain.enums import AuditAction, BookingStatus, CancelReason, EventStatus, RefundStatus
from chalicelib.domain.events import Event, Settlement
from chalicelib.domain.users import User
from chalicelib.ids import new_id
from chalicelib.ports.bookings import IdempotentWrite, StoredResult

# The contract's clock: a weekday in 2031, far from any real time so that nothing depends on the machine's.
T0 = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)
NOW = iso(T0)


def at(seconds: float = 0, *, minutes: float = 0, days: float = 0) -> datetime:
    """T0 moved by that much."""
    return T0 + timedelta(seconds=seconds, minutes=minutes, days=days)


def when(seconds: float = 0, *, minutes: float = 0, days: float = 0) -> str:
    """at(...) as the ISO time the ports take."""
    return iso(at(seconds, minutes=minutes, days=days))


def event(**fields: object) -> Event:
    """A published event in ten days, for two, by its own creator (free unless given a price)."""
    values: dict[str, object] = {
        "id": new_id(),
        "title": "Session",
        "description": "About it",
        "creator": new_id(),
        "creator_username": "creator",
        "created_at": T0,
        "updated_at": T0,
        "starts_at": at(days=10),
        "capacity": 2,
        **fields,
    }
    return Event(**values)  # type: ignore[arg-type]


def paid_event(**fields: object) -> Event:
    return event(price=Decimal("12.50"), currency="USD", **fields)


def booking(of: Event, status: BookingStatus = BookingStatus.CONFIRMED, **fields: object) -> Booking:
    """A booking of `of` by a new user, made at T0 unless told."""
    user = str(fields.pop("user_id", new_id()))
    values: dict[str, object] = {
        "id": new_id(),
        "event_id": of.id,
        "event_creator": of.creator,
        "user_id": user,
        "username": f"user-{user[-6:].lower()}",
        "status": status,
        "created_at": T0,
        **fields,
    }
    return Booking(**values)  # type: ignore[arg-type]


def hold_payment(hold_ends: datetime, *, checkout: str | None = None) -> Payment:
    """The payment of a 12.50 USD hold until `hold_ends`, with its checkout when named."""
    return Payment(
        amount=1250,
        currency="USD",
        hold_expires_at=hold_ends,
        checkout_session=checkout,
        checkout_url=f"https://pay.test/{checkout}" if checkout else None,
        session_expires_at=hold_ends + timedelta(minutes=30) if checkout else None,
    )


def hold(of: Event, hold_ends: datetime | None = None, *, checkout: bool = True, **fields: object) -> Booking:
    """A seat held pending payment until `hold_ends` (T0 + 15 min), with a checkout unless told."""
    ends = hold_ends or at(minutes=15)
    held = booking(of, BookingStatus.PENDING_PAYMENT, **fields)
    return replace(held, payment=hold_payment(ends, checkout=f"cs_{held.id}" if checkout else None))


def paid(held: Booking, intent: str | None = None, amount: int | None = None) -> Payment:
    """`held`'s payment once paid (its price unless told)."""
    assert held.payment is not None
    return replace(
        held.payment,
        payment_intent=intent or f"pi_{held.id}",
        paid_amount=held.payment.amount if amount is None else amount,
        paid_currency="USD",
    )


def confirmed_paid(of: Event, **fields: object) -> Booking:
    """A paid, confirmed booking of `of`."""
    held = hold(of, **fields)
    return replace(held, status=BookingStatus.CONFIRMED, payment=paid(held))


def cancelled(
    active: Booking,
    seconds: float = 0,
    *,
    reason: CancelReason = CancelReason.OWNER,
    refund: RefundStatus | None = None,
    status: BookingStatus = BookingStatus.CANCELLED,
) -> Booking:
    """`active` cancelled (or expired) at T0 + `seconds`, its payment owing `refund` when given."""
    payment = active.payment
    if payment is not None and refund is not None:
        payment = replace(payment, refund_status=refund)
    return replace(active, status=status, cancelled_at=at(seconds), cancel_reason=reason, payment=payment)


def with_refund(of: Booking, status: RefundStatus, refund_id: str | None = None) -> Booking:
    assert of.payment is not None
    return replace(of, payment=replace(of.payment, refund_status=status, refund_id=refund_id))


def settling(old: Event, at_time: datetime = T0) -> Event:
    """`old` cancelled, the settlement of its active bookings (as read) starting."""
    active = old.seats_booked + old.waitlisted
    return replace(
        old.with_changes(status=EventStatus.CANCELLED),
        updated_at=at_time,
        settlement=Settlement(bookings=active, remaining=active, started_at=at_time),
    )


def record(key: str, booking_made: Booking, *, expires_at: int, now: int) -> IdempotentWrite:
    """The idempotency record of a request that produced `booking_made`."""
    stored = StoredResult(fingerprint=f"fp-{key}", result=BookingResult(booking_made, None))
    return IdempotentWrite(key=key, stored=stored, expires_at=expires_at, now=now)


def user(username: str, email: str | None = None, **fields: object) -> User:
    values: dict[str, object] = {
        "id": new_id(),
        "username": username,
        "email": f"{username}@example.com" if email is None else email,
        "password_hash": "pbkdf2$not-a-real-hash",
        "date_joined": T0,
        **fields,
    }
    return User(**values)  # type: ignore[arg-type]


def audit_entry(object_id: str, *, actor: str | None = None, seconds: float = 0) -> AuditEntry:
    return AuditEntry(
        id=new_id(),
        at=at(seconds),
        actor=Actor(id=actor or new_id(), username="staff"),
        action=AuditAction.BOOKING_CANCEL,
        object_id=object_id,
        changes={"status": ("confirmed", "cancelled")},
    )


def every_page(read, limit: int) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The ids of each page of a list, following next_key to the end: `read(limit=..., start=...)`."""
    pages: list[list[str]] = []
    start = None
    for _ in range(50):
        page: Page = read(limit=limit, start=start)
        pages.append([item.id for item in page.items])
        if page.next_key is None:
            return pages
        start = page.next_key
    raise AssertionError("the list never ends")
