"""The digest book: the day's new seats and cancellations per creator and event, kept for the creators' daily
digest (services.digests). Recorded from the bookings' stream, so each booking id is kept in a set: a change
delivered twice is counted once."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import date

BOOKED, CANCELLED = "booked", "cancelled"


class Tally(NamedTuple):
    """One event's activity on a day: seats booked and seats cancelled."""

    event_id: str
    booked: int
    cancelled: int


class DigestBook(Protocol):
    """Activity by UTC day; every call raises ServiceUnavailable when the store fails."""

    def record(self, day: date, creator: str, event_id: str, what: str, booking_id: str) -> None:
        """Count `booking_id` as `what` (BOOKED or CANCELLED) on `event_id` of `creator` on `day`; recording the
        same again changes nothing (except on an event too busy for its item: see the adapter)."""

    def creators(self, day: date) -> Iterator[str]:
        """Every creator with something recorded on `day`, each once, in a stable order."""

    def lines(self, day: date, creator: str) -> list[Tally]:
        """The creator's events with activity on `day`, by event id."""

    def done(self, day: date) -> bool:
        """Whether `day`'s digests were all handled (mark_done)."""

    def mark_done(self, day: date) -> None:
        """Record that every creator of `day` was handled: later runs do nothing for it."""
