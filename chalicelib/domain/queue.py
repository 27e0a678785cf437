"""The on-sale queue of an event with a sales opening (`Event.sales_open_at`): places, the serving counter and
the admission rate, as arithmetic over stored counts and the clock (docs/api.md, "On-sale queue").

Places. Everyone who joins before the opening is served in a random order, everyone after in arrival order,
and nothing is written per entry at the opening. An early entrant's shard among EARLY_SHARDS counters is drawn
from `rank` (an HMAC of the event and the user under a server secret: unpredictable, and the same however often
they join); the counter's count after their increment is their `number` in that shard. Once the opening has
passed the shards' counts stop moving, and

    position = (the counts of the shards before theirs) + number

numbers the early entrants 1..early_count without a collision: shards in a random order, arrival order inside a
shard (so joining early gains at most 1/EARLY_SHARDS of the early queue). A later entrant increments one of
LATE_SHARDS counters at random and is placed after every early one: position = early_count + (number - 1) *
LATE_SHARDS + shard + 1, about arrival order; shards that count unevenly leave gaps, which only cost a little of
the serving rate.

Serving. served(t) = floor(rate * (t - opening)), from the clock: no writer, no hot item. An entrant is admitted
once their position is at most served(now)."""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chalicelib.domain.events import Event

EARLY = "early"
LATE = "late"
# Fixed for the life of a queue: positions are computed from these (an entry stores its shard, not the count).
EARLY_SHARDS = 64
LATE_SHARDS = 16
# Admissions per second per seat shard: an admitted visitor books once at most, and a counter whose booking
# transactions (~15 ms each) hold it about half the time keeps conflicts few enough for the tries a booking
# makes (bench/hot_event.py, `make bench`). 32 counters give 1,120 a second; the bookings' index by event no
# longer caps that (its part per counter takes 1,000 writes a second, the counter about 66).
ADMISSIONS_PER_SEAT_SHARD = 35.0
# A join that began before the opening has written its counter within a Lambda's timeout; after this the early
# counts are final and a process keeps them for good.
SETTLE_SECONDS = 15
POLL_CAP_SECONDS = 5.0
# Poll intervals are spread over [1 - SPREAD, 1] of their base, so that a crowd that loaded the page in the same
# second does not poll in the same second ever after; never beyond the expected wait, since a visitor learns of
# their admission only at their next poll (spread over 0.75-1.25, a quarter of the wait late at worst, the last
# seat of a 10,000-seat sale sold 8% later than the admissions allowed).
POLL_SPREAD = 0.5
# Queue items outlive the event's start by this much (DynamoDB's TTL deletes them); one that expires too soon
# costs nothing: rejoining after the rush is admitted at once.
RETAIN = timedelta(days=30)


@dataclass(frozen=True)
class QueueEntry:
    """One user's place in one event's queue, written once by their first join."""

    event_id: str
    user_id: str
    joined_at: datetime
    early: bool
    shard: int
    # The shard counter's count right after this entry's increment (1 for the shard's first entrant).
    number: int

    @property
    def line(self) -> str:
        """Which counters the entry was numbered by."""
        return EARLY if self.early else LATE


@dataclass(frozen=True)
class QueueStatus:
    """What the caller is told of their place (http/views.py QUEUE_STATUS)."""

    event_id: str
    position: int
    ahead: int
    opens_at: datetime
    admitted: bool
    admission: str | None
    admission_expires_at: datetime | None
    expected_wait_seconds: int
    sold_out: bool
    poll_after_seconds: float


def rank(secret: bytes, event_id: str, user_id: str) -> float:
    """A fraction in [0, 1) fixed per (event, user) and unpredictable without `secret`."""
    digest = hmac.new(secret, f"{event_id}:{user_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def early_shard(fraction: float) -> int:
    """The early counter a rank falls in."""
    return min(int(fraction * EARLY_SHARDS), EARLY_SHARDS - 1)


def position(entry: QueueEntry, early_counts: Sequence[int]) -> int:
    """The entry's place (1 is served first), given the early shards' counts (final once the opening settled)."""
    if entry.early:
        return sum(early_counts[: entry.shard]) + entry.number
    return sum(early_counts) + (entry.number - 1) * LATE_SHARDS + entry.shard + 1


def admission_rate(event: Event, cap: float) -> float:
    """Admissions per second at `event`: ADMISSIONS_PER_SEAT_SHARD for each of its seat counters, at most `cap`."""
    shards = int(getattr(event, "seat_shards", 1) or 1)
    return min(ADMISSIONS_PER_SEAT_SHARD * max(shards, 1), cap)


def served(opens_at: datetime, rate: float, now: datetime) -> int:
    """How many places have been served by `now`."""
    if now < opens_at:
        return 0
    return math.floor(rate * (now - opens_at).total_seconds())


def expected_wait(opens_at: datetime, place: int, rate: float, now: datetime) -> int:
    """Whole seconds until `served` reaches `place` (0 once it has)."""
    if place <= served(opens_at, rate, now):
        return 0
    # served(t) >= place exactly when t >= opens_at + place / rate; at least 1 while not yet there.
    return max(1, math.ceil(place / rate - (now - opens_at).total_seconds()))


def poll_after(wait_seconds: int, jitter: float) -> float:
    """When to ask again: the wait, at most POLL_CAP_SECONDS and at least one second, brought forward by up to
    POLL_SPREAD of it by `jitter` in [0, 1)."""
    base = min(max(float(wait_seconds), 1.0), POLL_CAP_SECONDS)
    return round(base * (1 - POLL_SPREAD * jitter), 1)


def sold_out(event: Event) -> bool:
    """Every seat taken, as read: a seat given back goes to the waitlist first, so nothing in the queue is
    worth waiting for (an admitted visitor may still join the waitlist)."""
    return event.capacity is not None and event.seats_booked >= event.capacity


def sales_opening_errors(
    before: datetime | None, after: datetime | None, starts_at: datetime | None, now: datetime
) -> list[str]:
    """What is wrong with an event's sales opening going from `before` to `after` at `now` (nothing: [])."""
    errors = []
    if after != before:
        if before is not None and before <= now:
            errors.append("Sales have opened: the opening can no longer be changed.")
        elif after is not None and after <= now:
            errors.append("The sales opening must be in the future.")
    if after is not None and starts_at is not None and after >= starts_at:
        errors.append("Sales must open before the event starts.")
    return errors


def expires_at(event: Event) -> int:
    """The Unix time a queue item of `event` may be deleted at."""
    assert event.sales_open_at is not None
    last = max(event.sales_open_at, event.starts_at or event.sales_open_at)
    return int((last + RETAIN).timestamp())
