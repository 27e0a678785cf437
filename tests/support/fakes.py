"""In-memory repositories with the same contract as the DynamoDB ones, for service unit tests."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain import Booking, BookingStatus, Event, EventStatus, Page, User, identity, iso
from chalicelib.ports import (
    AlreadyBooked,
    EventChanged,
    IdempotentWrite,
    KeyAlreadyUsed,
    StaleWrite,
    StoredResult,
    UniqueViolation,
)


class FakeUsers:
    """ports.UserRepository in a dict."""

    def __init__(self) -> None:
        self.by_id: dict[str, User] = {}

    def get(self, user_id: str) -> User | None:
        return self.by_id.get(user_id)

    def get_by_username(self, username: str) -> User | None:
        return next((u for u in self.by_id.values() if identity(u.username) == identity(username)), None)

    def _taken(self, user: User, ignore: str | None = None) -> list[str]:
        taken = []
        others = [u for u in self.by_id.values() if u.id != ignore]
        if any(identity(u.username) == identity(user.username) for u in others):
            taken.append("username")
        if user.email and any(identity(u.email) == identity(user.email) for u in others):
            taken.append("email")
        return taken

    def add(self, user: User) -> None:
        taken = self._taken(user)
        if taken:
            raise UniqueViolation(taken)
        self.by_id[user.id] = user

    def save(self, old: User, new: User) -> None:
        current = self.by_id.get(old.id)
        if current is None or current.version != old.version:
            raise StaleWrite()
        if "email" in self._taken(new, ignore=new.id):
            raise UniqueViolation(["email"])
        self.by_id[new.id] = new


class FakeEvents:
    """ports.EventRepository in a dict; lists sort like the indexes do."""

    def __init__(self) -> None:
        self.by_id: dict[str, Event] = {}
        self.bookings: FakeBookings | None = None  # set by FakeBookings, whose markers get_with_seat reads

    def get(self, event_id: str) -> Event | None:
        return self.by_id.get(event_id)

    def get_with_seat(self, event_id: str, user_id: str) -> tuple[Event | None, BookingStatus | None]:
        seat = self.bookings.active_status(event_id, user_id) if self.bookings else None
        return self.by_id.get(event_id), seat

    def get_many(self, event_ids: list[str]) -> dict[str, Event]:
        return {i: self.by_id[i] for i in event_ids if i in self.by_id}

    def add(self, event: Event) -> None:
        self.by_id[event.id] = event

    def save(self, old: Event, new: Event) -> None:
        current = self.by_id.get(old.id)
        if current is None or current.version != old.version:
            raise StaleWrite()
        if new.capacity is not None and current.seats_booked > new.capacity:
            raise StaleWrite()
        self.by_id[new.id] = new

    def delete(self, event: Event) -> None:
        current = self.by_id.get(event.id)
        if current is None or current.version != event.version or current.seats_booked or current.waitlisted:
            raise StaleWrite()
        del self.by_id[event.id]

    def _page(self, items: list[Event], limit: int, start: dict[str, str] | None) -> Page:
        if start:
            ids = [e.id for e in items]
            items = items[ids.index(start["id"]) + 1 :]
        more = len(items) > limit
        items = items[:limit]
        return Page(items=items, next_key={"id": items[-1].id} if more else None)

    def list_published(
        self, *, limit: int, start: dict[str, str] | None, creator: str | None, starts_from: str | None
    ) -> Page:
        items = [e for e in self.by_id.values() if e.status is EventStatus.PUBLISHED]
        if creator:
            items = [e for e in items if e.creator == creator]
        if starts_from is not None:
            items = sorted(
                (e for e in items if e.starts_at and iso(e.starts_at) >= starts_from), key=lambda e: (e.starts_at, e.id)
            )
        else:
            items = sorted(items, key=lambda e: (e.created_at, e.id), reverse=True)
        return self._page(items, limit, start)

    def list_by_creator(self, creator: str, *, limit: int, start: dict[str, str] | None) -> Page:
        items = sorted(
            (e for e in self.by_id.values() if e.creator == creator), key=lambda e: (e.created_at, e.id), reverse=True
        )
        return self._page(items, limit, start)

    def book_seats(self, event_id: str, seats: int) -> None:
        """Test helper: count seats as booked without making bookings."""
        event = self.by_id[event_id]
        self.by_id[event_id] = replace(event, seats_booked=event.seats_booked + seats, version=event.version + 1)


class FakeBookings:
    """ports.BookingRepository over a FakeEvents, with the transaction's conditions."""

    def __init__(self, events: FakeEvents) -> None:
        self.events = events
        events.bookings = self
        self.by_id: dict[str, Booking] = {}
        self.records: dict[str, StoredResult] = {}

    def get(self, booking_id: str) -> Booking | None:
        return self.by_id.get(booking_id)

    def active_status(self, event_id: str, user_id: str) -> BookingStatus | None:
        return next(
            (b.status for b in self.by_id.values() if b.active and (b.event_id, b.user_id) == (event_id, user_id)),
            None,
        )

    def _store(self, record: IdempotentWrite | None) -> None:
        if record is not None:
            if record.key in self.records:
                raise KeyAlreadyUsed()
            self.records[record.key] = record.stored

    def add(self, booking: Booking, *, now: str, record: IdempotentWrite | None) -> None:
        if record is not None and record.key in self.records:
            raise KeyAlreadyUsed()
        if any(
            b.active and (b.event_id, b.user_id) == (booking.event_id, booking.user_id) for b in self.by_id.values()
        ):
            raise AlreadyBooked()
        event = self.events.by_id[booking.event_id]
        started = event.starts_at is not None and iso(event.starts_at) <= now
        full = event.capacity is not None and event.seats_booked >= event.capacity
        confirmed = booking.status is BookingStatus.CONFIRMED
        if event.status is not EventStatus.PUBLISHED or started or full == confirmed:
            raise EventChanged()
        self._store(record)
        self.by_id[booking.id] = booking
        counter = "seats_booked" if confirmed else "waitlisted"
        self.events.by_id[event.id] = replace(event, **{counter: getattr(event, counter) + 1})

    def cancel(
        self, booking: Booking, cancelled: Booking, promote: Booking | None, record: IdempotentWrite | None
    ) -> None:
        if record is not None and record.key in self.records:
            raise KeyAlreadyUsed()  # the stored record wins over any other failed condition, as in DynamoDB's
        if self.by_id.get(booking.id) != booking or (promote and self.by_id.get(promote.id) != promote):
            raise StaleWrite()
        waiting = self.events.by_id[booking.event_id].waitlisted
        if booking.status is BookingStatus.CONFIRMED and promote is None and waiting:
            raise StaleWrite()
        self._store(record)
        self.by_id[booking.id] = cancelled
        event = self.events.by_id[booking.event_id]
        if booking.status is BookingStatus.WAITLISTED:
            event = replace(event, waitlisted=event.waitlisted - 1)
        elif promote is not None:
            self.by_id[promote.id] = replace(promote, status=BookingStatus.CONFIRMED)
            event = replace(event, waitlisted=event.waitlisted - 1)
        else:
            event = replace(event, seats_booked=event.seats_booked - 1)
        self.events.by_id[event.id] = event

    def oldest_waitlisted(self, event_id: str) -> Booking | None:
        waiting = [b for b in self.by_id.values() if b.event_id == event_id and b.status is BookingStatus.WAITLISTED]
        return min(waiting, key=lambda b: (b.created_at, b.id), default=None)

    def _list(self, items: list[Booking], limit: int, start: dict[str, str] | None) -> Page:
        items = sorted(items, key=lambda b: (b.created_at, b.id), reverse=True)
        if start:
            items = items[[b.id for b in items].index(start["id"]) + 1 :]
        return Page(items=items[:limit], next_key={"id": items[limit - 1].id} if len(items) > limit else None)

    def list_by_user(self, user_id: str, *, limit: int, start: dict[str, str] | None) -> Page:
        return self._list([b for b in self.by_id.values() if b.user_id == user_id], limit, start)

    def list_by_event(self, event_id: str, *, limit: int, start: dict[str, str] | None) -> Page:
        return self._list([b for b in self.by_id.values() if b.event_id == event_id], limit, start)


class FakeRecords:
    """ports.IdempotencyRepository reading FakeBookings' records."""

    def __init__(self, bookings: FakeBookings) -> None:
        self.bookings = bookings

    def get(self, key: str, now: int) -> StoredResult | None:
        return self.bookings.records.get(key)


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
