"""In-memory repositories with the same contract as the DynamoDB ones, for service unit tests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TypeVar

from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.bookings import Booking, Payment
from chalicelib.domain.common import Page, iso, utcnow
from chalicelib.domain.enums import SEAT_STATUSES, BookingStatus, CancelReason, EventStatus, RefundStatus
from chalicelib.domain.events import Event, Settlement
from chalicelib.domain.queue import QueueEntry
from chalicelib.domain.search import SearchQuery, created_key, matches, start_key
from chalicelib.domain.uploads import Upload
from chalicelib.domain.users import User, identity
from chalicelib.errors import ServiceUnavailable
from chalicelib.ports.bookings import (
    AlreadyBooked,
    EventChanged,
    IdempotentWrite,
    KeyAlreadyUsed,
    Promotion,
    StoredResult,
)
from chalicelib.ports.common import StaleWrite, UniqueViolation
from chalicelib.ports.digests import BOOKED, CANCELLED, Tally
from chalicelib.ports.mail import MailMessage, MailUnavailable
from chalicelib.ports.notices import Claimed
from chalicelib.ports.payments import (
    CheckoutRequest,
    CheckoutSession,
    CheckoutState,
    EventAlreadyApplied,
    InvalidSignature,
    PaymentRefused,
    PaymentUnavailable,
    ProviderEvent,
)
from chalicelib.ports.queue import EntryExists
from chalicelib.ports.throttling import Quota, QuotaExceeded, Verdict
from chalicelib.ports.throttling import Window as ThrottleWindow
from chalicelib.ports.tokens import RefreshToken, ResetTicket, TicketGone, TokenRevoked
from chalicelib.ports.uploads import Claim, ObjectChanged, ObjectStart, PresignedPost, UploadUnavailable
from chalicelib.ports.users import UserQuery
from chalicelib.security.lookalikes import lookalike_key

T = TypeVar("T", Event, Booking, AuditEntry)


def _page_after(
    items: Iterable[T], position: Callable[[T], str], limit: int, start: dict[str, str] | None, *, newest_first: bool
) -> Page:
    """One page of `items` in the order of their index key `position` (`<time>#<id>`, as the DynamoDB indexes sort
    them), after the position `start` names: the list continues there even when that item has left it since."""
    ordered = sorted(items, key=position, reverse=newest_first)
    if start:
        after = start["pos"]
        ordered = [i for i in ordered if (position(i) < after if newest_first else position(i) > after)]
    shown = ordered[:limit]
    more = len(ordered) > limit
    return Page(items=shown, next_key={"id": shown[-1].id, "pos": position(shown[-1])} if more else None)


def _created(item: Event | Booking) -> str:
    """The position of an event or a booking in the lists by creation."""
    return f"{iso(item.created_at)}#{item.id}"


class FakeAudit:
    """ports.AuditRepository over a list the other fakes append to, only when their change succeeds."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry | None) -> None:
        if entry is not None:
            self.entries.append(entry)

    def list(self, *, actor: str | None, object_id: str | None, limit: int, start: dict[str, str] | None) -> Page:
        items = [
            e
            for e in self.entries
            if (actor is None or e.actor.id == actor) and (object_id is None or e.object_id == object_id)
        ]
        return _page_after(items, lambda e: f"{iso(e.at)}#{e.id}", limit, start, newest_first=True)


class FakeUploads:
    """ports.UploadRepository in a dict; FakeUsers and FakeEvents claim through it, with DynamoDB's condition."""

    def __init__(self) -> None:
        self.by_id: dict[str, Upload] = {}

    def get(self, upload_id: str) -> Upload | None:
        return self.by_id.get(upload_id)

    def add(self, upload: Upload) -> None:
        assert upload.id not in self.by_id
        self.by_id[upload.id] = upload

    def check(self, claim: Claim | None) -> None:
        """Raise UploadUnavailable unless `claim` holds (unused, the owner's, unexpired)."""
        upload = self.by_id.get(claim.upload_id) if claim else None
        if claim and (
            upload is None or upload.claimed or upload.owner != claim.owner or upload.expires_at <= claim.now
        ):
            raise UploadUnavailable()

    def claim(self, claim: Claim | None) -> None:
        if claim is not None:
            self.by_id[claim.upload_id] = replace(self.by_id[claim.upload_id], claimed=True)


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    content_type: str
    cache_control: str | None = None

    @property
    def etag(self) -> str:
        return f'"{hashlib.md5(self.data).hexdigest()}"'


class FakeObjectStore:
    """ports.ObjectStore in a dict. Forms are recorded, not enforced: tests `put` what a browser would leave."""

    def __init__(self) -> None:
        self.objects: dict[str, StoredObject] = {}
        self.forms: list[dict[str, object]] = []
        self.reads: list[tuple[str, int]] = []

    def put(self, key: str, data: bytes, content_type: str = "binary/octet-stream") -> None:
        self.objects[key] = StoredObject(data, content_type)

    def presigned_post(self, key: str, *, content_type: str, max_bytes: int, expires_seconds: int) -> PresignedPost:
        self.forms.append(
            {"key": key, "content_type": content_type, "max_bytes": max_bytes, "expires_seconds": expires_seconds}
        )
        return PresignedPost(url="https://uploads.test/", fields={"key": key, "Content-Type": content_type})

    def read_start(self, key: str, length: int) -> ObjectStart | None:
        self.reads.append((key, length))
        stored = self.objects.get(key)
        return ObjectStart(stored.data[:length], len(stored.data), stored.etag) if stored else None

    def publish(self, source: str, target: str, *, etag: str, content_type: str, cache_control: str) -> None:
        stored = self.objects.get(source)
        if stored is None or stored.etag != etag:
            raise ObjectChanged()
        self.objects[target] = StoredObject(stored.data, content_type, cache_control)

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    def keys(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))


class FakeUsers:
    """ports.UserRepository in a dict."""

    def __init__(self, audit: FakeAudit | None = None, uploads: FakeUploads | None = None) -> None:
        self.by_id: dict[str, User] = {}
        self.audit = audit or FakeAudit()
        self.uploads = uploads or FakeUploads()

    def get(self, user_id: str) -> User | None:
        return self.by_id.get(user_id)

    def get_by_username(self, username: str) -> User | None:
        return next((u for u in self.by_id.values() if identity(u.username) == identity(username)), None)

    def get_by_email(self, email: str) -> User | None:
        return next((u for u in self.by_id.values() if u.email and identity(u.email) == identity(email)), None)

    def _taken(self, user: User, ignore: str | None = None) -> list[str]:
        taken = []
        others = [u for u in self.by_id.values() if u.id != ignore]
        if any(identity(u.username) == identity(user.username) for u in others):
            taken.append("username")
        if any(lookalike_key(u.username) == lookalike_key(user.username) for u in others):
            taken.append("lookalike")
        if user.email and any(identity(u.email) == identity(user.email) for u in others):
            taken.append("email")
        return taken

    def add(self, user: User, audit: AuditEntry | None = None) -> None:
        taken = self._taken(user)
        if taken:
            raise UniqueViolation(taken)
        self.by_id[user.id] = user
        self.audit.record(audit)

    def save(self, old: User, new: User, audit: AuditEntry | None = None, claim: Claim | None = None) -> None:
        current = self.by_id.get(old.id)
        if current is None or current.version != old.version:
            raise StaleWrite()
        self.uploads.check(claim)
        if "email" in self._taken(new, ignore=new.id):
            raise UniqueViolation(["email"])
        self.uploads.claim(claim)
        self.by_id[new.id] = new
        self.audit.record(audit)

    def record_login(self, user_id: str, at: datetime) -> None:
        user = self.by_id.get(user_id)
        if user is not None:
            self.by_id[user_id] = user.with_changes(last_login=at)

    def list_users(self, query: UserQuery, *, limit: int, start: dict[str, str] | None) -> Page:
        # Each user once, under the name that matched (the username first), in key order like the indexes.
        term = query.search or ""
        keyed = []
        for user in self.by_id.values():
            if not query.filters_match(user):
                continue
            if identity(user.username).startswith(term):
                keyed.append((f"{identity(user.username)}#{user.id}", user))
            elif query.searches_email and user.email and identity(user.email).startswith(term):
                keyed.append((f"{identity(user.email)}#{user.id}", user))
        keyed.sort(key=lambda pair: pair[0])
        if start:
            keyed = [pair for pair in keyed if pair[0] > start["pos"]]
        more = len(keyed) > limit
        keyed = keyed[:limit]
        return Page(items=[user for _, user in keyed], next_key={"pos": keyed[-1][0]} if more else None)


def _starts(event: Event) -> str:
    """The position of an event in the lists by start."""
    assert event.starts_at is not None
    return f"{iso(event.starts_at)}#{event.id}"


class FakeEvents:
    """ports.EventRepository in a dict; lists sort like the indexes do."""

    def __init__(self, audit: FakeAudit | None = None, uploads: FakeUploads | None = None) -> None:
        self.by_id: dict[str, Event] = {}
        self.bookings: FakeBookings | None = None  # set by FakeBookings, whose markers get_with_seat reads
        self.settle_at: dict[str, str] = {}  # settlements due: when to look at each next
        # What the lists show of each event's seats (copy_seats): (booked, waitlisted, copied at); none: 0, 0.
        self.listed: dict[str, tuple[int, int, str]] = {}
        self.audit = audit or FakeAudit()
        self.uploads = uploads or FakeUploads()

    def _read(self, event: Event | None) -> Event | None:
        """The event as the store reads it: its settlement's `remaining` is the counters' sum."""
        if event is None or event.settlement is None:
            return event
        remaining = event.seats_booked + event.waitlisted
        return replace(event, settlement=replace(event.settlement, remaining=remaining))

    def get(self, event_id: str, *, consistent: bool = True) -> Event | None:
        return self._read(self.by_id.get(event_id))

    def get_with_seat(self, event_id: str, user_id: str) -> tuple[Event | None, BookingStatus | None]:
        seat = self.bookings.active_status(event_id, user_id) if self.bookings else None
        return self.get(event_id), seat

    def get_many(self, event_ids: list[str]) -> dict[str, Event]:
        return {i: self._read(self.by_id[i]) for i in event_ids if i in self.by_id}

    def add(self, event: Event) -> None:
        self.by_id[event.id] = replace(event, booking_parts=max(event.booking_parts, event.seat_shards))
        self.listed[event.id] = (event.seats_booked, event.waitlisted, iso(event.created_at))

    def save(self, old: Event, new: Event, audit: AuditEntry | None = None, claim: Claim | None = None) -> None:
        current = self.by_id.get(old.id)
        if current is None or current.version != old.version:
            raise StaleWrite()
        if new.capacity is not None and current.seats_booked > new.capacity:
            raise StaleWrite()
        starts = new.settlement is not None and old.settlement is None
        if starts and (current.seats_booked, current.waitlisted) != (old.seats_booked, old.waitlisted):
            raise StaleWrite()
        self.uploads.check(claim)
        self.uploads.claim(claim)
        # The counters and the settlement are the store's: an edit never writes them, but may start the latter
        # (its total and start only, as the DynamoDB update does).
        settlement = current.settlement
        if starts:
            assert new.settlement is not None
            started = new.settlement.started_at or new.updated_at
            settlement = Settlement(bookings=new.settlement.bookings, started_at=started)
            self.settle_at[new.id] = iso(started)
        parts = max(current.booking_parts, current.seat_shards, new.booking_parts, new.seat_shards)
        self.by_id[new.id] = replace(
            new,
            seats_booked=current.seats_booked,
            waitlisted=current.waitlisted,
            settlement=settlement,
            booking_parts=parts,
        )
        self.audit.record(audit)

    def delete(self, event: Event, audit: AuditEntry | None = None) -> None:
        current = self.by_id.get(event.id)
        if current is None or current.version != event.version or current.seats_booked or current.waitlisted:
            raise StaleWrite()
        if event.id in self.settle_at or (current.settlement and current.settlement.refunds_pending):
            raise StaleWrite()
        del self.by_id[event.id]
        self.audit.record(audit)

    # The settlement of cancelled events, with the same conditions as persistence.events.

    def settlements_due(self, now: str, limit: int) -> list[str]:
        due = sorted((at, event_id) for event_id, at in self.settle_at.items() if at < now)
        return [event_id for _, event_id in due][:limit]

    def _settlement(self, event_id: str) -> Settlement:
        current = self.by_id.get(event_id)
        if current is None or current.settlement is None or event_id not in self.settle_at:
            raise StaleWrite()
        return current.settlement

    def save_settlement_position(self, event: Event, position: dict[str, str] | None, next_at: str) -> None:
        settlement = self._settlement(event.id)
        self.by_id[event.id] = replace(self.by_id[event.id], settlement=replace(settlement, position=position))
        self.settle_at[event.id] = next_at

    def mark_reminded(self, event: Event) -> bool:
        current = self.by_id.get(event.id)
        if (
            current is None
            or event.starts_at is None
            or current.starts_at != event.starts_at
            or current.status is not EventStatus.PUBLISHED
            or current.reminded_for == event.starts_at
        ):
            return False
        self.by_id[event.id] = replace(current, reminded_for=event.starts_at)
        return True

    def finish_settlement(self, event: Event, at: datetime) -> None:
        settlement = self._settlement(event.id)
        current = self.by_id[event.id]
        if current.seats_booked or current.waitlisted:
            raise StaleWrite()
        done = replace(settlement, position=None, completed_at=at)
        self.by_id[event.id] = replace(current, settlement=done)
        del self.settle_at[event.id]

    def count_refund(self, event_id: str, pending: int, outcome: RefundStatus | None = None) -> None:
        """Move the refund counters of an event's settlement (no event, nothing: as the conditional update)."""
        current = self.by_id.get(event_id)
        if current is None or current.settlement is None:
            return
        settlement = replace(current.settlement, refunds_pending=current.settlement.refunds_pending + pending)
        if outcome is RefundStatus.SUCCEEDED:
            settlement = replace(settlement, refunds_succeeded=settlement.refunds_succeeded + 1)
        elif outcome is RefundStatus.FAILED:
            settlement = replace(settlement, refunds_failed=settlement.refunds_failed + 1)
        self.by_id[event_id] = replace(current, settlement=settlement)

    def copy_seats(self, event_ids: Sequence[str], at: datetime) -> int:
        written = 0
        for event_id in dict.fromkeys(event_ids):
            event = self.by_id.get(event_id)
            if event is None:
                continue
            booked, waiting, stamp = self.listed.get(event_id, (0, 0, ""))
            if event_id in self.listed and (
                stamp >= iso(at) or (booked, waiting) == (event.seats_booked, event.waitlisted)
            ):
                continue
            self.listed[event_id] = (event.seats_booked, event.waitlisted, iso(at))
            written += 1
        return written

    def _as_listed(self, page: Page) -> Page:
        """A list's page as the lists show it: with the seats last copied (copy_seats), not the counters."""

        def copied(event: Event) -> Event:
            booked, waiting, _ = self.listed.get(event.id, (0, 0, ""))
            return replace(event, seats_booked=booked, waitlisted=waiting)

        return page._replace(items=[copied(event) for event in page.items])

    def list_published(
        self, *, limit: int, start: dict[str, str] | None, creator: str | None, starts_from: str | None
    ) -> Page:
        items = [e for e in self.by_id.values() if e.status is EventStatus.PUBLISHED]
        if creator:
            items = [e for e in items if e.creator == creator]
        if starts_from is not None:
            upcoming = [e for e in items if e.starts_at and iso(e.starts_at) >= starts_from]
            return self._as_listed(_page_after(upcoming, _starts, limit, start, newest_first=False))
        return self._as_listed(_page_after(items, _created, limit, start, newest_first=True))

    def list_started(self, creator: str, *, before: str, limit: int, start: dict[str, str] | None) -> Page:
        items = [
            e
            for e in self.by_id.values()
            if e.status is EventStatus.PUBLISHED and e.creator == creator and e.starts_at and iso(e.starts_at) < before
        ]
        return self._as_listed(_page_after(items, _starts, limit, start, newest_first=True))

    def list_by_creator(self, creator: str, *, limit: int, start: dict[str, str] | None) -> Page:
        items = [e for e in self.by_id.values() if e.creator == creator]
        return self._as_listed(_page_after(items, _created, limit, start, newest_first=True))

    def list_all(
        self, *, status: EventStatus | None, creator: str | None, limit: int, start: dict[str, str] | None
    ) -> Page:
        items = [
            e
            for e in self.by_id.values()
            if (status is None or e.status is status) and (creator is None or e.creator == creator)
        ]
        return self._as_listed(_page_after(items, _created, limit, start, newest_first=True))

    def book_seats(self, event_id: str, seats: int) -> None:
        """Test helper: count seats as booked without making bookings."""
        event = self.by_id[event_id]
        self.by_id[event_id] = replace(event, seats_booked=event.seats_booked + seats, version=event.version + 1)


class FakeEventSearch:
    """ports.search.EventSearch over FakeEvents: domain.search.matches over every event, in the query's order.
    Its pages are always full; the DynamoDB adapter's may be shorter (the contract compares whole results)."""

    def __init__(self, events: FakeEvents) -> None:
        self.events = events

    def search(self, query: SearchQuery, *, limit: int, start: dict[str, str] | None) -> Page:
        soonest = query.sort == "soonest"

        def order(event: Event) -> str:
            return start_key(event.id, event.starts_at) if soonest else created_key(event.id, event.created_at)

        found = sorted((e for e in self.events.by_id.values() if matches(e, query)), key=order, reverse=not soonest)
        if start is not None:
            found = [e for e in found if (order(e) > start["at"]) == soonest and order(e) != start["at"]]
        shown = found[:limit]
        next_key = {"at": order(shown[-1])} if len(found) > limit else None
        return Page(items=[e for e in (self.events.get(e.id) for e in shown) if e is not None], next_key=next_key)


class FakeBookings:
    """ports.BookingRepository over a FakeEvents, with the transaction's conditions."""

    def __init__(self, events: FakeEvents) -> None:
        self.events = events
        events.bookings = self
        self.by_id: dict[str, Booking] = {}
        self.records: dict[str, StoredResult] = {}
        self.record_expires: dict[str, int] = {}  # when each record expires (Unix time): then it counts as absent
        self.applied: set[str] = set()  # provider events recorded as applied
        self.refund_attempt_at: dict[str, str] = {}  # postponed refunds: when they are tried next
        self.checkout_recheck: dict[str, str] = {}  # cancelled holds whose checkout is still to close: when
        self.parts: dict[str, int] = {}  # booking id -> its part of the event's bookings, fixed when it is made

    def get(self, booking_id: str) -> Booking | None:
        return self.by_id.get(booking_id)

    def active_status(self, event_id: str, user_id: str) -> BookingStatus | None:
        return next(
            (b.status for b in self.by_id.values() if b.active and (b.event_id, b.user_id) == (event_id, user_id)),
            None,
        )

    def stored(self, key: str, now: int) -> StoredResult | None:
        """The record under `key` unless it expired by `now` (TTL deletes it late: it counts as absent)."""
        if key in self.records and self.record_expires.get(key, 0) > now:
            return self.records[key]
        return None

    def _check_record(self, record: IdempotentWrite | None) -> None:
        if record is not None and self.stored(record.key, record.now) is not None:
            raise KeyAlreadyUsed()

    def _store(self, record: IdempotentWrite | None) -> None:
        self._check_record(record)
        if record is not None:
            self.records[record.key] = record.stored
            self.record_expires[record.key] = record.expires_at

    def add(self, booking: Booking, *, now: str, record: IdempotentWrite | None, shards: int = 1) -> Booking:
        # One counter whatever `shards` says: the store's spreading of seats over counters has no rule of its own
        # beyond the total (tests/contract hold DynamoDB to the same totals with several counters).
        self._check_record(record)
        if any(
            b.active and (b.event_id, b.user_id) == (booking.event_id, booking.user_id) for b in self.by_id.values()
        ):
            raise AlreadyBooked()
        event = self.events.by_id.get(booking.event_id)
        if event is None:
            raise EventChanged()  # deleted meanwhile: the condition on its status fails
        started = event.starts_at is not None and iso(event.starts_at) <= now
        full = event.capacity is not None and event.seats_booked >= event.capacity
        takes_seat = booking.status in SEAT_STATUSES
        if event.status is not EventStatus.PUBLISHED or started or full == takes_seat:
            raise EventChanged()
        self._store(record)
        placed = replace(booking, seat=0) if takes_seat else booking
        self.by_id[booking.id] = placed
        self.parts[booking.id] = placed.seat or 0
        counter = "seats_booked" if takes_seat else "waitlisted"
        self.events.by_id[event.id] = replace(event, **{counter: getattr(event, counter) + 1})
        return placed

    # Releasing a seat or a waitlist place: the same conditions as persistence.bookings' transaction items
    # (the booking's status as read and its marker, the promoted booking still waiting, `waitlisted = 0` when
    # freeing a seat).

    def _check_release(self, booking: Booking, promote: Promotion | None) -> None:
        current = self.by_id.get(booking.id)
        if current is None or current.status is not booking.status or not current.active:
            raise StaleWrite()  # changed, or no longer active: it holds no marker to release
        if promote is not None:
            waiting = self.by_id.get(promote.waiting.id)
            if waiting is None or waiting.status is not BookingStatus.WAITLISTED:
                raise StaleWrite()
        event = self.events.by_id.get(booking.event_id)
        if event is None:
            raise StaleWrite()  # its counters' conditions fail on a deleted event
        cancelled = event.status is EventStatus.CANCELLED
        if promote is not None and cancelled:
            raise StaleWrite()  # nobody is promoted into a cancelled event
        someone_waits = event.waitlisted and not cancelled
        if booking.status in SEAT_STATUSES and promote is None and (someone_waits or event.seats_booked <= 0):
            raise StaleWrite()
        if booking.status is BookingStatus.WAITLISTED and event.waitlisted <= 0:
            raise StaleWrite()

    def _release(self, booking: Booking, promote: Promotion | None) -> None:
        event = self.events.by_id[booking.event_id]
        if booking.status is BookingStatus.WAITLISTED:
            event = replace(event, waitlisted=event.waitlisted - 1)
        elif promote is not None:
            self.by_id[promote.waiting.id] = promote.promoted
            event = replace(event, waitlisted=event.waitlisted - 1)
        else:
            event = replace(event, seats_booked=event.seats_booked - 1)
        self.events.by_id[event.id] = event

    def _apply(self, applied: ProviderEvent | None) -> None:
        if applied is not None and applied.id in self.applied:
            raise EventAlreadyApplied()

    def cancel(
        self,
        booking: Booking,
        cancelled: Booking,
        promote: Promotion | None,
        record: IdempotentWrite | None,
        audit: AuditEntry | None = None,
    ) -> None:
        self._check_record(record)  # the stored record wins over any other failed condition, as in DynamoDB's
        self._check_release(booking, promote)
        self._store(record)
        self.by_id[booking.id] = cancelled
        self._release(booking, promote)
        self._moved(booking.id)
        payment = cancelled.payment
        if (
            booking.status is BookingStatus.PENDING_PAYMENT
            and cancelled.status is BookingStatus.CANCELLED
            and payment
            and payment.checkout_session
            and not payment.payment_intent
        ):
            # Its checkout is owed a closing, in the index of holds, from a minute on (as _mark_ended does).
            self.checkout_recheck[booking.id] = iso((cancelled.cancelled_at or utcnow()) + timedelta(seconds=60))
        if cancelled.cancel_reason is CancelReason.EVENT_CANCELLED and cancelled.refund_status is RefundStatus.PENDING:
            self.events.count_refund(booking.event_id, 1)
        self.events.audit.record(audit)

    def expire(
        self, booking: Booking, expired: Booking, promote: Promotion | None, applied: ProviderEvent | None
    ) -> None:
        self._apply(applied)
        if booking.status is not BookingStatus.PENDING_PAYMENT:
            raise StaleWrite()
        self._check_release(booking, promote)
        self.by_id[booking.id] = expired
        self._release(booking, promote)
        self._moved(booking.id)
        if applied is not None:
            self.applied.add(applied.id)

    def withdraw(self, booking: Booking, promote: Promotion | None, record_key: str | None) -> None:
        if booking.status is not BookingStatus.PENDING_PAYMENT:
            raise StaleWrite()
        self._check_release(booking, promote)
        del self.by_id[booking.id]
        self.records.pop(record_key or "", None)
        self.record_expires.pop(record_key or "", None)
        self._release(booking, promote)
        self._moved(booking.id)

    def attach_checkout(self, booking: Booking, payment: Payment) -> None:
        current = self.by_id.get(booking.id)
        if current is None or current.status is not BookingStatus.PENDING_PAYMENT:
            raise StaleWrite()
        # Only the checkout is written: a payment recorded meanwhile stays.
        checkout = {
            "checkout_session": payment.checkout_session,
            "checkout_url": payment.checkout_url,
            "session_expires_at": payment.session_expires_at,
        }
        self.by_id[booking.id] = replace(current, payment=replace(current.payment or payment, **checkout))

    def confirm(self, booking: Booking, confirmed: Booking, applied: ProviderEvent | None) -> None:
        self._apply(applied)
        current = self.by_id.get(booking.id)
        if current is None or current.status is not BookingStatus.PENDING_PAYMENT:
            raise StaleWrite()
        self.by_id[booking.id] = confirmed
        self._moved(booking.id)
        if applied is not None:
            self.applied.add(applied.id)

    def owe_refund(self, booking: Booking, owed: Booking, applied: ProviderEvent | None) -> None:
        self._apply(applied)
        current = self.by_id.get(booking.id)
        paid = current is not None and current.payment is not None and current.payment.payment_intent is not None
        if current is None or current.status is not booking.status or paid:
            raise StaleWrite()
        self.by_id[booking.id] = owed
        self._moved(booking.id)  # a cancelled hold leaves the holds for the refunds
        if owed.cancel_reason is CancelReason.EVENT_CANCELLED:
            self.events.count_refund(booking.event_id, 1)
        if applied is not None:
            self.applied.add(applied.id)

    def grant_refund(self, booking: Booking, owed: Booking, audit: AuditEntry | None) -> None:
        current = self.by_id.get(booking.id)
        if current is None or current.refund_status is not RefundStatus.NOT_REFUNDABLE:
            raise StaleWrite()
        self.by_id[booking.id] = owed
        self._moved(booking.id)
        self.events.audit.record(audit)

    def _refund_pending(self, booking: Booking) -> Booking:
        current = self.by_id.get(booking.id)
        if current is None or current.refund_status is not RefundStatus.PENDING:
            raise StaleWrite()
        return current

    def settle_refund(self, booking: Booking, settled: Booking) -> None:
        self._refund_pending(booking)
        self.by_id[booking.id] = settled
        self._moved(booking.id)
        if booking.cancel_reason is CancelReason.EVENT_CANCELLED:
            self.events.count_refund(booking.event_id, -1, settled.refund_status)

    def postpone_refund(self, booking: Booking, attempt_at: str) -> None:
        current = self._refund_pending(booking)
        place = self._due_at(current)
        if place is None or place[0] != "refund":
            raise StaleWrite()  # owed on a hold still running: it keeps the hold's place in the index
        self.refund_attempt_at[booking.id] = attempt_at

    def recheck_checkout(self, booking: Booking, attempt_at: str) -> None:
        current = self.by_id.get(booking.id)
        if (
            current is None
            or current.status is not booking.status
            or (current.payment and current.payment.payment_intent)
        ):
            raise StaleWrite()
        self.checkout_recheck[booking.id] = attempt_at

    def checkout_closed(self, booking: Booking) -> None:
        current = self.by_id.get(booking.id)
        if current is None or current.status is not BookingStatus.CANCELLED or booking.id not in self.checkout_recheck:
            raise StaleWrite()
        if current.payment and current.payment.payment_intent:
            raise StaleWrite()
        del self.checkout_recheck[booking.id]

    def _moved(self, booking_id: str) -> None:
        """A write that places the booking in the index of work due by its new state (as _payment_actions)."""
        self.checkout_recheck.pop(booking_id, None)
        self.refund_attempt_at.pop(booking_id, None)

    def _due_at(self, b: Booking) -> tuple[str, str] | None:
        """The booking's one place in the index of payment work due (persistence.bookings' `pay_due`), as (kind,
        when): a cancelled hold's checkout to close, a hold by its end (a refund owed on it waits for that end),
        or a refund owed by its next attempt."""
        payment = b.payment
        if payment is None:
            return None
        if b.id in self.checkout_recheck:
            return "hold", self.checkout_recheck[b.id]
        if b.status is BookingStatus.PENDING_PAYMENT and payment.hold_expires_at:
            return "hold", iso(payment.hold_expires_at)
        if payment.refund_status is RefundStatus.PENDING:
            return "refund", self.refund_attempt_at.get(b.id) or iso(b.cancelled_at or b.created_at)
        return None

    def due(self, kind: str, now: str, limit: int) -> list[Booking]:
        due = [(place[1], b) for b in self.by_id.values() if (place := self._due_at(b)) and place[0] == kind]
        return [b for when, b in sorted(due, key=lambda d: (d[0], d[1].id)) if when < now][:limit]

    def get_for_event(self, booking_id: str, event_id: str) -> tuple[Booking | None, bool]:
        return self.by_id.get(booking_id), event_id in self.applied

    def oldest_owed_refund(self) -> datetime | None:
        refunds = [b for b in self.by_id.values() if (place := self._due_at(b)) and place[0] == "refund"]
        owed = [b.cancelled_at or b.created_at for b in refunds]
        return min(owed, default=None)

    def oldest_waitlisted(self, event_id: str) -> Booking | None:
        waiting = [b for b in self.by_id.values() if b.event_id == event_id and b.status is BookingStatus.WAITLISTED]
        return min(waiting, key=lambda b: (b.created_at, b.id), default=None)

    def list_by_user(self, user_id: str, *, limit: int, start: dict[str, str] | None) -> Page:
        items = [b for b in self.by_id.values() if b.user_id == user_id]
        return _page_after(items, _created, limit, start, newest_first=True)

    def _listed(self, event_id: str, parts: int) -> list[Booking]:
        """The event's bookings in the parts a reader asks for (a booking in a part beyond them is missed)."""
        return [b for b in self.by_id.values() if b.event_id == event_id and self.parts.get(b.id, 0) < parts]

    def list_by_event(self, event_id: str, *, parts: int, limit: int, start: dict[str, str] | None) -> Page:
        return _page_after(self._listed(event_id, parts), _created, limit, start, newest_first=True)

    def list_by_event_part(self, event_id: str, *, parts: int, limit: int, start: dict[str, str] | None) -> Page:
        def place(b: Booking) -> tuple[int, str]:
            return self.parts.get(b.id, 0), _created(b)

        # Part after part, newest first within each (as the adapter queries them).
        ordered = sorted(sorted(self._listed(event_id, parts), key=_created, reverse=True), key=lambda b: place(b)[0])
        if start:
            part, pos = int(start["part"]), start.get("pos")
            ordered = [
                b for b in ordered if place(b)[0] > part or (place(b)[0] == part and (not pos or place(b)[1] < pos))
            ]
        shown = ordered[:limit]
        if len(ordered) > limit:
            last = shown[-1]
            return Page(items=shown, next_key={"part": str(self.parts.get(last.id, 0)), "pos": _created(last)})
        return Page(items=shown, next_key=None)


class FakePayments:
    """ports.PaymentProvider in memory, like Stripe: one checkout and one refund per booking however often
    asked; `failing` makes every call fail as an unreachable provider does."""

    def __init__(self) -> None:
        self.sessions: dict[str, dict] = {}  # session id -> what was asked, and its state
        self.refunds: dict[str, tuple[str, int]] = {}  # booking id -> (payment intent, amount)
        self.refund_calls: list[str] = []  # booking ids, once per call (the idempotency key keeps one refund)
        self.failing = False
        self.refusing = False

    def _check(self) -> None:
        if self.failing:
            raise PaymentUnavailable("unreachable (test)")
        if self.refusing:
            raise PaymentRefused("refused (test)")

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        self._check()
        session_id = f"cs_{request.booking_id}"
        self.sessions.setdefault(session_id, {"request": request, "status": "open", "payment_intent": None})
        return CheckoutSession(session_id, f"https://pay.test/{session_id}", request.expires_at)

    def pay(self, session_id: str, amount: int | None = None, currency: str | None = None) -> str:
        """Test helper: the customer pays (the checkout's price unless told otherwise); the payment intent's id."""
        session = self.sessions[session_id]
        assert session["status"] == "open"
        request = session["request"]
        session.update(
            status="complete",
            payment_intent=f"pi_{session_id}",
            amount_total=request.amount if amount is None else amount,
            currency=(currency or request.currency).lower(),
        )
        return str(session["payment_intent"])

    def expire_checkout(self, session_id: str) -> CheckoutState:
        self._check()
        session = self.sessions[session_id]
        if session["status"] == "open":
            session["status"] = "expired"
        paid = session["status"] == "complete"
        amount, currency = session.get("amount_total"), session.get("currency")
        return CheckoutState(session_id, session["status"], paid, session["payment_intent"], amount, currency)

    def refund(self, payment_intent: str, amount: int, booking_id: str) -> str | None:
        self._check()
        self.refund_calls.append(booking_id)
        self.refunds.setdefault(booking_id, (payment_intent, amount))
        return f"re_{booking_id}"

    def read_event(self, payload: bytes, signature: str | None) -> ProviderEvent:
        raise InvalidSignature("the fake reads no webhooks")


class FakeRecords:
    """ports.IdempotencyRepository reading FakeBookings' records."""

    def __init__(self, bookings: FakeBookings) -> None:
        self.bookings = bookings

    def get(self, key: str, now: int) -> StoredResult | None:
        return self.bookings.stored(key, now)


@dataclass
class FamilyState:
    """What the tokens table holds of one refresh-token family."""

    current: str | None = None
    revoked: bool = False


class FakeFamilies:
    """ports.RefreshFamilies in a dict, with the same conditions as the DynamoDB updates."""

    def __init__(self) -> None:
        self.by_family: dict[str, FamilyState] = {}

    def _live(self, token: RefreshToken) -> bool:
        state = self.by_family.get(token.family)
        if state is None:
            return token.root
        return not state.revoked and state.current == token.jti

    def rotate(self, token: RefreshToken, successor: str, expires_at: int) -> None:
        if not self._live(token):
            self.by_family.setdefault(token.family, FamilyState()).revoked = True
            raise TokenRevoked()
        self.by_family[token.family] = FamilyState(current=successor)

    def revoke(self, token: RefreshToken) -> None:
        live = self._live(token)
        self.by_family.setdefault(token.family, FamilyState()).revoked = True
        if not live:
            raise TokenRevoked()

    def check(self, token: RefreshToken) -> None:
        if not self._live(token):
            raise TokenRevoked()


class FakeResets:
    """ports.PasswordResets over a FakeUsers: redeeming is all or nothing, as the transaction is."""

    def __init__(self, users: FakeUsers) -> None:
        self.users = users
        self.by_user: dict[str, ResetTicket] = {}

    def get(self, user_id: str) -> ResetTicket | None:
        return self.by_user.get(user_id)

    def put(self, ticket: ResetTicket) -> None:
        self.by_user[ticket.user_id] = ticket

    def redeem(self, ticket: ResetTicket, old: User, new: User) -> None:
        if self.by_user.get(ticket.user_id) != ticket:
            raise TicketGone()
        current = self.users.by_id.get(old.id)
        if current is None or current.version != old.version:
            raise StaleWrite()
        del self.by_user[ticket.user_id]
        self.users.by_id[new.id] = new


@dataclass
class Counter:
    """One throttle counter: its window, and the lease of a password check holding it."""

    hits: int
    ends: int
    lease_until: int = 0


class FakeCounters:
    """ports.Counters in a dict, with the conditions of persistence.counters: all-or-none takes, windows
    opening at their first use, one lease per counter."""

    def __init__(self) -> None:
        self.windows: dict[str, Counter] = {}

    def _open(self, key: str, now: int) -> Counter | None:
        window = self.windows.get(key)
        return window if window is not None and window.ends > now else None

    def take(self, quotas: Sequence[Quota], now: int) -> None:
        # One conditional update per quota, in order; those taken before a refusal are given back (their
        # windows, opened by that use, stay open), as persistence.counters does.
        taken: list[Quota] = []
        for quota in quotas:
            window = self._open(quota.key, now)
            if window is not None and window.hits >= quota.rate.count:
                self.give_back(taken, now)
                raise QuotaExceeded(window.ends - now)
            self._add(quota, now)
            taken.append(quota)

    def _add(self, quota: Quota, now: int) -> None:
        window = self._open(quota.key, now)
        if window is None:
            lease = self.windows[quota.key].lease_until if quota.key in self.windows else 0
            self.windows[quota.key] = Counter(1, now + quota.rate.seconds, lease)
        else:
            window.hits += 1

    def give_back(self, quotas: Sequence[Quota], now: int) -> None:
        for quota in quotas:
            window = self._open(quota.key, now)
            if window is not None and window.hits > 0:
                window.hits -= 1

    def peek(self, keys: Sequence[str], now: int) -> dict[str, ThrottleWindow]:
        return {k: ThrottleWindow(w.hits, w.ends) for k in keys if (w := self._open(k, now)) is not None}

    def count(self, quotas: Sequence[Quota], now: int) -> None:
        for quota in quotas:
            self._add(quota, now)

    def mark(self, key: str, seconds: int, now: int) -> None:
        self.windows[key] = Counter(1, now + seconds)

    def lease(self, quota: Quota, until: int, now: int) -> None:
        current = self.windows.get(quota.key)
        window = self._open(quota.key, now)
        if window is not None and window.hits >= quota.rate.count:
            raise QuotaExceeded(window.ends - now)
        if current is not None and current.lease_until > now:
            raise QuotaExceeded(current.lease_until - now)
        if current is None:
            self.windows[quota.key] = Counter(0, now + quota.rate.seconds, until)  # a new counter's window opens
        else:
            current.lease_until = until  # an ended window stays ended: the next use opens one

    def release(self, quota: Quota, lease: int, verdict: Verdict, now: int) -> None:
        current = self.windows.get(quota.key)
        held = current is not None and current.lease_until == lease
        if verdict is Verdict.FAILED:
            self._add(quota, now)
        elif verdict is Verdict.SUCCEEDED and held:
            del self.windows[quota.key]
        if held and quota.key in self.windows:
            self.windows[quota.key].lease_until = 0


class FakeMailer:
    """ports.Mailer keeping what it was given; `failing` makes it refuse."""

    def __init__(self, failing: bool = False) -> None:
        self.sent: list[MailMessage] = []
        self.failing = failing

    def send(self, message: MailMessage) -> None:
        if self.failing:
            raise MailUnavailable("refused by the test")
        self.sent.append(message)


def fail_first(repository: object, method: str, times: int, error: type[Exception] = StaleWrite) -> list[int]:
    """Make `repository.method` raise `error` on its first `times` calls (a write that lost a race), then
    behave; returns the list of calls, one entry per call."""
    real = getattr(repository, method)
    calls: list[int] = []

    def flaky(*args: object, **kwargs: object) -> object:
        calls.append(len(calls) + 1)
        if len(calls) <= times:
            raise error()
        return real(*args, **kwargs)

    setattr(repository, method, flaky)
    return calls


class FakeSuppressions:
    """ports.Suppressions in memory: address -> (reason, since); `failing` makes every call a store failure."""

    def __init__(self, failing: bool = False) -> None:
        self.by_address: dict[str, tuple[str, datetime]] = {}
        self.failing = failing
        self.reads = 0

    def is_suppressed(self, address: str) -> bool:
        if self.failing:
            raise ServiceUnavailable()
        self.reads += 1
        return address in self.by_address

    def suppress(self, address: str, reason: str, at: datetime) -> bool:
        if self.failing:
            raise ServiceUnavailable()
        if address in self.by_address:
            return False
        self.by_address[address] = (reason, at)
        return True


class FakeNoticeLedger:
    """ports.NoticeLedger in memory: key -> (status, since); `failing` makes every call a store failure."""

    def __init__(self, failing: bool = False) -> None:
        self.by_key: dict[str, tuple[str, datetime]] = {}
        self.failing = failing

    def _check(self) -> None:
        if self.failing:
            raise ServiceUnavailable()

    def claim(self, key: str, recipient: str, now: datetime, until: datetime) -> Claimed:
        self._check()
        held = self.by_key.get(key)
        if held is not None and held[0] == "sent":
            return Claimed(taken=False, sent=True)
        if held is not None and held[1] >= now:
            return Claimed(taken=False, until=held[1])
        self.by_key[key] = ("sending", until)
        return Claimed(taken=True)

    def sent(self, key: str, at: datetime) -> None:
        self._check()
        self.by_key[key] = ("sent", at)

    def release(self, key: str) -> None:
        self._check()
        if self.by_key.get(key, ("",))[0] == "sending":
            del self.by_key[key]

    @property
    def sent_keys(self) -> list[str]:
        return sorted(k for k, (status, _) in self.by_key.items() if status == "sent")


class FakeDigestBook:
    """ports.DigestBook in memory: per (day, creator, event) its booked and cancelled ids; ids beyond `capacity`
    in one event's day (DynamoDB's 400 KB item) are counted as numbers beside them, as the adapter does.
    `failing` makes every call a store failure."""

    def __init__(self, capacity: int = 13_000, failing: bool = False) -> None:
        self.ids: dict[tuple[date, str, str], dict[str, set[str]]] = {}
        self.more: dict[tuple[date, str, str], dict[str, int]] = {}
        self.finished: set[date] = set()
        self.capacity = capacity
        self.failing = failing

    def _check(self) -> None:
        if self.failing:
            raise ServiceUnavailable()

    def record(self, day: date, creator: str, event_id: str, what: str, booking_id: str) -> None:
        self._check()
        if what not in (BOOKED, CANCELLED):
            raise ValueError(f"neither booked nor cancelled: {what!r}")
        ids = self.ids.setdefault((day, creator, event_id), {BOOKED: set(), CANCELLED: set()})
        if booking_id in ids[what]:
            return
        if len(ids[BOOKED]) + len(ids[CANCELLED]) >= self.capacity:
            more = self.more.setdefault((day, creator, event_id), {BOOKED: 0, CANCELLED: 0})
            more[what] += 1
            return
        ids[what].add(booking_id)

    def creators(self, day: date) -> Iterator[str]:
        self._check()
        return iter(sorted({creator for (d, creator, _) in self.ids if d == day}))

    def lines(self, day: date, creator: str) -> list[Tally]:
        self._check()
        tallies = []
        for key in sorted(k for k in self.ids if k[:2] == (day, creator)):
            ids, more = self.ids[key], self.more.get(key, {BOOKED: 0, CANCELLED: 0})
            tallies.append(Tally(key[2], len(ids[BOOKED]) + more[BOOKED], len(ids[CANCELLED]) + more[CANCELLED]))
        return tallies

    def done(self, day: date) -> bool:
        self._check()
        return day in self.finished

    def mark_done(self, day: date) -> None:
        self._check()
        self.finished.add(day)


class FakeQueue:
    """ports.QueueRepository in memory: entries by (event, user), counters by (event, line, shard). `failing`
    makes every call an outage; `expiries` records what each write asked the store to keep its item until."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], QueueEntry] = {}
        self.counters: dict[tuple[str, str, int], int] = {}
        self.expiries: dict[tuple[str, ...], int] = {}
        self.failing = False

    def _check(self) -> None:
        if self.failing:
            raise ServiceUnavailable()

    def entry(self, event_id: str, user_id: str) -> QueueEntry | None:
        self._check()
        return self.entries.get((event_id, user_id))

    def add(self, entry: QueueEntry, expires_at: int) -> None:
        self._check()
        key = (entry.event_id, entry.user_id)
        if key in self.entries:
            raise EntryExists()
        self.entries[key] = entry
        self.expiries[key] = expires_at

    def increment(self, event_id: str, line: str, shard: int, expires_at: int) -> int:
        self._check()
        key = (event_id, line, shard)
        self.counters[key] = self.counters.get(key, 0) + 1
        self.expiries[(event_id, line, str(shard))] = expires_at
        return self.counters[key]

    def counts(self, event_id: str, line: str, shards: int) -> list[int]:
        self._check()
        return [self.counters.get((event_id, line, shard), 0) for shard in range(shards)]
