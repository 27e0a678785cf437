"""Maintenance outside request paths: creating the tables a stage needs, adding the indexes an older table
lacks, and writing the index keys of items stored before those indexes existed (these may Scan)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.persistence import events, users
from chalicelib.persistence.errors import error_code, translate_errors
from chalicelib.persistence.models import all_models
from chalicelib.persistence.models.events import EventModel
from chalicelib.persistence.models.users import UserModel
from chalicelib.persistence.pynamodb_private import client_of, schema_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from pynamodb.expressions.update import Action
    from pynamodb.models import Model

INDEX_WAIT_SECONDS = 1800  # DynamoDB fills a new index from the table's items first


def create_tables(wait: bool = True) -> list[str]:
    """Create every missing table (on demand billing) and add the indexes an existing table lacks; returns what
    it made, as `table` or `table/index`. Safe to repeat."""
    created = []
    with translate_errors():
        for model in all_models():
            if not model.exists():
                model.create_table(billing_mode="PAY_PER_REQUEST", wait=wait)
                created.append(model.Meta.table_name)
            else:
                created += [f"{model.Meta.table_name}/{name}" for name in _add_missing_indexes(model, wait)]
                if _enable_stream(model):
                    created.append(f"{model.Meta.table_name}/stream")
    return created


def _enable_stream(model: type[Model]) -> bool:
    """Turn on the stream a model asks for on a table made without it (older tables, and the local AWS, which
    loads its snapshot into tables without streams so that reloading old items is not news to anyone)."""
    view = getattr(model.Meta, "stream_view_type", None)
    if view is None:
        return False
    client = client_of(model)
    described = client.describe_table(TableName=model.Meta.table_name)["Table"]
    if described.get("StreamSpecification", {}).get("StreamEnabled"):
        return False
    client.update_table(
        TableName=model.Meta.table_name, StreamSpecification={"StreamEnabled": True, "StreamViewType": view}
    )
    return True


def _add_missing_indexes(model: type[Model], wait: bool) -> list[str]:
    table = model.Meta.table_name
    client = client_of(model)
    described = client.describe_table(TableName=table)["Table"]
    present = {index["IndexName"] for index in described.get("GlobalSecondaryIndexes", [])}
    added = []
    for index in schema_of(model).get("global_secondary_indexes", []):
        name = index["index_name"]
        if name in present:
            continue
        # DynamoDB creates one index per UpdateTable, and the next only once the previous one is active.
        client.update_table(
            TableName=table,
            AttributeDefinitions=index["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[
                {"Create": {"IndexName": name, "KeySchema": index["key_schema"], "Projection": index["projection"]}}
            ],
        )
        if wait:
            _wait_until_active(client, table, name)
        added.append(name)
    return added


def _wait_until_active(client: Any, table: str, index: str) -> None:
    deadline = time.monotonic() + INDEX_WAIT_SECONDS
    while time.monotonic() < deadline:
        indexes = client.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
        if all(i["IndexStatus"] == "ACTIVE" for i in indexes if i["IndexName"] == index):
            return
        time.sleep(5)
    raise TimeoutError(f"index {index} of {table} is not active after {INDEX_WAIT_SECONDS} s")


def backfill_index_keys() -> dict[str, int]:
    """Give users and events stored before the staff's indexes the keys that put them there, and bookings stored
    before the index of an event's bookings by part theirs; returns how many of each were updated. Scans the
    three tables (only the items without their keys are written): a maintenance command, never a request
    path."""
    with translate_errors():
        return {
            "users": _backfill(UserModel, users.index_key_actions),
            "events": _backfill(EventModel, events.index_key_actions),
            "bookings": backfill_booking_parts(),
        }


def backfill_booking_parts() -> int:
    """Give each booking stored before the by-event-part index its part there (its seat counter; none recorded:
    counter 0), and raise its event's `booking_parts` above the highest part when the event's counters went down
    since (the readers query that many parts). Returns how many bookings were written."""
    from chalicelib.persistence.bookings import event_part
    from chalicelib.persistence.models.bookings import BookingModel

    written = 0
    highest: dict[str, int] = {}
    for item in BookingModel.scan(BookingModel.event_part.does_not_exist()):
        part = int(item.seat_shard or 0)
        try:
            # Only if still without one: a part, once set, never moves.
            BookingModel(id=item.id).update(
                actions=[BookingModel.event_part.set(event_part(item.event_id, part))],
                condition=BookingModel.id.exists() & BookingModel.event_part.does_not_exist(),
            )
            written += 1
        except UpdateError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
        highest[item.event_id] = max(highest.get(item.event_id, 0), part)
    for event_id, part in highest.items():
        _raise_booking_parts(event_id, part + 1)
    return written


def _raise_booking_parts(event_id: str, parts: int) -> None:
    """At least `parts` on the event (a deleted one is left alone). The version moves too, so that an edit that
    read the event before writes again from what it holds now, not from the counters it had read."""
    from chalicelib.persistence.common import get_or_none

    while (item := get_or_none(EventModel, event_id)) is not None and events.booking_parts(item) < parts:
        try:
            EventModel(id=event_id).update(
                actions=[EventModel.booking_parts.set(parts), EventModel.version.add(1)],
                condition=EventModel.version == item.version,
            )
            return
        except UpdateError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise


def rebuild_search_index() -> dict[str, int]:
    """Make the search table hold exactly the index items of today's events (persistence.search): for events
    stored before search existed, or after a change of what is indexed. Each event's items change in one
    transaction with a check that the event is still the version read (an edit meanwhile wrote its own items);
    returns how many events were written, and items put and deleted. Scans both tables: a maintenance command."""
    from chalicelib.persistence.common import get_or_none
    from chalicelib.persistence.models.search import SearchModel
    from chalicelib.persistence.search import index_change, index_items, write_index
    from chalicelib.persistence.transactions import ConditionsFailed, write_transaction

    counts = {"events": 0, "put": 0, "deleted": 0, "skipped": 0}
    with translate_errors():
        stored: dict[str, dict[str, dict[str, Any]]] = {}
        for item in SearchModel.scan():
            values = {name: getattr(item, name) for name in SearchModel.get_attributes() if name not in ("k", "id")}
            stored.setdefault(item.id, {})[item.k] = values
        for event_item in EventModel.scan():
            wanted = index_items(events.event_of(event_item))
            change = index_change(event_item.id, stored.pop(event_item.id, {}), wanted)
            if change is None:
                continue
            try:
                with write_transaction() as tx:
                    tx.check("event", EventModel, event_item.id, EventModel.version == event_item.version)
                    write_index(tx, change)
            except ConditionsFailed:
                counts["skipped"] += 1  # edited meanwhile: that edit wrote its items
                continue
            counts["events"] += 1
            counts["put"] += len(change.puts)
            counts["deleted"] += len(change.deletes)
        # Items of events the scan did not see: deleted ones (an event made since has its items and is kept).
        for event_id, keys in stored.items():
            if get_or_none(EventModel, event_id) is not None:
                continue
            with SearchModel.batch_write() as batch:
                for key in keys:
                    batch.delete(SearchModel(k=key, id=event_id))
                    counts["deleted"] += 1
    return counts


def backfill_seat_counters() -> int:
    """Give events stored before seat counters (models.seats) theirs: one counter holding the event's active
    bookings, counted from its bookings (those stored before counters carry no `seat_shard`: counter 0). Each in
    one transaction, only if the event is still the version read and has no counter yet; returns how many
    events got one. Scans the events, reads their first counters 100 at a time, and queries the bookings of those
    without: a maintenance command."""
    from chalicelib.domain.enums import SEAT_STATUSES, BookingStatus
    from chalicelib.persistence import seats
    from chalicelib.persistence.bookings import event_part
    from chalicelib.persistence.common import BATCH_KEYS, batch_read
    from chalicelib.persistence.models.bookings import BookingModel
    from chalicelib.persistence.models.seats import SeatModel
    from chalicelib.persistence.transactions import ConditionsFailed, write_transaction

    seat_statuses = {status.value for status in SEAT_STATUSES}
    written = 0
    with translate_errors():
        scanned = list(EventModel.scan())
    for start in range(0, len(scanned), BATCH_KEYS):
        chunk = scanned[start : start + BATCH_KEYS]
        # Which of these events have a first counter already: one BatchGetItem per 100 events.
        keys = [key for item in chunk for key in seats.keys(item.id, [seats.FIRST])]
        counted = {item.event_id for item in batch_read(keys, consistent=True)}
        for event_item in chunk:
            if event_item.id in counted:
                continue
            booked = waiting = 0
            with translate_errors():
                for part in range(events.booking_parts(event_item)):
                    key = event_part(event_item.id, part)
                    for booking in BookingModel.by_event_part.query(key, attributes_to_get=["status"]):
                        booked += booking.status in seat_statuses
                        waiting += booking.status == BookingStatus.WAITLISTED.value
            event = events.event_of(event_item)
            counter = seats.new_items(event)[seats.FIRST]
            counter.booked, counter.waitlisted = booked, waiting
            try:
                with write_transaction() as tx:
                    tx.check("event", EventModel, event_item.id, EventModel.version == event_item.version)
                    tx.save(seats.name(seats.FIRST), counter, condition=SeatModel.k.does_not_exist())
            except ConditionsFailed:
                continue  # edited or given its counters meanwhile: the next run looks again
            written += 1
    return written


def backfill_seat_copies(now: datetime) -> int:
    """Copy the seat counts of events that have no copy yet (stored before the lists read one, or never
    booked) onto them for the lists (DynamoEventRepository.copy_seats, 100 events per read); returns how many
    copies were written. Scans the events: a maintenance command."""
    from chalicelib.persistence.common import BATCH_KEYS
    from chalicelib.persistence.events import DynamoEventRepository

    with translate_errors():
        ids = [item.id for item in EventModel.scan(EventModel.listed_at.does_not_exist(), attributes_to_get=["id"])]
    repository = DynamoEventRepository()
    return sum(repository.copy_seats(ids[i : i + BATCH_KEYS], now) for i in range(0, len(ids), BATCH_KEYS))


def backfill_lookalike_markers() -> tuple[int, list[tuple[str, str]]]:
    """Give the accounts made before look-alike usernames were refused their marker (security.lookalikes);
    returns how many were written, and the pairs of existing accounts whose usernames look the same (the first
    keeps the marker; staff decide about the other). Scans the users: a maintenance command."""
    from chalicelib.persistence.models.uniques import UniqueModel
    from chalicelib.persistence.users import lookalike_key

    written, clashes = 0, []
    with translate_errors():
        for item in UserModel.scan():
            key = lookalike_key(item.username)
            try:
                UniqueModel(key=key, owner=item.id).save(condition=UniqueModel.key.does_not_exist())
                written += 1
            except PutError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise
                holder = UniqueModel.get(key, consistent_read=True).owner
                if holder != item.id:
                    clashes.append((holder, item.id))
    return written, clashes


def _backfill(model: Any, actions: Callable[[Any], list[Action]]) -> int:
    updated = 0
    for item in model.scan(model.all_key.does_not_exist()):
        try:
            # Only if unchanged since read: a change made meanwhile wrote the keys itself.
            model(id=item.id).update(actions=actions(item), condition=model.version == item.version)
            updated += 1
        except UpdateError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
    return updated
