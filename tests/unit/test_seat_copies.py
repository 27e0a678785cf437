"""The lists' copy of the seat counts (services.seat_copies), kept by the notifier's handling of the bookings'
stream (services.notifications.handle), over the fakes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.enums import CancelReason
from chalicelib.ports.notices import Change
from chalicelib.services import notifications, seat_copies
from tests.contract.builders import T0, at, booking, event
from tests.unit.test_notifications import C, E, P, W, World, X


@pytest.mark.parametrize(
    ("old", "new", "moves"),
    [
        (None, C, True),
        (None, P, True),
        (None, W, True),
        (C, X, True),
        (P, E, True),
        (W, C, True),  # a waiting place becomes a seat
        (W, X, True),
        (P, C, False),  # paid: a seat held is a seat booked, the same count
        (C, C, False),  # its refund or its checkout link changed
        (X, X, False),
        (X, None, False),  # a cancelled booking deleted with its event
        (C, None, True),
    ],
)
def test_only_a_change_that_moves_a_seat_or_a_waiting_place_asks_for_a_copy(old, new, moves):
    of = event()
    after = booking(of, new) if new is not None else None
    before = replace(after or booking(of, old), status=old) if old is not None else None
    assert seat_copies.moved(Change("1", before, after)) == (of.id if moves else None)


def test_an_event_change_never_asks_for_a_copy():
    of = event()
    assert seat_copies.moved(Change("1", of, replace(of, title="Renamed"))) is None


def _listed(world):
    [shown] = world.events.list_published(limit=5, start=None, creator=None, starts_from=None).items
    return shown.seats_booked, shown.waitlisted


def test_handling_a_batch_copies_each_moved_event_once_and_the_lists_show_it():
    world = World()
    world.events.book_seats(world.event.id, 2)
    calls = []
    real = world.events.copy_seats
    world.events.copy_seats = lambda ids, now: calls.append((list(ids), now)) or real(ids, now)
    _, first = world.booked("alice")
    _, second = world.booked("bob")
    assert _listed(world) == (0, 0)  # the lists lag the counters until the batch is handled
    changes = [Change("101", None, first), Change("102", None, second), Change("103", world.event, world.event)]
    assert notifications.handle(world.outbox, changes, at(60)) == []
    assert calls == [([world.event.id, world.event.id], at(60))]
    assert _listed(world) == (2, 0)


def test_a_batch_without_seat_moves_copies_nothing():
    world = World()
    _, made = world.booked("alice")
    calls = []
    world.events.copy_seats = lambda ids, now: calls.append(ids) or 0
    assert notifications.handle(world.outbox, [Change("101", made, made)], T0) == []
    assert calls == []


def test_a_failed_copy_reports_its_changes_in_the_batchs_order_with_the_failed_notices():
    world = World()
    _, first = world.booked("alice")
    _, second = world.booked("bob")
    _, third = world.booked("carol")
    # carol's confirmation cannot be claimed: a failed notice; the copy fails for the whole batch.
    world.ledger.claim(f"{third.user_id}#booking_confirmed#{third.id}", third.user_id, T0, at(60))

    def down(ids, now):
        raise RuntimeError("throttled")

    world.events.copy_seats = down
    changes = [
        Change("101", replace(first, status=C), replace(first, status=X, cancel_reason=CancelReason.OWNER)),
        Change("102", second, second),  # moves nothing: not retried for the copy
        Change("103", None, third),
    ]
    assert notifications.handle(world.outbox, changes, T0) == ["101", "103"]


def test_the_latest_copy_wins_and_an_unchanged_one_is_not_written():
    world = World()
    world.events.book_seats(world.event.id, 3)
    assert world.events.copy_seats([world.event.id, "gone"], at(10)) == 1
    assert world.events.copy_seats([world.event.id], at(20)) == 0  # the same counts
    world.events.book_seats(world.event.id, 1)
    assert world.events.copy_seats([world.event.id], at(5)) == 0  # read before the copy stored: too old
    assert _listed(world) == (3, 0)
    assert world.events.copy_seats([world.event.id], at(30)) == 1
    assert _listed(world) == (4, 0)
