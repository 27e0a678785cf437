"""Bookings: the booking repository, and the stored results of idempotent requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.domain.audit import AuditEntry
    from chalicelib.domain.bookings import Booking, BookingResult, Payment
    from chalicelib.domain.common import Page
    from chalicelib.domain.enums import BookingStatus
    from chalicelib.ports.payments import ProviderEvent


class AlreadyBooked(Exception):
    """The user already holds an active booking for the event."""


class EventChanged(Exception):
    """The event no longer matches what the booking was decided on (full, freed up, cancelled, started)."""


class KeyAlreadyUsed(Exception):
    """An unexpired response is already stored under this idempotency key."""


@dataclass(frozen=True)
class StoredResult:
    """The first result of an idempotent request and what identifies that request."""

    fingerprint: str
    result: BookingResult


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


class BookingRepository(Protocol):
    """Bookings; every write keeps the event's seat counters and the active-booking marker in step."""

    def get(self, booking_id: str) -> Booking | None: ...

    def add(self, booking: Booking, *, now: str, record: IdempotentWrite | None, shards: int = 1) -> Booking:
        """Store a confirmed or waitlisted booking and count it on its event (whose `shards` seat counters the
        store may spread bookings over), in one transaction; the booking as stored (with its `seat`).

        Raises AlreadyBooked, EventChanged (the event's state no longer allows this status) or KeyAlreadyUsed."""

    def cancel(
        self,
        booking: Booking,
        cancelled: Booking,
        promote: Promotion | None,
        record: IdempotentWrite | None,
        audit: AuditEntry | None = None,
    ) -> None:
        """Cancel `booking` (unchanged since read); for one holding a seat, pass the seat to `promote` (never
        at a cancelled event) or, with no `promote`, free it only while nobody waits (at a cancelled event,
        whoever waits). `cancelled` may owe a refund (then it enters the index of payment work due; one owed
        because the event was cancelled is also counted in the event's settlement); a cancelled hold stays in
        the index of holds, due a minute later, until `checkout_closed`. `audit`, when given, is written in the
        same transaction.

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
        """Record a payment that bought nothing (a booking no longer holding its seat, or another amount or
        currency than its price), with the refund it is owed (unchanged since read, and no payment recorded
        yet); counted on the event's settlement when the booking was cancelled with its event. Raises
        EventAlreadyApplied or StaleWrite."""

    def grant_refund(self, booking: Booking, owed: Booking, audit: AuditEntry | None) -> None:
        """Owe the refund of a payment the policy had kept (`not_refundable` until now), with `audit` in the same
        transaction. Raises StaleWrite when its refund status changed."""

    def settle_refund(self, booking: Booking, settled: Booking) -> None:
        """Record the outcome of a pending refund (it leaves the index of work due; counted on the event's
        settlement when the booking was cancelled with its event). Raises StaleWrite when the refund is no longer
        pending."""

    def postpone_refund(self, booking: Booking, attempt_at: str) -> None:
        """Retry a pending refund at `attempt_at` (ISO time). Raises StaleWrite when it is no longer pending, or
        is owed on a hold still running (it is retried when the hold ends)."""

    def recheck_checkout(self, booking: Booking, attempt_at: str) -> None:
        """Have the sweep close the checkout of the cancelled hold `booking` at `attempt_at`, not before (the
        provider was unreachable). Raises StaleWrite when it changed, or a payment is recorded on it."""

    def checkout_closed(self, booking: Booking) -> None:
        """The cancelled hold's checkout is closed unpaid: nothing more is due. Raises StaleWrite as above."""

    def due(self, kind: str, now: str, limit: int) -> list[Booking]:
        """Payment work due at `now`, earliest first, from the index (never a Scan): `hold` (holds ended
        unpaid, and checkouts of cancelled holds to close) or `refund` (refunds to issue or retry)."""

    def oldest_owed_refund(self) -> datetime | None:
        """When the longest-owed refund in the index of refunds to issue or retry became owed (its booking's
        cancellation, else its creation); None when none is owed. Reads that index (never a Scan)."""

    def get_for_event(self, booking_id: str, event_id: str) -> tuple[Booking | None, bool]:
        """The booking and whether provider event `event_id` was already applied, in one request."""

    def oldest_waitlisted(self, event_id: str) -> Booking | None: ...

    def active_status(self, event_id: str, user_id: str) -> BookingStatus | None:
        """The status of the user's active booking for the event, None without one."""

    def list_by_user(self, user_id: str, *, limit: int, start: dict[str, str] | None) -> Page: ...

    def list_by_event(self, event_id: str, *, parts: int, limit: int, start: dict[str, str] | None) -> Page:
        """The event's bookings, newest first, in full pages: every one of its `parts` (Event.booking_parts) is
        read for each page."""

    def list_by_event_part(self, event_id: str, *, parts: int, limit: int, start: dict[str, str] | None) -> Page:
        """The event's bookings for those who want each once in any order (the settlement, the notifications):
        part after part of its `parts`, newest first within each (so an event of one part reads as its attendee
        list), each page starting where the one before stopped. Every page is full but the last, which may be
        empty."""


class IdempotencyRepository(Protocol):
    """Results stored by idempotency key."""

    def get(self, key: str, now: int) -> StoredResult | None:
        """The unexpired result under `key`, if any."""
