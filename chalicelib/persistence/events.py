"""Event repository on DynamoDB: every list is a Query on a sparse global secondary index."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DeleteError, UpdateError

from chalicelib.domain.common import Page, iso
from chalicelib.domain.enums import BookingStatus, EventStatus
from chalicelib.domain.events import Event, Settlement
from chalicelib.persistence import seats
from chalicelib.persistence.common import batch_read, newest_first, page_of, parse_time, query_window
from chalicelib.persistence.errors import error_code, translate_errors
from chalicelib.persistence.markers import booking_key, marker_status
from chalicelib.persistence.models import ALL, PUBLISHED
from chalicelib.persistence.models.events import EventModel
from chalicelib.persistence.models.seats import SeatModel
from chalicelib.persistence.models.uniques import UniqueModel
from chalicelib.persistence.transactions import ConditionsFailed, NamedWrite, write_transaction
from chalicelib.ports.common import StaleWrite

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from pynamodb.expressions.condition import Condition
    from pynamodb.expressions.update import Action

    from chalicelib.domain.audit import AuditEntry
    from chalicelib.persistence.search import IndexChange
    from chalicelib.ports.uploads import Claim

# Written by the settlement of a cancelled event and the bookings it cancels, never by an edit.
SETTLEMENT = frozenset(
    {
        "settle_due",
        "settle_sk",
        "settle_total",
        "settle_cursor",
        "settle_started_at",
        "settled_at",
        "refunds_pending",
        "refunds_succeeded",
        "refunds_failed",
    }
)
SETTLE = "SETTLE"  # the one partition of the settlement-due index
# The lists' copy of the seat counts, written by copy_seats only.
LISTED = frozenset({"listed_booked", "listed_waitlisted", "listed_at"})


def _settlement(item: EventModel, counted: seats.Counts) -> Settlement | None:
    if item.settle_total is None:
        return None
    return Settlement(
        bookings=int(item.settle_total),
        remaining=counted.booked + counted.waitlisted,
        refunds_pending=int(item.refunds_pending or 0),
        refunds_succeeded=int(item.refunds_succeeded or 0),
        refunds_failed=int(item.refunds_failed or 0),
        started_at=parse_time(item.settle_started_at),
        completed_at=parse_time(item.settled_at),
        position=json.loads(item.settle_cursor) if item.settle_cursor else None,
    )


def _to_domain(item: EventModel, counters: Sequence[SeatModel] = (), counted: seats.Counts | None = None) -> Event:
    """The event an item stores, with the seats its counters (models.seats) hold, or `counted` (the lists'
    copy); without either (a stream's image), none."""
    if counted is None:
        counted = seats.counts(counters)
    created = parse_time(item.created_at)
    updated = parse_time(item.updated_at)
    assert created is not None and updated is not None
    return Event(
        id=item.id,
        title=item.title,
        description=item.description,
        creator=item.creator,
        creator_username=item.creator_username,
        created_at=created,
        updated_at=updated,
        starts_at=parse_time(item.starts_at),
        ends_at=parse_time(item.ends_at),
        timezone=item.timezone,
        capacity=int(item.capacity) if item.capacity is not None else None,
        seats_booked=counted.booked,
        waitlisted=counted.waitlisted,
        seat_shards=_shards(item),
        booking_parts=booking_parts(item),
        price=Decimal(item.price),
        currency=item.currency,
        location=item.location or "",
        online_url=item.online_url,
        image=item.image,
        status=EventStatus(item.status),
        version=int(item.version),
        settlement=_settlement(item, counted),
        reminded_for=parse_time(item.reminded_for),
        sales_open_at=parse_time(item.sales_open_at),
        category=item.category,
        tags=tuple(str(tag) for tag in item.tags or ()),
        city=item.city or "",
        online=bool(item.online),
    )


def _to_item(event: Event) -> EventModel:
    published = event.status is EventStatus.PUBLISHED
    return EventModel(
        id=event.id,
        title=event.title,
        description=event.description,
        creator=event.creator,
        creator_username=event.creator_username,
        created_at=iso(event.created_at),
        updated_at=iso(event.updated_at),
        starts_at=iso(event.starts_at) if event.starts_at else None,
        ends_at=iso(event.ends_at) if event.ends_at else None,
        timezone=event.timezone,
        capacity=event.capacity,
        seat_shards=event.seat_shards,
        booking_parts=max(event.booking_parts, event.seat_shards),
        price=str(event.price),
        currency=event.currency,
        location=event.location,
        online_url=event.online_url,
        image=event.image,
        status=event.status.value,
        version=event.version,
        reminded_for=iso(event.reminded_for) if event.reminded_for else None,
        sales_open_at=iso(event.sales_open_at) if event.sales_open_at else None,
        category=event.category,
        tags=list(event.tags) or None,
        city=event.city or None,
        online=event.online or None,
        created_sk=f"{iso(event.created_at)}#{event.id}",
        starts_sk=f"{iso(event.starts_at)}#{event.id}" if event.starts_at else None,
        pub=PUBLISHED if published else None,
        pub_creator=event.creator if published else None,
        all_key=ALL,
        creator_status=f"{event.creator}#{event.status.value}",
    )


def _shards(item: EventModel) -> int:
    return int(item.seat_shards) if item.seat_shards else 1


def booking_parts(item: EventModel) -> int:
    """How many parts of the by-event-part index hold the event's bookings (an item stored before the index
    records none: its counters then, which `manage.py reindex` raises for an event whose counters went down)."""
    return max(int(item.booking_parts or 0), _shards(item))


def _read(
    event_ids: Sequence[str], *, consistent: bool, extra: Sequence[tuple[Any, Any, Any]] = ()
) -> tuple[dict[str, Event], list[Any]]:
    """Events by id with their seat counters, and the `extra` items asked with them: one BatchGetItem for the
    events, their first counters and the extra items, a second only for the other counters of events that have
    more than one."""
    keys: list[tuple[Any, Any, Any]] = []
    for event_id in event_ids:
        keys += [(EventModel, event_id, None), *seats.keys(event_id, [seats.FIRST])]
    found = batch_read([*keys, *extra], consistent=consistent)
    items = {item.id: item for item in found if isinstance(item, EventModel)}
    others = [item for item in found if not isinstance(item, EventModel | SeatModel)]
    counters = _counters([item for item in found if isinstance(item, SeatModel)])
    rest = [key for i, item in items.items() for key in seats.keys(i, range(1, _shards(item)))]
    if rest:
        for event_id, more in _counters(batch_read(rest, consistent=consistent)).items():
            counters[event_id] += more
    return {i: _to_domain(item, counters[i]) for i, item in items.items()}, others


def _counters(items: list[SeatModel]) -> defaultdict[str, list[SeatModel]]:
    by_event: defaultdict[str, list[SeatModel]] = defaultdict(list)
    for item in items:
        by_event[item.event_id].append(item)
    return by_event


def _listed(item: EventModel) -> Event:
    """An event as the lists show it: with the seat totals copied on its item (copy_seats), so that a list page
    is its one Query (the cold start's first request reads nothing else), at the price of seats that lag the
    counters by the notifier's delay."""
    return _to_domain(item, counted=seats.Counts(int(item.listed_booked or 0), int(item.listed_waitlisted or 0)))


def _write(
    event_id: str,
    condition: Condition,
    actions: list[Action] | None,
    audit: AuditEntry | None,
    claim: Claim | None = None,
    index: IndexChange | None = None,
    counters: Callable[[NamedWrite], None] | None = None,
) -> None:
    """Update (with `actions`) or delete the event if `condition` holds (StaleWrite otherwise); with an audit
    entry, or an upload to claim for its image (UploadUnavailable when it cannot be), or a change of its search
    index items, or writes of its seat counters (`counters`), in one transaction."""
    item = EventModel(id=event_id)
    if audit is not None or claim is not None or index is not None or counters is not None:
        # Imported here: only staff edits and image changes write these, and the public reads never load them.
        from chalicelib.persistence.audit import add_entry
        from chalicelib.persistence.uploads import CLAIM, claim_upload
        from chalicelib.ports.uploads import UploadUnavailable

        try:
            with write_transaction() as tx:
                if actions is None:
                    tx.delete("event", item, condition=condition)
                else:
                    tx.update("event", item, actions=actions, condition=condition)
                if audit is not None:
                    add_entry(tx, audit)
                if claim is not None:
                    claim_upload(tx, claim)
                if index is not None:
                    from chalicelib.persistence.search import write_index

                    write_index(tx, index)
                if counters is not None:
                    counters(tx)
        except ConditionsFailed as exc:
            if CLAIM in exc.names and "event" not in exc.names:
                raise UploadUnavailable() from exc
            raise StaleWrite() from exc
        return
    with translate_errors():
        try:
            if actions is None:
                item.delete(condition=condition)
            else:
                item.update(actions=actions, condition=condition)
        except (UpdateError, DeleteError) as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise StaleWrite() from exc
            raise


class DynamoEventRepository:
    """Implements ports.EventRepository."""

    def get(self, event_id: str, *, consistent: bool = True) -> Event | None:
        return _read([event_id], consistent=consistent)[0].get(event_id)

    def get_with_seat(self, event_id: str, user_id: str) -> tuple[Event | None, BookingStatus | None]:
        # One consistent BatchGetItem, not a TransactGetItems: a transactional read of items being booked
        # conflicts with the booking transactions both ways (the viewer got a 503, a booking was cancelled).
        marker = (UniqueModel, booking_key(event_id, user_id), None)
        found, others = _read([event_id], consistent=True, extra=[marker])
        event = found.get(event_id)
        if event is None:
            return None, None
        return event, marker_status(next(iter(others), None))

    def add(self, event: Event) -> None:
        from chalicelib.persistence.search import event_index_change, write_index

        index = event_index_change(None, event)
        # Its seat counters exist from the moment it does; a published event is found by search from then too,
        # and never before: its index items are written with it.
        try:
            item = _to_item(event)
            # Its lists' copy of the seats from the start (copy_seats keeps it): no event is left for the
            # backfill (manage.py createtables, reindex) but those stored before the copy existed.
            item.listed_booked, item.listed_waitlisted = event.seats_booked, event.waitlisted
            item.listed_at = iso(event.created_at)
            with write_transaction() as tx:
                tx.save("event", item, condition=EventModel.id.does_not_exist())
                for counter in seats.new_items(event):
                    tx.save(seats.name(int(counter.shard)), counter, condition=SeatModel.k.does_not_exist())
                if index is not None:
                    write_index(tx, index)
        except ConditionsFailed as exc:
            raise StaleWrite() from exc

    def get_many(self, event_ids: list[str]) -> dict[str, Event]:
        """Events by id with their first seat counters in one BatchGetItem, and the other counters of events
        that have more in a second (ids that do not exist are absent)."""
        if not event_ids:
            return {}
        return _read(list(dict.fromkeys(event_ids)), consistent=False)[0]

    def save(self, old: Event, new: Event, audit: AuditEntry | None = None, claim: Claim | None = None) -> None:
        # Only the fields that changed are written (the settlement's belong to its own writes); the parts of its
        # bookings never go down (the version condition makes `old`'s the stored one), and are written whenever
        # the counters change, since an item stored before them derives its own from the counters.
        parts = max(old.booking_parts, old.seat_shards, new.booking_parts)
        before, after = _to_item(old), _to_item(replace(new, booking_parts=parts))
        always = {"version", "booking_parts"} if old.seat_shards != new.seat_shards else {"version"}
        actions: list[Action] = []
        for name, attribute in EventModel.get_attributes().items():
            if name in SETTLEMENT or name in LISTED or name == "id":
                continue
            value = getattr(after, name)
            if value != getattr(before, name) or name in always:
                actions.append(attribute.remove() if value is None else attribute.set(value))
        condition = EventModel.version == old.version
        settling = new.settlement is not None and old.settlement is None
        counters = None
        if settling or seats.changes_seats(old, new):
            # The counters copy the status and start, and split the capacity: read now, each written with the
            # condition that it holds no more than its new share (booking transactions move them between this
            # edit's read and its write without bumping the version).
            current = seats.read(old.id, old.seat_shards)
            if settling and seats.counts(current) != (old.seats_booked, old.waitlisted):
                raise StaleWrite()

            def counters(tx: NamedWrite) -> None:
                seats.write_changes(tx, new, current, exact=settling)

        if settling:
            assert new.settlement is not None
            # The settlement's total is the bookings active at this very write: the counters as read, each
            # required to hold just that (exact) and to be closed to new bookings by the cancelled status.
            settlement = new.settlement
            started = iso(settlement.started_at or new.updated_at)
            actions += [
                EventModel.settle_due.set(SETTLE),
                EventModel.settle_sk.set(f"{started}#{new.id}"),
                EventModel.settle_total.set(settlement.bookings),
                EventModel.settle_started_at.set(started),
            ]
        from chalicelib.persistence.search import event_index_change

        _write(old.id, condition, actions, audit, claim, event_index_change(old, new), counters)

    def delete(self, event: Event, audit: AuditEntry | None = None) -> None:
        # Its counters go with it, each only if it holds no booking or waiting place.
        condition = EventModel.version == event.version
        # Never while its settlement runs or refunds it counts are still being issued.
        condition &= EventModel.settle_due.does_not_exist()
        condition &= EventModel.refunds_pending.does_not_exist() | (EventModel.refunds_pending == 0)
        from chalicelib.persistence.search import event_index_change

        current = seats.read(event.id, event.seat_shards)

        def counters(tx: NamedWrite) -> None:
            seats.delete_all(tx, event.id, current)

        _write(event.id, condition, None, audit, index=event_index_change(event, None), counters=counters)

    def copy_seats(self, event_ids: Sequence[str], at: datetime) -> int:
        # One consistent BatchGetItem of the events and their counters (two for events of several), then an
        # UpdateItem per event whose copy differs. Writers race (the stream's shards are handled by as many
        # invocations, each reading when it gets there): the condition keeps the copy of the latest `at`, and
        # since `at` is taken after the changes it copies were committed, that copy reads all of them.
        # Neither `version` nor `updated_at` moves: an edit in flight is not refused for it, and the events'
        # stream sees an event whose domain fields did not change (no notice, services.notifications).
        found, _ = _read(list(dict.fromkeys(event_ids)), consistent=True)
        stamp = iso(at)
        written = 0
        for event in found.values():
            booked, waiting = event.seats_booked, event.waitlisted
            condition = EventModel.id.exists()
            condition &= EventModel.listed_at.does_not_exist() | (EventModel.listed_at < stamp)
            condition &= (
                EventModel.listed_booked.does_not_exist()
                | (EventModel.listed_booked != booked)
                | (EventModel.listed_waitlisted != waiting)
            )
            actions: list[Action] = [
                EventModel.listed_booked.set(booked),
                EventModel.listed_waitlisted.set(waiting),
                EventModel.listed_at.set(stamp),
            ]
            try:
                _write(event.id, condition, actions, None)
            except StaleWrite:
                continue  # deleted, already copied, or copied from a later read
            written += 1
        return written

    def settlements_due(self, now: str, limit: int) -> list[str]:
        with translate_errors():
            # `<when>#<id>` sorts before `now` exactly when `when` is earlier than now.
            results = EventModel.settlement_due.query(SETTLE, EventModel.settle_sk < now, limit=limit)
            return [item.id for item in results]

    def save_settlement_position(self, event: Event, position: dict[str, str] | None, next_at: str) -> None:
        actions: list[Action] = [
            EventModel.settle_cursor.set(json.dumps(position)) if position else EventModel.settle_cursor.remove(),
            EventModel.settle_sk.set(f"{next_at}#{event.id}"),
        ]
        _write(event.id, EventModel.settle_due.exists(), actions, None)

    def mark_reminded(self, event: Event) -> bool:
        if event.starts_at is None:
            return False
        starts = iso(event.starts_at)
        # Only while it still starts then and is published: an edit meanwhile makes it due again, for the new time.
        condition = (EventModel.starts_at == starts) & (EventModel.status == EventStatus.PUBLISHED.value)
        condition &= EventModel.reminded_for.does_not_exist() | (EventModel.reminded_for != starts)
        try:
            _write(event.id, condition, [EventModel.reminded_for.set(starts)], None)
        except StaleWrite:
            return False
        return True

    def finish_settlement(self, event: Event, at: datetime) -> None:
        actions: list[Action] = [
            EventModel.settle_due.remove(),
            EventModel.settle_sk.remove(),
            EventModel.settle_cursor.remove(),
            EventModel.settled_at.set(iso(at)),
        ]
        current = seats.read(event.id, event.seat_shards)

        def nothing_left(tx: NamedWrite) -> None:
            seats.check_empty(tx, event.id, current)

        _write(event.id, EventModel.settle_due.exists(), actions, None, counters=nothing_left)

    def list_published(
        self, *, limit: int, start: dict[str, str] | None, creator: str | None, starts_from: str | None
    ) -> Page:
        kwargs = query_window(limit, start)
        with translate_errors():
            if starts_from is not None:
                condition = EventModel.starts_sk >= starts_from
                if creator:
                    index: Any = EventModel.creator_published_by_start
                    results = index.query(creator, condition, scan_index_forward=True, **kwargs)
                    return page_of(results, limit, ("pub_creator", "starts_sk"), _listed)
                results = EventModel.published_by_start.query(PUBLISHED, condition, scan_index_forward=True, **kwargs)
                return page_of(results, limit, ("pub", "starts_sk"), _listed)
            if creator:
                index = EventModel.creator_published_by_created
                results = index.query(creator, scan_index_forward=False, **kwargs)
                return page_of(results, limit, ("pub_creator", "created_sk"), _listed)
            results = EventModel.published_by_created.query(PUBLISHED, scan_index_forward=False, **kwargs)
            return page_of(results, limit, ("pub", "created_sk"), _listed)

    def list_started(self, creator: str, *, before: str, limit: int, start: dict[str, str] | None) -> Page:
        kwargs = query_window(limit, start)
        with translate_errors():
            # `<start>#<id>` sorts before `before` exactly when the start is earlier: the complement of upcoming.
            index: Any = EventModel.creator_published_by_start
            results = index.query(creator, EventModel.starts_sk < before, scan_index_forward=False, **kwargs)
            return page_of(results, limit, ("pub_creator", "starts_sk"), _listed)

    def list_by_creator(self, creator: str, *, limit: int, start: dict[str, str] | None) -> Page:
        kwargs = query_window(limit, start)
        with translate_errors():
            results = EventModel.by_creator.query(creator, scan_index_forward=False, **kwargs)
            return page_of(results, limit, ("creator", "created_sk"), _listed)

    def list_all(
        self, *, status: EventStatus | None, creator: str | None, limit: int, start: dict[str, str] | None
    ) -> Page:
        index: Any
        if creator and status:
            index, key, attribute = EventModel.by_creator_status, f"{creator}#{status.value}", "creator_status"
        elif creator:
            index, key, attribute = EventModel.by_creator, creator, "creator"
        elif status:
            index, key, attribute = EventModel.by_status, status.value, "status"
        else:
            index, key, attribute = EventModel.all_by_created, ALL, "all_key"
        return newest_first(index, key, (attribute, "created_sk"), _listed, limit=limit, start=start)


def event_of(item: EventModel) -> Event:
    """The event a stored item holds (for maintenance commands)."""
    return _to_domain(item)


def index_key_actions(item: EventModel) -> list[Action]:
    """What gives an event stored before the staff's indexes its keys there."""
    keys = _to_item(_to_domain(item))
    return [EventModel.all_key.set(keys.all_key), EventModel.creator_status.set(keys.creator_status)]
