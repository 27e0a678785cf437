"""In-memory repositories with the same contract as the DynamoDB ones, for service unit tests."""

from __future__ import annotations

from dataclasses import replace

from chalicelib.domain import Event, EventStatus, Page, User, iso
from chalicelib.services.ports import StaleWrite, UniqueViolation


class FakeUsers:
    """services.ports.UserRepository in a dict."""

    def __init__(self) -> None:
        self.by_id: dict[str, User] = {}

    def get(self, user_id: str) -> User | None:
        return self.by_id.get(user_id)

    def get_by_username(self, username: str) -> User | None:
        return next((u for u in self.by_id.values() if u.username.lower() == username.lower()), None)

    def _taken(self, user: User, ignore: str | None = None) -> list[str]:
        taken = []
        others = [u for u in self.by_id.values() if u.id != ignore]
        if any(u.username.lower() == user.username.lower() for u in others):
            taken.append("username")
        if user.email and any(u.email.lower() == user.email.lower() for u in others):
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
    """services.ports.EventRepository in a dict; lists sort like the indexes do."""

    def __init__(self) -> None:
        self.by_id: dict[str, Event] = {}

    def get(self, event_id: str) -> Event | None:
        return self.by_id.get(event_id)

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
        if current is None or current.version != event.version or current.seats_booked:
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
        """Test helper standing in for bookings (a later feature): raise the booked count."""
        event = self.by_id[event_id]
        self.by_id[event_id] = replace(event, seats_booked=event.seats_booked + seats, version=event.version + 1)
