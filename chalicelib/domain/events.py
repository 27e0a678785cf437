"""Events (sessions): what is shown to whom, and who manages them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from chalicelib.domain.access import Principal
from chalicelib.domain.common import utcnow
from chalicelib.domain.enums import EventStatus


@dataclass(frozen=True)
class Settlement:
    """The settling of a cancelled event's bookings, a durable job: every booking still active when the event was
    cancelled (`bookings`) is cancelled and every paid one refunded in full, in batches, until none remain.
    `remaining` is how many are still active as read with the event; the refund counts are those of bookings
    cancelled because the event was; `completed_at` is set once no booking is left to settle."""

    bookings: int
    remaining: int = 0
    refunds_pending: int = 0
    refunds_succeeded: int = 0
    refunds_failed: int = 0
    started_at: datetime | None = None
    completed_at: datetime | None = None
    # Where the settling stands in the event's bookings (the store's opaque key of the last batch done).
    position: dict[str, str] | None = None

    @property
    def settled(self) -> int:
        """Bookings settled so far."""
        return max(self.bookings - self.remaining, 0)


# A seat counter's transactions collide once it takes more than about 30 bookings a second (each holds it for
# ~15 ms; bench/hot_event.py), so an event of 10,000 seats needs the 32 counters that ~1,000 a second takes:
# one counter per SEATS_PER_SHARD seats unless its creator asks for another number, up to MAX_SEAT_SHARDS (a
# booking joining the waitlist checks every counter in one transaction of at most 100 items, beside the event's
# search items when it is published).
SEATS_PER_SHARD = 300
MAX_SEAT_SHARDS = 32


def default_seat_shards(capacity: int | None) -> int:
    """How many seat counters an event of `capacity` gets when its creator does not say (unlimited: one)."""
    if capacity is None:
        return 1
    return max(1, min(MAX_SEAT_SHARDS, -(-capacity // SEATS_PER_SHARD)))


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
    # Sums over its seat counters (`seat_shards` of them, see default_seat_shards), as read with the event.
    seats_booked: int = 0
    waitlisted: int = 0
    seat_shards: int = 1
    # The most seat counters it ever had: its bookings sit in that many parts of the bookings' index by event
    # (a booking keeps the part of the counter it was made on, and counters can go again once no seat is held).
    # Kept by the store, at least `seat_shards`.
    booking_parts: int = 1
    price: Decimal = Decimal("0.00")
    currency: str = "USD"
    location: str = ""
    online_url: str | None = None
    image: str | None = None
    status: EventStatus = EventStatus.PUBLISHED
    version: int = 1
    # What it is found by (domain.search): one of CATEGORIES' slugs, up to MAX_TAGS normalized tags, the city it
    # takes place in ("" when none or online only), and whether it happens online.
    category: str | None = None
    tags: tuple[str, ...] = ()
    city: str = ""
    online: bool = False
    # Set once the event is cancelled (its bookings' settlement); written only by the store and the settlement.
    settlement: Settlement | None = None
    # The start time its holders were reminded of (24 h before); set only by the store's mark_reminded, so an
    # edit of the start time makes the event due for a reminder again.
    reminded_for: datetime | None = None
    # When its sales open (domain.queue): until then nobody books, from then on only with an admission from its
    # on-sale queue. Set in the future and before the start; fixed once passed.
    sales_open_at: datetime | None = None

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
        those holding a confirmed seat and those who manage the event see it; the settlement of its bookings
        is for those who manage it."""
        if self.managed_by(principal):
            return self
        shown = replace(self, settlement=None) if self.settlement is not None else self
        if shown.online_url is None or not shown.paid or holds_seat:
            return shown
        return replace(shown, online_url=None)
