"""The ledger of notifications sent: what makes each (recipient, kind, subject) go out at most once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.domain.bookings import Booking
    from chalicelib.domain.events import Event


@dataclass(frozen=True)
class Change:
    """One item's committed change, read from its table's stream: `old` is None for a new item, `new` None for
    a deleted one. `position` identifies the record in its shard (Lambda retries from a failed one); `at` is when
    it committed, to the second, as the stream says (the same on every delivery)."""

    position: str
    old: Booking | Event | None
    new: Booking | Event | None
    at: datetime | None = None


@dataclass(frozen=True)
class Claimed:
    """A claim's outcome: `taken` (send it now), or not because it was `sent`, or because another sender holds it
    `until` then (a sender that died: its claim runs out then, and the notice must be tried again)."""

    taken: bool
    sent: bool = False
    until: datetime | None = None


class NoticeLedger(Protocol):
    """Notifications by key (services.notifications.Notice.key); every call raises ServiceUnavailable when the
    store fails."""

    def claim(self, key: str, recipient: str, now: datetime, until: datetime) -> Claimed:
        """Take `key` for sending until `until`: taken when it was never taken, or taken by a sender whose time
        ran out before `now` (it died before saying it sent); else whether it was sent or until when it is held."""

    def sent(self, key: str, at: datetime) -> None:
        """Record that `key` went out: no claim takes it again."""

    def release(self, key: str) -> None:
        """Give `key` back after a failed send, so that the next attempt claims it at once (only if unsent)."""
