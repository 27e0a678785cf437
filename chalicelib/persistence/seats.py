"""An event's seat counters (models.seats): written by booking transactions and by the event's own writes when
its status, start, capacity or number of counters changes; read with the event, in the same request when they
can be.

Why counters apart from the event: its item is copied into eight indexes, so a booking writing it cost 16 WCU of
index copies and every booking of a popular event queued on that one item (1,000 WCU/s per item; transactions
holding it collide). A counter item has no index and no stream, and N of them share the load."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, NamedTuple

from chalicelib.domain.common import iso
from chalicelib.domain.enums import EventStatus
from chalicelib.persistence.common import batch_read
from chalicelib.persistence.models.seats import SeatModel
from chalicelib.ports.common import StaleWrite

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pynamodb.expressions.condition import Condition
    from pynamodb.expressions.update import Action

    from chalicelib.domain.events import Event
    from chalicelib.persistence.transactions import NamedWrite

# The counter that also counts the event's waitlist (every event has it).
FIRST = 0


class Counts(NamedTuple):
    """An event's seats as its counters say: booked (confirmed and held) and waiting."""

    booked: int
    waitlisted: int


def counts(items: Iterable[SeatModel]) -> Counts:
    """The event's totals over its counter items."""
    booked = waitlisted = 0
    for item in items:
        booked += int(item.booked or 0)
        if int(item.shard) == FIRST:
            waitlisted = int(item.waitlisted or 0)
    return Counts(booked, waitlisted)


def shares(capacity: int | None, booked: Sequence[int]) -> list[int | None]:
    """The capacity split over counters holding `booked` seats: each keeps what it holds and the seats still
    free are dealt out evenly (the first counters get one more when they do not divide). Unlimited: None each.
    StaleWrite when fewer seats than are booked (bookings landed since the caller checked)."""
    if capacity is None:
        return [None] * len(booked)
    free = capacity - sum(booked)
    if free < 0:
        raise StaleWrite()
    n = len(booked)
    return [held + free // n + (1 if shard < free % n else 0) for shard, held in enumerate(booked)]


def new_items(event: Event) -> list[SeatModel]:
    """The counters of a new event (any seats it says are booked or waiting on the first: a copied event, or a
    test's)."""
    booked = [event.seats_booked] + [0] * (event.seat_shards - 1)
    items = [_item(event, shard, cap) for shard, cap in enumerate(shares(event.capacity, booked))]
    items[FIRST].booked, items[FIRST].waitlisted = event.seats_booked, event.waitlisted
    return items


def _item(event: Event, shard: int, capacity: int | None) -> SeatModel:
    return SeatModel(
        k=_k(event.id, shard),
        event_id=event.id,
        shard=shard,
        capacity=capacity,
        booked=0,
        waitlisted=0,
        status=event.status.value,
        starts_at=iso(event.starts_at) if event.starts_at else None,
    )


def bookable(now: str) -> Condition:
    """A counter of a published event that has not started (the event's copies on the counter)."""
    condition: Condition = (SeatModel.status == EventStatus.PUBLISHED.value) & (
        SeatModel.starts_at.does_not_exist() | (SeatModel.starts_at > now)
    )
    return condition


def is_bookable(item: SeatModel, now: str) -> bool:
    """bookable(now), on a counter as read."""
    return item.status == EventStatus.PUBLISHED.value and (item.starts_at is None or item.starts_at > now)


def room() -> Condition:
    """A counter with a seat left."""
    condition: Condition = SeatModel.capacity.does_not_exist() | (SeatModel.booked < SeatModel.capacity)
    return condition


def has_room(item: SeatModel) -> bool:
    """room(), on a counter as read."""
    return item.capacity is None or int(item.booked) < int(item.capacity)


def full() -> Condition:
    """A counter without a seat left."""
    condition: Condition = SeatModel.capacity.exists() & (SeatModel.booked >= SeatModel.capacity)
    return condition


def name(shard: int) -> str:
    """The transaction item's name of counter `shard`."""
    return f"seat{shard}"


def _k(event_id: str, shard: int) -> str:
    return f"{event_id}#{shard}"


def key(event_id: str, shard: int) -> SeatModel:
    """The item of counter `shard`, as a key for a transaction's update or delete."""
    return SeatModel(k=_k(event_id, shard))


def keys(event_id: str, shards: range | Sequence[int]) -> list[tuple[type[SeatModel], str, None]]:
    """BatchGetItem keys (batch_read) of an event's counters `shards`."""
    return [(SeatModel, _k(event_id, shard), None) for shard in shards]


def check(tx: NamedWrite, event_id: str, shard: int, condition: Condition) -> None:
    """Commit only if `condition` holds on counter `shard`."""
    tx.check(name(shard), SeatModel, _k(event_id, shard), condition)


def read(event_id: str, shards: int) -> list[SeatModel]:
    """An event's `shards` counters, strongly consistent, in shard order (one BatchGetItem)."""
    return sorted(batch_read(keys(event_id, range(shards)), consistent=True), key=lambda item: int(item.shard))


def shard_order(shards: int) -> list[int]:
    """The order a booking tries the counters in: a random one first (so that bookings spread), then the next."""
    start = random.randrange(shards)
    return [(start + step) % shards for step in range(shards)]


def changes_seats(old: Event, new: Event) -> bool:
    """Whether an edit from `old` to `new` must write the counters (what they copy or split changed)."""
    return (
        old.status is not new.status
        or old.starts_at != new.starts_at
        or old.capacity != new.capacity
        or old.seat_shards != new.seat_shards
    )


def write_changes(tx: NamedWrite, new: Event, current: Sequence[SeatModel], *, exact: bool) -> None:
    """Bring the event's counters (`current`, as read) to `new`: its status and start copied, its capacity split
    anew over its `seat_shards` counters (added or removed at the end; a removed one must hold nothing). Each
    counter's condition is that it holds no more than its new share, so a booking landing after the read
    does not fail the edit unless it took the last seat of that share. `exact`: each counter must still hold
    what was read (the settlement of a cancelled event counts the bookings it will settle)."""
    held = {int(item.shard): item for item in current}
    booked = [int(held[s].booked) if s in held else 0 for s in range(new.seat_shards)]
    caps = shares(new.capacity, booked)
    starts = iso(new.starts_at) if new.starts_at else None
    for shard, cap in enumerate(caps):
        item = held.get(shard)
        if item is None:
            tx.save(name(shard), _item(new, shard, cap), condition=SeatModel.k.does_not_exist())
            continue
        actions: list[Action] = [
            SeatModel.status.set(new.status.value),
            SeatModel.starts_at.set(starts) if starts else SeatModel.starts_at.remove(),
            SeatModel.capacity.set(cap) if cap is not None else SeatModel.capacity.remove(),
        ]
        condition = SeatModel.k.exists()
        if exact:
            condition &= (SeatModel.booked == int(item.booked)) & (SeatModel.waitlisted == int(item.waitlisted))
        elif cap is not None:
            condition &= SeatModel.booked <= cap
        tx.update(name(shard), key(new.id, shard), actions=actions, condition=condition)
    for shard in held:
        if shard >= new.seat_shards:
            tx.delete(name(shard), key(new.id, shard), condition=_empty())


def _empty() -> Condition:
    condition: Condition = (SeatModel.booked == 0) & (SeatModel.waitlisted == 0)
    return condition


def delete_all(tx: NamedWrite, event_id: str, current: Sequence[SeatModel]) -> None:
    """Delete an event's counters, only if none holds a booking or a waiting place."""
    for item in current:
        tx.delete(name(int(item.shard)), key(event_id, int(item.shard)), condition=_empty())


def check_empty(tx: NamedWrite, event_id: str, current: Sequence[SeatModel]) -> None:
    """Commit only if none of the event's counters holds a booking or a waiting place."""
    for item in current:
        check(tx, event_id, int(item.shard), _empty())
