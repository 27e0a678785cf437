"""EventRepository (ports.events): conditional edits and deletes, the settlement of a cancelled event, and the
lists, as each index orders them."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from chalicelib.domain.common import iso
from chalicelib.domain.enums import BookingStatus, CancelReason, EventStatus, RefundStatus, UploadPurpose
from chalicelib.domain.events import Settlement
from chalicelib.domain.uploads import Upload
from chalicelib.ids import new_id
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.uploads import Claim, UploadUnavailable
from tests.contract.builders import (
    NOW,
    T0,
    at,
    audit_entry,
    booking,
    cancelled,
    confirmed_paid,
    event,
    every_page,
    settling,
    when,
    with_refund,
)

PUBLISHED, DRAFT, CANCELLED = EventStatus.PUBLISHED, EventStatus.DRAFT, EventStatus.CANCELLED


def stored(world, **fields):
    made = event(**fields)
    world.events.add(made)
    return made


def book(world, party, status=BookingStatus.CONFIRMED):
    made = booking(party, status)
    world.bookings.add(made, now=NOW, record=None)
    return made


def edit(old, **changes):
    return replace(old.with_changes(**changes), updated_at=at(60))


# get, add, save


def test_an_added_event_reads_back_as_it_was(world):
    made = event(
        ends_at=at(days=10, minutes=90),
        timezone="Europe/Paris",
        price=Decimal("12.50"),
        currency="EUR",
        location="Room 4",
        online_url="https://meet.test/x",
        image="media/x.png",
        status=DRAFT,
        seats_booked=1,
        waitlisted=0,
        version=3,
    )
    world.events.add(made)
    assert world.events.get(made.id) == made
    assert world.events.get(new_id()) is None
    assert world.events.get_with_seat(new_id(), new_id()) == (None, None)
    other = stored(world, starts_at=None, capacity=None)
    assert world.events.get_many([made.id, new_id(), other.id, made.id]) == {made.id: made, other.id: other}
    assert world.events.get_many([]) == {}


def test_save_replaces_the_event_unchanged_since_read(world):
    old = stored(world)
    new = edit(old, title="Renamed", capacity=5, starts_at=None, online_url="https://meet.test/y")
    world.events.save(old, new)
    assert world.events.get(old.id) == new
    with pytest.raises(StaleWrite):  # the version read is gone
        world.events.save(old, edit(old, title="Lost"))
    assert world.events.get(old.id) == new
    with pytest.raises(StaleWrite):
        world.events.save(event(), event())  # never stored


def test_the_parts_of_its_bookings_are_the_most_seat_counters_it_ever_had(world):
    made = stored(world, capacity=900, seat_shards=3)
    assert world.events.get(made.id).booking_parts == 3
    world.events.save(made, edit(made, seat_shards=1))
    fewer = world.events.get(made.id)
    assert (fewer.seat_shards, fewer.booking_parts) == (1, 3)
    world.events.save(fewer, edit(fewer, seat_shards=5))
    more = world.events.get(made.id)
    assert (more.seat_shards, more.booking_parts) == (5, 5)
    world.events.save(more, edit(more, seat_shards=2, booking_parts=1))  # never lowered, whatever it is told
    assert (world.events.get(made.id).seat_shards, world.events.get(made.id).booking_parts) == (2, 5)
    world.events.save(world.events.get(made.id), edit(world.events.get(made.id), title="Renamed"))
    assert world.events.get(made.id).booking_parts == 5


def test_save_never_writes_the_seat_counters(world):
    old = stored(world, capacity=3)
    book(world, old)  # moves the counters without a new version
    world.events.save(old, edit(old, title="Renamed", seats_booked=0, waitlisted=7))
    assert (world.events.get(old.id).seats_booked, world.events.get(old.id).waitlisted) == (1, 0)
    assert world.events.get(old.id).title == "Renamed"


def test_save_refuses_a_capacity_below_the_seats_booked_now(world):
    old = stored(world, capacity=3)
    book(world, old)
    book(world, old)
    with pytest.raises(StaleWrite):  # read with no seat booked: two are now
        world.events.save(old, edit(old, capacity=1))
    assert world.events.get(old.id).capacity == 3
    world.events.save(old, edit(old, capacity=2))  # as many as booked
    assert world.events.get(old.id).capacity == 2
    current = world.events.get(old.id)
    world.events.save(current, edit(current, capacity=None))
    assert world.events.get(old.id).capacity is None


def test_save_writes_its_audit_entry_only_when_it_commits(world):
    old = stored(world)
    entry = audit_entry(old.id)
    world.events.save(old, edit(old, title="Staff edit"), entry)
    with pytest.raises(StaleWrite):
        world.events.save(old, edit(old, title="Stale"), audit_entry(old.id))
    assert world.audit.list(actor=None, object_id=old.id, limit=5, start=None).items == [entry]


def test_save_claims_its_image_upload_in_the_same_write(world):
    old = stored(world)
    upload = Upload(
        id=new_id(),
        owner=old.creator,
        purpose=UploadPurpose.EVENT_IMAGE,
        content_type="image/png",
        size=10,
        key=f"uploads/{old.id}.png",
        created_at=T0,
        expires_at=2_000,
        event_id=old.id,
    )
    world.uploads.add(upload)
    assert world.uploads.get(upload.id) == upload
    new = edit(old, image="media/new.png")
    with pytest.raises(UploadUnavailable):  # someone else's
        world.events.save(old, new, claim=Claim(upload.id, new_id(), 1_000))
    with pytest.raises(UploadUnavailable):  # expired
        world.events.save(old, new, claim=Claim(upload.id, old.creator, 2_000))
    with pytest.raises(UploadUnavailable):
        world.events.save(old, new, claim=Claim(new_id(), old.creator, 1_000))
    assert (world.events.get(old.id), world.uploads.get(upload.id).claimed) == (old, False)
    with pytest.raises(StaleWrite):  # a stale edit is stale, whatever its upload
        world.events.save(event(id=old.id, version=7), new, claim=Claim(upload.id, old.creator, 1_000))
    world.events.save(old, new, claim=Claim(upload.id, old.creator, 1_999))
    assert (world.events.get(old.id), world.uploads.get(upload.id)) == (new, replace(upload, claimed=True))
    newer = edit(new, image="media/newer.png")
    with pytest.raises(UploadUnavailable):  # used once only
        world.events.save(new, newer, claim=Claim(upload.id, old.creator, 1_000))
    assert world.events.get(old.id) == new


# delete


def test_delete_an_event_unchanged_and_without_bookings(world):
    old = stored(world)
    with pytest.raises(StaleWrite):
        world.events.delete(replace(old, version=2))
    entry = audit_entry(old.id)
    world.events.delete(old, entry)
    assert world.events.get(old.id) is None
    assert world.audit.list(actor=None, object_id=old.id, limit=5, start=None).items == [entry]
    with pytest.raises(StaleWrite):  # gone already
        world.events.delete(old)


@pytest.mark.parametrize("counters", [{"seats_booked": 1}, {"waitlisted": 1}], ids=["booked", "waiting"])
def test_delete_refuses_an_event_with_active_bookings(world, counters):
    old = stored(world, **counters)
    refused = audit_entry(old.id)
    with pytest.raises(StaleWrite):
        world.events.delete(old, refused)
    assert world.events.get(old.id) == old
    assert world.audit.list(actor=None, object_id=old.id, limit=5, start=None).items == []


def test_delete_refuses_an_event_booked_since_read(world):
    old = stored(world)
    book(world, old)  # counted without a new version
    with pytest.raises(StaleWrite):
        world.events.delete(old)
    assert world.events.get(old.id).seats_booked == 1


# the settlement of a cancelled event


def test_cancelling_starts_the_settlement_of_the_counters_as_read(world):
    old = stored(world, capacity=1)
    book(world, old)
    book(world, old, BookingStatus.WAITLISTED)
    current = world.events.get(old.id)
    world.events.save(current, settling(current, at(5)))
    settled = world.events.get(old.id)
    assert settled.status is CANCELLED
    assert settled.settlement == Settlement(bookings=2, remaining=2, started_at=at(5))
    assert world.events.settlements_due(when(6), 10) == [old.id]
    assert world.events.settlements_due(when(5), 10) == []
    with pytest.raises(StaleWrite):  # running: never deleted
        world.events.delete(settled)


def test_a_settlement_starts_from_its_total_alone_due_at_the_edit(world):
    old = stored(world)
    new = edit(old, status=CANCELLED)
    odd = Settlement(bookings=0, remaining=4, refunds_pending=3, refunds_failed=1, position={"id": "x"})
    world.events.save(old, replace(new, settlement=odd))  # no start time: the edit's
    assert world.events.get(old.id).settlement == Settlement(bookings=0, started_at=new.updated_at)
    assert world.events.settlements_due(iso(new.updated_at), 10) == []
    assert world.events.settlements_due(when(61), 10) == [old.id]


def test_a_settlement_starts_only_while_the_counters_are_as_read(world):
    old = stored(world, capacity=5)
    book(world, old)
    with pytest.raises(StaleWrite):  # a booking moved them since
        world.events.save(old, settling(old))
    assert world.events.get(old.id).settlement is None
    assert world.events.settlements_due(when(days=1), 10) == []


def test_an_edit_never_writes_the_settlement(world):
    old = stored(world)
    world.events.save(old, settling(old))
    current = world.events.get(old.id)
    rewritten = replace(edit(current, title="After"), settlement=Settlement(bookings=9, refunds_pending=4))
    world.events.save(current, rewritten)
    after = world.events.get(old.id)
    assert (after.title, after.settlement) == ("After", current.settlement)
    assert world.events.settlements_due(when(days=1), 10) == [old.id]


def test_settlements_due_earliest_first_up_to_the_limit(world):
    parties = [stored(world) for _ in range(3)]
    for party, seconds in zip(parties, (30, 10, 20), strict=True):
        world.events.save(party, settling(party, at(seconds)))
    stored(world)  # a live event: nothing to settle
    assert world.events.settlements_due(when(25), 10) == [parties[1].id, parties[2].id]
    assert world.events.settlements_due(when(31), 2) == [parties[1].id, parties[2].id]
    assert world.events.settlements_due(when(31), 10) == [parties[1].id, parties[2].id, parties[0].id]
    assert world.events.settlements_due(NOW, 10) == []


def test_save_settlement_position_moves_its_turn(world):
    old = stored(world)
    with pytest.raises(StaleWrite):  # none running
        world.events.save_settlement_position(old, {"id": "x"}, when(60))
    with pytest.raises(StaleWrite):
        world.events.finish_settlement(old, at(60))
    assert world.events.get(old.id) == old
    world.events.save(old, settling(old))
    position = {"id": new_id(), "event_id": old.id, "created_sk": "2031#x"}
    world.events.save_settlement_position(old, position, when(60))
    assert world.events.get(old.id).settlement.position == position
    assert world.events.settlements_due(when(59), 10) == []
    assert world.events.settlements_due(when(61), 10) == [old.id]
    world.events.save_settlement_position(old, None, when(30))
    assert world.events.get(old.id).settlement.position is None
    assert world.events.settlements_due(when(31), 10) == [old.id]


def test_finish_settlement_only_once_no_booking_is_active(world):
    old = stored(world, capacity=1)
    made = book(world, old)
    current = world.events.get(old.id)
    world.events.save(current, settling(current))
    with pytest.raises(StaleWrite):
        world.events.finish_settlement(old, at(90))
    world.bookings.cancel(made, cancelled(made, reason=CancelReason.EVENT_CANCELLED), None, None)
    world.events.save_settlement_position(old, {"id": made.id}, when(60))
    world.events.finish_settlement(old, at(90))
    done = world.events.get(old.id).settlement
    assert done == Settlement(bookings=1, remaining=0, started_at=T0, completed_at=at(90))
    assert world.events.settlements_due(when(days=1), 10) == []
    for write in (
        lambda: world.events.finish_settlement(old, at(95)),
        lambda: world.events.save_settlement_position(old, None, when(100)),
    ):
        with pytest.raises(StaleWrite):  # no longer running
            write()
    assert world.events.get(old.id).settlement == done
    world.events.delete(world.events.get(old.id))  # settled, no refund pending
    assert world.events.get(old.id) is None


def test_delete_waits_for_the_settlement_to_finish_though_nothing_is_booked(world):
    old = stored(world)
    world.events.save(old, settling(old))
    running = world.events.get(old.id)
    with pytest.raises(StaleWrite):
        world.events.delete(running)
    assert world.events.get(old.id) == running
    world.events.finish_settlement(old, at(30))
    world.events.delete(world.events.get(old.id))
    assert world.events.get(old.id) is None


def test_delete_waits_for_the_settlements_refunds(world):
    old = stored(world, capacity=1, price=Decimal("12.50"))
    made = confirmed_paid(old)
    world.bookings.add(made, now=NOW, record=None)
    current = world.events.get(old.id)
    world.events.save(current, settling(current))
    owed = cancelled(made, reason=CancelReason.EVENT_CANCELLED, refund=RefundStatus.PENDING)
    world.bookings.cancel(made, owed, None, None)
    world.events.finish_settlement(old, at(90))
    with pytest.raises(StaleWrite):  # its refund is still being issued
        world.events.delete(world.events.get(old.id))
    world.bookings.settle_refund(owed, with_refund(owed, RefundStatus.SUCCEEDED, "re_1"))
    settlement = world.events.get(old.id).settlement
    assert (settlement.refunds_pending, settlement.refunds_succeeded, settlement.completed_at) == (0, 1, at(90))
    world.events.delete(world.events.get(old.id))
    assert world.events.get(old.id) is None


# lists


def _newest_first(events):
    return [e.id for e in sorted(events, key=lambda e: (e.created_at, e.id), reverse=True)]


def test_list_published_newest_first_in_pages(world):
    mine = new_id()
    published = [stored(world, created_at=at(minutes=m), creator=mine if m % 2 else new_id()) for m in (1, 5, 3, 2, 4)]
    stored(world, status=DRAFT, creator=mine)
    stored(world, status=CANCELLED, creator=mine)
    order = _newest_first(published)

    def read(creator=None):
        return lambda **kw: world.events.list_published(creator=creator, starts_from=None, **kw)

    assert every_page(read(), 2) == [order[:2], order[2:4], order[4:]]
    assert every_page(read(), 5) == [order]
    own = _newest_first([e for e in published if e.creator == mine])
    assert every_page(read(mine), 2) == [own[:2], own[2:]]


def test_list_published_upcoming_by_start_from_a_time_on(world):
    mine = new_id()
    starts = [at(days=d) for d in (3, 1, 2, 5, 4)]
    upcoming = [stored(world, starts_at=s, creator=mine if i < 3 else new_id()) for i, s in enumerate(starts)]
    stored(world, starts_at=at(days=-1))  # already started
    stored(world, starts_at=None)  # no start: not upcoming
    stored(world, starts_at=at(days=2), status=DRAFT)
    by_start = [e.id for e in sorted(upcoming, key=lambda e: e.starts_at)]

    def read(creator=None, starts_from=NOW):
        return lambda **kw: world.events.list_published(creator=creator, starts_from=starts_from, **kw)

    assert every_page(read(), 2) == [by_start[:2], by_start[2:4], by_start[4:]]
    assert every_page(read(mine), 10) == [[e.id for e in sorted(upcoming[:3], key=lambda e: e.starts_at)]]
    assert every_page(read(starts_from=when(days=2)), 10) == [by_start[1:]]  # from exactly its start on


def test_list_started_most_recent_start_first_before_a_time(world):
    mine = new_id()
    started = [stored(world, starts_at=at(days=-d), creator=mine) for d in (3, 1, 2, 5, 4)]
    stored(world, starts_at=T0, creator=mine)  # starting at that very time: upcoming, not started
    stored(world, starts_at=at(days=1), creator=mine)
    stored(world, starts_at=None, creator=mine)  # no start: never started
    stored(world, starts_at=at(days=-1), creator=mine, status=DRAFT)
    stored(world, starts_at=at(days=-1), creator=mine, status=CANCELLED)
    stored(world, starts_at=at(days=-1))  # someone else's
    recent_first = [e.id for e in sorted(started, key=lambda e: e.starts_at, reverse=True)]

    def read(before=NOW):
        return lambda **kw: world.events.list_started(mine, before=before, **kw)

    assert every_page(read(), 2) == [recent_first[:2], recent_first[2:4], recent_first[4:]]
    assert every_page(read(), 5) == [recent_first]
    assert every_page(read(when(days=-2)), 10) == [recent_first[2:]]  # strictly before: not the one at -2 days
    assert every_page(lambda **kw: world.events.list_started(new_id(), before=NOW, **kw), 10) == [[]]


def test_list_by_creator_and_list_all_show_every_status_newest_first(world):
    mine = new_id()
    events = [
        stored(world, creator=mine, status=status, created_at=at(minutes=m))
        for m, status in ((1, PUBLISHED), (4, DRAFT), (2, CANCELLED), (3, PUBLISHED))
    ]
    theirs = stored(world, created_at=at(minutes=9), status=DRAFT)
    order = _newest_first(events)
    assert every_page(lambda **kw: world.events.list_by_creator(mine, **kw), 3) == [order[:3], order[3:]]

    def all_of(status=None, creator=None):
        return lambda **kw: world.events.list_all(status=status, creator=creator, **kw)

    assert every_page(all_of(), 10) == [[theirs.id, *order]]
    assert every_page(all_of(DRAFT), 1) == [[theirs.id], [events[1].id]]
    assert every_page(all_of(PUBLISHED, mine), 10) == [[events[3].id, events[0].id]]
    assert every_page(all_of(creator=mine), 2) == [order[:2], order[2:]]
    assert every_page(all_of(CANCELLED, new_id()), 10) == [[]]


def test_the_lists_show_the_seats_as_of_the_latest_copy_and_an_event_read_shows_the_counters(world):
    party = stored(world, capacity=2, starts_at=at(days=1))
    other = stored(world, capacity=2)
    book(world, party)
    book(world, party)
    waiting = book(world, party, BookingStatus.WAITLISTED)

    def lists():
        pages = [
            world.events.list_published(limit=5, start=None, creator=None, starts_from=None),
            world.events.list_by_creator(party.creator, limit=5, start=None),
            world.events.list_all(status=None, creator=None, limit=5, start=None),
            world.events.list_started(party.creator, before=when(days=2), limit=5, start=None),
        ]
        return [[(e.id, e.seats_booked, e.waitlisted) for e in page.items if e.id == party.id] for page in pages]

    assert lists() == [[(party.id, 0, 0)]] * 4  # the copy made with the event, not yet of its bookings
    assert (world.events.get(party.id).seats_booked, world.events.get(party.id).waitlisted) == (2, 1)
    # `other` is as copied when it was made: not written again; an unknown id is skipped.
    assert world.events.copy_seats([party.id, other.id, new_id(), party.id], at(10)) == 1
    assert lists() == [[(party.id, 2, 1)]] * 4
    assert world.events.copy_seats([party.id], at(20)) == 0  # the counts did not move
    world.bookings.cancel(waiting, cancelled(waiting), None, None)
    assert world.events.copy_seats([party.id], at(5)) == 0  # read before the copy stored: not written
    assert lists() == [[(party.id, 2, 1)]] * 4
    assert world.events.copy_seats([party.id], at(30)) == 1
    assert lists() == [[(party.id, 2, 0)]] * 4
    # The copy is not an edit: the event's version stands, so an edit read before it still saves.
    assert world.events.get(party.id).version == party.version
    world.events.save(party, edit(party, title="Renamed"))
    assert world.events.get(party.id).title == "Renamed"
    assert lists() == [[(party.id, 2, 0)]] * 4  # and the edit leaves the copy as it was


def test_a_page_continues_after_its_last_event_even_once_that_left_the_list(world):
    published = [stored(world, created_at=at(minutes=m)) for m in range(5)]
    order = _newest_first(published)
    first = world.events.list_published(limit=2, start=None, creator=None, starts_from=None)
    assert [e.id for e in first.items] == order[:2]
    last = world.events.get(order[1])
    world.events.save(last, edit(last, status=DRAFT))  # unpublished between two pages
    rest = world.events.list_published(limit=5, start=first.next_key, creator=None, starts_from=None)
    assert ([e.id for e in rest.items], rest.next_key) == (order[2:], None)


def test_an_event_is_marked_reminded_once_per_start_time_and_only_while_published(world):
    # The reminder's trigger (services.notifications.mark_reminders): once per start time, and again once the
    # start time is edited; never for an event no longer published or gone.
    from tests.contract.builders import at

    upcoming = event(starts_at=at(days=1))
    world.events.add(upcoming)
    assert world.events.mark_reminded(upcoming) is True
    reminded = world.events.get(upcoming.id)
    assert reminded.reminded_for == upcoming.starts_at
    assert world.events.mark_reminded(reminded) is False
    moved = reminded.with_changes(starts_at=at(days=2))
    world.events.save(reminded, moved)
    assert world.events.mark_reminded(reminded) is False  # read before the edit: its start is no longer the event's
    assert world.events.get(upcoming.id).reminded_for == upcoming.starts_at  # the edit leaves it as it was
    assert world.events.mark_reminded(world.events.get(upcoming.id)) is True
    assert world.events.get(upcoming.id).reminded_for == at(days=2)
    draft = event(status=EventStatus.DRAFT)
    world.events.add(draft)
    assert world.events.mark_reminded(draft) is False
    assert world.events.mark_reminded(event()) is False  # never stored
