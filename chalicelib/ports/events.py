"""Events: the event repository."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from chalicelib.domain.audit import AuditEntry
    from chalicelib.domain.common import Page
    from chalicelib.domain.enums import BookingStatus, EventStatus
    from chalicelib.domain.events import Event
    from chalicelib.ports.uploads import Claim


class EventRepository(Protocol):
    """Events and the lists the API shows of them."""

    def get(self, event_id: str, *, consistent: bool = True) -> Event | None:
        """The event with its seats; `consistent=False` may be a moment old (half the read's cost), for callers
        whose writes re-check what they rely on (a booking's transaction re-checks its seat counter)."""

    def get_with_seat(self, event_id: str, user_id: str) -> tuple[Event | None, BookingStatus | None]:
        """The event and the status of `user_id`'s active booking for it (None without one), read together
        in one request."""

    def get_many(self, event_ids: list[str]) -> dict[str, Event]: ...

    def add(self, event: Event) -> None: ...

    def save(self, old: Event, new: Event, audit: AuditEntry | None = None, claim: Claim | None = None) -> None:
        """Replace `old` by `new` if unchanged since read (StaleWrite otherwise), with `audit` in the same
        transaction; with `claim`, marks that upload used in it too (UploadUnavailable). The seat counters and
        the settlement are never written from `new`, except that a `new` with a settlement where `old` had none
        starts it: due now, for `new.settlement.bookings` bookings, which must be the counters' sum as read
        (StaleWrite if a booking moved them since)."""

    def delete(self, event: Event, audit: AuditEntry | None = None) -> None:
        """Delete if unchanged since read, without booked seats or waiting bookings, and with no settlement
        running or refund of it pending (StaleWrite otherwise), with `audit` in the same transaction."""

    def copy_seats(self, event_ids: Sequence[str], at: datetime) -> int:
        """Copy each event's seat counts, read now, onto what the lists read (they lag the counters until
        then); `at` must be no later than the read and taken after the changes to copy were committed: of
        racing copies, the one of the latest `at` stays. Events that no longer exist are skipped; returns how
        many copies changed."""

    def settlements_due(self, now: str, limit: int) -> list[str]:
        """Ids of cancelled events whose settlement is due at `now`, earliest first, from the index (no Scan)."""

    def save_settlement_position(self, event: Event, position: dict[str, str] | None, next_at: str) -> None:
        """Record how far the settlement got in the event's bookings (None: start over) and when to look at it
        next (ISO time). Raises StaleWrite when no settlement is running."""

    def finish_settlement(self, event: Event, at: datetime) -> None:
        """End the settlement at `at`: only if no booking of the event is still active (StaleWrite otherwise:
        one was not yet in the index the settlement read)."""

    def mark_reminded(self, event: Event) -> bool:
        """Record that the holders of `event` are to be reminded of its start: True when this call did (the
        stream then tells the notifier), False when it was already done for that start, the event changed its
        start or is no longer published."""

    def list_published(
        self, *, limit: int, start: dict[str, str] | None, creator: str | None, starts_from: str | None
    ) -> Page: ...

    def list_started(self, creator: str, *, before: str, limit: int, start: dict[str, str] | None) -> Page:
        """`creator`'s published events that started before `before` (ISO time), the most recent start first;
        events without a start time are not among them."""

    def list_by_creator(self, creator: str, *, limit: int, start: dict[str, str] | None) -> Page: ...

    def list_all(
        self, *, status: EventStatus | None, creator: str | None, limit: int, start: dict[str, str] | None
    ) -> Page:
        """Events of every status (or of `status`), of everyone (or of `creator`), newest first."""
