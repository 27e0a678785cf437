"""BookingRepository and IdempotencyRepository (ports.bookings): the transaction conditions that keep the seat
counters, the active-booking markers, the index of payment work due and the stored results in step."""

from __future__ import annotations

from dataclasses import replace

import pytest

from chalicelib.domain.common import iso
from chalicelib.domain.enums import BookingStatus, CancelReason, EventStatus, RefundStatus
from chalicelib.ids import new_id
from chalicelib.ports.bookings import AlreadyBooked, EventChanged, KeyAlreadyUsed, Promotion
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.payments import EventAlreadyApplied, ProviderEvent
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
    hold,
    hold_payment,
    paid,
    paid_event,
    record,
    settling,
    when,
    with_refund,
)

CONFIRMED, WAITLISTED, PENDING = BookingStatus.CONFIRMED, BookingStatus.WAITLISTED, BookingStatus.PENDING_PAYMENT


def seats(world, event_id):
    """(seats_booked, waitlisted) of the event as stored."""
    stored = world.events.get(event_id)
    return stored.seats_booked, stored.waitlisted


def stored_event(world, **fields):
    made = event(**fields)
    world.events.add(made)
    return made


def add(world, *bookings, now=NOW):
    for made in bookings:
        world.bookings.add(made, now=now, record=None)
    return bookings[0] if len(bookings) == 1 else bookings


def provider_event(kind="checkout.session.completed"):
    return ProviderEvent(
        id=f"evt_{new_id()}", type=kind, session_id=None, booking_id=None, paid=True, payment_intent=None
    )


def due_ids(world, kind, now, limit=10):
    return [b.id for b in world.bookings.due(kind, now, limit)]


def unchanged(world, made, event_id, counters):
    """Nothing of a refused write is visible: the booking as it was, the event's counters as they were."""
    return world.bookings.get(made.id) == made and seats(world, event_id) == counters


# add


@pytest.mark.parametrize("status", [CONFIRMED, PENDING])
def test_add_a_seat_counts_it_on_the_event_and_marks_the_user(world, status):
    party = stored_event(world)
    made = add(world, hold(party) if status is PENDING else booking(party))
    assert world.bookings.get(made.id) == made
    assert seats(world, party.id) == (1, 0)
    assert world.bookings.active_status(party.id, made.user_id) is status
    assert world.events.get_with_seat(party.id, made.user_id) == (world.events.get(party.id), status)
    assert world.events.get_with_seat(party.id, new_id())[1] is None


def test_add_a_waiting_booking_counts_it_in_the_waitlist(world):
    party = stored_event(world, capacity=1)
    first, waiting = add(world, booking(party), booking(party, WAITLISTED))
    assert seats(world, party.id) == (1, 1)
    assert world.bookings.active_status(party.id, waiting.user_id) is WAITLISTED
    assert world.bookings.oldest_waitlisted(party.id) == waiting
    assert world.bookings.get(first.id) == first


def test_an_event_without_a_start_time_or_a_capacity_takes_bookings(world):
    party = stored_event(world, starts_at=None, capacity=None)
    add(world, booking(party), booking(party), booking(party))
    assert seats(world, party.id) == (3, 0)


def test_a_user_with_an_active_booking_cannot_book_again(world):
    party = stored_event(world, capacity=1)
    first = add(world, booking(party))
    for status in (CONFIRMED, WAITLISTED, PENDING):
        again = booking(party, status, user_id=first.user_id)
        with pytest.raises(AlreadyBooked):
            world.bookings.add(again, now=NOW, record=None)
        assert world.bookings.get(again.id) is None
    assert seats(world, party.id) == (1, 0)


def test_a_user_may_book_again_once_their_booking_ended(world):
    party = stored_event(world)
    first = add(world, booking(party))
    world.bookings.cancel(first, cancelled(first), None, None)
    again = add(world, booking(party, user_id=first.user_id))
    assert world.bookings.active_status(party.id, first.user_id) is CONFIRMED
    assert world.bookings.get(again.id) == again
    assert seats(world, party.id) == (1, 0)


@pytest.mark.parametrize(
    ("fields", "status", "now"),
    [
        pytest.param({"capacity": 1, "seats_booked": 1}, CONFIRMED, NOW, id="full"),
        pytest.param({"capacity": 1, "seats_booked": 1}, PENDING, NOW, id="full-hold"),
        pytest.param({"capacity": 2, "seats_booked": 1}, WAITLISTED, NOW, id="waiting-while-seats-are-free"),
        pytest.param({"capacity": None}, WAITLISTED, NOW, id="waiting-without-capacity"),
        pytest.param({"status": EventStatus.DRAFT}, CONFIRMED, NOW, id="draft"),
        pytest.param({"status": EventStatus.CANCELLED}, CONFIRMED, NOW, id="cancelled"),
        pytest.param({"status": EventStatus.CANCELLED, "seats_booked": 2}, WAITLISTED, NOW, id="cancelled-full"),
        pytest.param({"starts_at": T0}, CONFIRMED, NOW, id="starting-now"),
        pytest.param({"starts_at": at(-1)}, CONFIRMED, NOW, id="started"),
        pytest.param({"starts_at": at(days=1)}, CONFIRMED, when(days=2), id="started-as-of-now"),
    ],
)
def test_add_refuses_what_the_event_no_longer_allows(world, fields, status, now):
    party = stored_event(world, **fields)
    refused = booking(party, status)
    with pytest.raises(EventChanged):
        world.bookings.add(refused, now=now, record=None)
    assert world.bookings.get(refused.id) is None
    assert world.bookings.active_status(party.id, refused.user_id) is None
    assert seats(world, party.id) == (party.seats_booked, party.waitlisted)


def test_add_to_an_event_that_does_not_exist_is_an_event_changed(world):
    party = event()  # never stored (deleted meanwhile)
    refused = booking(party)
    with pytest.raises(EventChanged):
        world.bookings.add(refused, now=NOW, record=None)
    assert world.bookings.get(refused.id) is None
    assert world.bookings.active_status(party.id, refused.user_id) is None


def test_add_waits_only_while_full_even_at_one_seat_left(world):
    party = stored_event(world, capacity=2)
    add(world, booking(party))
    with pytest.raises(EventChanged):
        world.bookings.add(booking(party, WAITLISTED), now=NOW, record=None)
    add(world, booking(party))
    add(world, booking(party, WAITLISTED))
    with pytest.raises(EventChanged):
        world.bookings.add(booking(party), now=NOW, record=None)
    assert seats(world, party.id) == (2, 1)


# idempotency records


def test_add_stores_its_result_under_the_key_until_it_expires(world):
    party = stored_event(world)
    made = booking(party)
    written = record("u#k1", made, expires_at=2_000, now=1_000)
    world.bookings.add(made, now=NOW, record=written)
    assert world.records.get("u#k1", 1_999) == written.stored
    assert world.records.get("u#k1", 2_000) is None  # expired from the second it expires
    assert world.records.get("u#other", 1_000) is None


def test_an_unexpired_key_refuses_the_write_before_any_other_condition(world):
    party = stored_event(world, capacity=1)
    first = booking(party)
    world.bookings.add(first, now=NOW, record=record("u#k", first, expires_at=2_000, now=1_000))
    # The same user again (AlreadyBooked) at a full event (EventChanged): the stored record answers first.
    again = booking(party, user_id=first.user_id)
    with pytest.raises(KeyAlreadyUsed):
        world.bookings.add(again, now=NOW, record=record("u#k", again, expires_at=3_000, now=1_999))
    assert world.records.get("u#k", 1_999).result.booking == first
    assert world.bookings.get(again.id) is None
    assert seats(world, party.id) == (1, 0)


def test_an_expired_key_is_free_for_another_write(world):
    party = stored_event(world)
    first, second = booking(party), booking(party)
    world.bookings.add(first, now=NOW, record=record("u#k", first, expires_at=2_000, now=1_000))
    written = record("u#k", second, expires_at=4_000, now=2_000)
    world.bookings.add(second, now=NOW, record=written)
    assert world.records.get("u#k", 2_000) == written.stored
    assert seats(world, party.id) == (2, 0)


def test_cancel_stores_its_result_and_refuses_an_unexpired_key(world):
    party = stored_event(world)
    made = add(world, booking(party))
    taken = record("u#c", made, expires_at=2_000, now=1_000)
    other = add(world, booking(party))
    world.bookings.cancel(other, cancelled(other), None, taken)
    with pytest.raises(KeyAlreadyUsed):
        world.bookings.cancel(made, cancelled(made), None, record("u#c", made, expires_at=3_000, now=1_500))
    assert unchanged(world, made, party.id, (1, 0))
    assert world.records.get("u#c", 1_500) == taken.stored
    again = record("u#c", made, expires_at=3_000, now=2_000)  # expired: free again
    world.bookings.cancel(made, cancelled(made), None, again)
    assert world.records.get("u#c", 2_000) == again.stored
    assert seats(world, party.id) == (0, 0)


# cancel


def test_cancel_frees_the_seat_while_nobody_waits(world):
    party = stored_event(world)
    made = add(world, booking(party))
    ended = cancelled(made, 5)
    world.bookings.cancel(made, ended, None, None)
    assert world.bookings.get(made.id) == ended
    assert world.bookings.active_status(party.id, made.user_id) is None
    assert seats(world, party.id) == (0, 0)


def test_cancel_a_waiting_booking_drops_its_place(world):
    party = stored_event(world, capacity=1)
    _, waiting = add(world, booking(party), booking(party, WAITLISTED))
    world.bookings.cancel(waiting, cancelled(waiting), None, None)
    assert seats(world, party.id) == (1, 0)
    assert world.bookings.oldest_waitlisted(party.id) is None
    assert world.bookings.active_status(party.id, waiting.user_id) is None


def test_cancel_refuses_to_free_a_seat_someone_waits_for(world):
    party = stored_event(world, capacity=1)
    made, waiting = add(world, booking(party), booking(party, WAITLISTED))
    with pytest.raises(StaleWrite):
        world.bookings.cancel(made, cancelled(made), None, None)
    assert unchanged(world, made, party.id, (1, 1))
    assert world.bookings.get(waiting.id) == waiting
    assert world.bookings.active_status(party.id, made.user_id) is CONFIRMED


@pytest.mark.parametrize("promoted_status", [CONFIRMED, PENDING])
def test_cancel_passes_the_seat_to_the_promoted_booking(world, promoted_status):
    party = stored_event(world, capacity=1)
    made, waiting = add(world, booking(party), booking(party, WAITLISTED))
    later = add(world, booking(party, WAITLISTED, created_at=at(1)))
    promoted = replace(waiting, status=promoted_status)
    if promoted_status is PENDING:
        promoted = replace(promoted, payment=hold_payment(at(minutes=15)))
    world.bookings.cancel(made, cancelled(made), Promotion(waiting, promoted), None)
    assert world.bookings.get(waiting.id) == promoted
    assert world.bookings.active_status(party.id, waiting.user_id) is promoted_status
    assert world.bookings.active_status(party.id, made.user_id) is None
    assert seats(world, party.id) == (1, 1)
    assert world.bookings.oldest_waitlisted(party.id) == later
    assert due_ids(world, "hold", when(minutes=16)) == ([waiting.id] if promoted_status is PENDING else [])


def test_cancel_refuses_a_promotion_of_a_booking_no_longer_waiting(world):
    party = stored_event(world, capacity=1)
    made, waiting = add(world, booking(party), booking(party, WAITLISTED))
    world.bookings.cancel(waiting, cancelled(waiting), None, None)
    with pytest.raises(StaleWrite):
        world.bookings.cancel(made, cancelled(made), Promotion(waiting, replace(waiting, status=CONFIRMED)), None)
    assert unchanged(world, made, party.id, (1, 0))
    assert world.bookings.get(waiting.id) == cancelled(waiting)


def test_cancel_refuses_a_promotion_of_a_booking_promoted_meanwhile(world):
    party = stored_event(world, capacity=2)
    first, second, waiting, after = add(
        world, booking(party), booking(party), booking(party, WAITLISTED), booking(party, WAITLISTED, created_at=at(1))
    )
    promoted = replace(waiting, status=CONFIRMED)
    world.bookings.cancel(first, cancelled(first), Promotion(waiting, promoted), None)
    with pytest.raises(StaleWrite):  # another cancellation gave it a seat first; someone still waits
        world.bookings.cancel(second, cancelled(second), Promotion(waiting, promoted), None)
    assert unchanged(world, second, party.id, (2, 1))
    assert world.bookings.get(after.id) == after
    world.bookings.cancel(second, cancelled(second), Promotion(after, replace(after, status=CONFIRMED)), None)
    assert seats(world, party.id) == (2, 0)


def test_cancel_refuses_a_booking_that_changed_since_read(world):
    party = stored_event(world)
    held = add(world, hold(party))
    confirmed = replace(held, status=CONFIRMED, payment=paid(held))
    world.bookings.confirm(held, confirmed, None)
    with pytest.raises(StaleWrite):
        world.bookings.cancel(held, cancelled(held), None, None)
    assert unchanged(world, confirmed, party.id, (1, 0))
    assert world.bookings.active_status(party.id, held.user_id) is CONFIRMED


def test_cancel_refuses_a_booking_no_longer_active(world):
    party = stored_event(world)
    made, other = add(world, booking(party), booking(party))
    ended = cancelled(made)
    world.bookings.cancel(made, ended, None, None)
    with pytest.raises(StaleWrite):  # read after it ended: nothing to release
        world.bookings.cancel(ended, cancelled(ended, 9), None, None)
    assert unchanged(world, ended, party.id, (1, 0))
    assert world.bookings.get(other.id) == other


def test_at_a_cancelled_event_a_seat_is_freed_though_someone_waits(world):
    party = stored_event(world, capacity=1)
    made, waiting = add(world, booking(party), booking(party, WAITLISTED))
    world.events.save(world.events.get(party.id), settling(world.events.get(party.id)))
    reason = CancelReason.EVENT_CANCELLED
    with pytest.raises(StaleWrite):  # nobody is promoted into a cancelled event
        world.bookings.cancel(
            made, cancelled(made, reason=reason), Promotion(waiting, replace(waiting, status=CONFIRMED)), None
        )
    assert unchanged(world, made, party.id, (1, 1))
    world.bookings.cancel(made, cancelled(made, reason=reason), None, None)
    assert seats(world, party.id) == (0, 1)
    assert world.bookings.get(waiting.id) == waiting


def test_cancel_writes_its_audit_entry_only_when_it_commits(world):
    party = stored_event(world, capacity=1)
    made, _ = add(world, booking(party), booking(party, WAITLISTED))
    refused = audit_entry(made.id)
    with pytest.raises(StaleWrite):
        world.bookings.cancel(made, cancelled(made), None, None, refused)
    assert world.audit.list(actor=None, object_id=made.id, limit=10, start=None).items == []
    other = add(world, booking(stored_event(world)))
    written = audit_entry(other.id)
    world.bookings.cancel(other, cancelled(other), None, None, written)
    assert world.audit.list(actor=None, object_id=other.id, limit=10, start=None).items == [written]


def test_a_refund_owed_because_the_event_was_cancelled_is_counted_on_its_settlement(world):
    party = stored_event(world, price=paid_event().price, capacity=3)
    owed, kept, free = add(world, confirmed_paid(party), confirmed_paid(party), booking(party))
    world.events.save(world.events.get(party.id), settling(world.events.get(party.id)))
    world.bookings.cancel(
        owed, cancelled(owed, reason=CancelReason.EVENT_CANCELLED, refund=RefundStatus.PENDING), None, None
    )
    # Refunds owed for other reasons, and bookings without money, are not the settlement's.
    world.bookings.cancel(kept, cancelled(kept, reason=CancelReason.OWNER, refund=RefundStatus.PENDING), None, None)
    world.bookings.cancel(free, cancelled(free, reason=CancelReason.EVENT_CANCELLED), None, None)
    settlement = world.events.get(party.id).settlement
    assert (settlement.bookings, settlement.remaining, settlement.refunds_pending) == (3, 0, 1)
    assert (settlement.refunds_succeeded, settlement.refunds_failed) == (0, 0)
    assert due_ids(world, "refund", when(1)) == sorted([owed.id, kept.id])


# the cancelled hold's checkout


def test_a_cancelled_hold_stays_due_a_minute_later_for_its_checkout(world):
    party = stored_event(world)
    held = add(world, hold(party, at(minutes=15)))
    ended = cancelled(held, 30)
    world.bookings.cancel(held, ended, None, None)
    assert world.bookings.get(held.id) == ended
    assert due_ids(world, "hold", iso(at(90))) == []  # a minute after the cancellation: not yet
    assert due_ids(world, "hold", iso(at(90.001))) == [held.id]
    assert due_ids(world, "hold", when(days=1)) == [held.id]  # no longer by its hold's end
    assert due_ids(world, "refund", when(days=1)) == []


def test_a_cancelled_hold_without_a_checkout_is_due_for_nothing(world):
    party = stored_event(world)
    held = add(world, hold(party, checkout=False))
    world.bookings.cancel(held, cancelled(held), None, None)
    assert due_ids(world, "hold", when(days=1)) == []
    with pytest.raises(StaleWrite):
        world.bookings.checkout_closed(cancelled(held))


def test_recheck_checkout_moves_the_cancelled_holds_turn(world):
    party = stored_event(world)
    held = add(world, hold(party))
    ended = cancelled(held)
    world.bookings.cancel(held, ended, None, None)
    world.bookings.recheck_checkout(ended, when(minutes=5))
    assert due_ids(world, "hold", when(minutes=4)) == []
    assert due_ids(world, "hold", when(minutes=5, seconds=1)) == [held.id]
    world.bookings.checkout_closed(ended)
    assert due_ids(world, "hold", when(days=1)) == []
    assert world.bookings.get(held.id) == ended
    with pytest.raises(StaleWrite):  # nothing more is due
        world.bookings.checkout_closed(ended)


def test_a_hold_still_running_is_never_taken_out_of_the_holds_as_if_its_checkout_were_closed(world):
    party = stored_event(world)
    held = add(world, hold(party))
    with pytest.raises(StaleWrite):
        world.bookings.checkout_closed(held)
    assert due_ids(world, "hold", when(days=1)) == [held.id]  # it still ends when its time is up


def test_a_payment_on_a_cancelled_hold_stops_its_checkout_work_and_owes_its_refund(world):
    party = stored_event(world)
    held = add(world, hold(party))
    ended = cancelled(held)
    world.bookings.cancel(held, ended, None, None)
    owed = replace(ended, payment=replace(paid(ended), refund_status=RefundStatus.PENDING))
    applied = provider_event()
    world.bookings.owe_refund(ended, owed, applied)
    assert world.bookings.get(held.id) == owed
    assert world.bookings.get_for_event(held.id, applied.id) == (owed, True)
    assert due_ids(world, "hold", when(days=1)) == []
    assert due_ids(world, "refund", when(1)) == [held.id]  # owed since the cancellation
    for write in (world.bookings.recheck_checkout, lambda b, *_: world.bookings.checkout_closed(b)):
        with pytest.raises(StaleWrite):
            write(ended, when(minutes=5))
    with pytest.raises(StaleWrite):  # recorded once only
        world.bookings.owe_refund(ended, owed, None)


def test_recheck_checkout_refuses_a_booking_that_changed(world):
    party = stored_event(world)
    held = add(world, hold(party))
    with pytest.raises(StaleWrite):  # read as cancelled, still pending
        world.bookings.recheck_checkout(cancelled(held), when(minutes=5))
    with pytest.raises(StaleWrite):
        world.bookings.recheck_checkout(cancelled(hold(party)), when(minutes=5))  # never stored
    assert world.bookings.get(held.id) == held


# expire, withdraw, attach_checkout, confirm


def test_expire_ends_the_hold_and_frees_its_seat(world):
    party = stored_event(world)
    held = add(world, hold(party, at(minutes=15)))
    expired = cancelled(held, 900, reason=CancelReason.HOLD_EXPIRED, status=BookingStatus.EXPIRED)
    applied = provider_event("checkout.session.expired")
    world.bookings.expire(held, expired, None, applied)
    assert world.bookings.get(held.id) == expired
    assert world.bookings.active_status(party.id, held.user_id) is None
    assert seats(world, party.id) == (0, 0)
    assert due_ids(world, "hold", when(days=1)) == []
    assert world.bookings.get_for_event(held.id, applied.id) == (expired, True)
    assert world.bookings.get_for_event(held.id, "evt_other") == (expired, False)
    assert world.bookings.get_for_event(new_id(), applied.id) == (None, True)
    assert world.bookings.get_for_event(new_id(), "evt_other") == (None, False)
    with pytest.raises(EventAlreadyApplied):  # the same event again: before anything else
        world.bookings.expire(held, expired, None, applied)


def test_expire_passes_the_seat_to_a_promotion(world):
    party = stored_event(world, capacity=1)
    held, waiting = add(world, hold(party), booking(party, WAITLISTED))
    expired = cancelled(held, reason=CancelReason.HOLD_EXPIRED, status=BookingStatus.EXPIRED)
    with pytest.raises(StaleWrite):  # someone waits for the seat
        world.bookings.expire(held, expired, None, None)
    promoted = replace(waiting, status=PENDING, payment=hold_payment(at(minutes=30)))
    world.bookings.expire(held, expired, Promotion(waiting, promoted), None)
    assert (world.bookings.get(held.id), world.bookings.get(waiting.id)) == (expired, promoted)
    assert seats(world, party.id) == (1, 0)
    assert due_ids(world, "hold", when(days=1)) == [waiting.id]


def test_expire_refuses_a_hold_that_was_paid_meanwhile(world):
    party = stored_event(world)
    held = add(world, hold(party))
    confirmed = replace(held, status=CONFIRMED, payment=paid(held))
    world.bookings.confirm(held, confirmed, None)
    expired = cancelled(held, reason=CancelReason.HOLD_EXPIRED, status=BookingStatus.EXPIRED)
    applied = provider_event("checkout.session.expired")
    with pytest.raises(StaleWrite):
        world.bookings.expire(held, expired, None, applied)
    assert unchanged(world, confirmed, party.id, (1, 0))
    assert world.bookings.get_for_event(held.id, applied.id) == (confirmed, False)  # not recorded either


def test_withdraw_deletes_the_hold_its_marker_and_its_record(world):
    party = stored_event(world)
    held = hold(party, checkout=False)
    world.bookings.add(held, now=NOW, record=record("u#w", held, expires_at=2_000, now=1_000))
    world.bookings.withdraw(held, None, "u#w")
    assert world.bookings.get(held.id) is None
    assert world.bookings.active_status(party.id, held.user_id) is None
    assert world.records.get("u#w", 1_000) is None
    assert seats(world, party.id) == (0, 0)
    assert due_ids(world, "hold", when(days=1)) == []


def test_withdraw_passes_the_seat_to_a_promotion(world):
    party = stored_event(world, capacity=1)
    held, waiting = add(world, hold(party, checkout=False), booking(party, WAITLISTED))
    with pytest.raises(StaleWrite):  # someone waits for the seat
        world.bookings.withdraw(held, None, None)
    promoted = replace(waiting, status=CONFIRMED)
    world.bookings.withdraw(held, Promotion(waiting, promoted), None)
    assert (world.bookings.get(held.id), world.bookings.get(waiting.id)) == (None, promoted)
    assert world.bookings.active_status(party.id, waiting.user_id) is CONFIRMED
    assert seats(world, party.id) == (1, 0)


def test_withdraw_refuses_a_booking_no_longer_pending(world):
    party = stored_event(world)
    made = add(world, booking(party))
    with pytest.raises(StaleWrite):
        world.bookings.withdraw(made, None, None)
    held = add(world, hold(party))
    world.bookings.confirm(held, replace(held, status=CONFIRMED, payment=paid(held)), None)
    with pytest.raises(StaleWrite):
        world.bookings.withdraw(held, None, None)
    assert seats(world, party.id) == (2, 0)
    assert world.bookings.get(made.id) == made


def test_attach_checkout_only_to_a_booking_still_pending(world):
    party = stored_event(world)
    held = add(world, hold(party, checkout=False))
    payment = hold_payment(held.payment.hold_expires_at, checkout="cs_new")
    world.bookings.attach_checkout(held, payment)
    attached = replace(held, payment=payment)
    assert world.bookings.get(held.id) == attached
    world.bookings.cancel(attached, cancelled(attached), None, None)
    with pytest.raises(StaleWrite):
        world.bookings.attach_checkout(held, hold_payment(held.payment.hold_expires_at, checkout="cs_late"))
    with pytest.raises(StaleWrite):
        world.bookings.attach_checkout(hold(party), payment)  # never stored
    assert world.bookings.get(held.id).payment.checkout_session == "cs_new"


def test_attach_checkout_writes_only_the_checkout(world):
    party = stored_event(world)
    held = add(world, hold(party, checkout=False))
    # Another amount was paid meanwhile (the hold runs on, its refund owed): that stays recorded.
    owed = replace(held, payment=replace(paid(held, amount=999), refund_status=RefundStatus.PENDING))
    world.bookings.owe_refund(held, owed, None)
    checkout = hold_payment(held.payment.hold_expires_at, checkout="cs_new")
    world.bookings.attach_checkout(held, checkout)
    expected = replace(
        owed.payment,
        checkout_session="cs_new",
        checkout_url=checkout.checkout_url,
        session_expires_at=checkout.session_expires_at,
    )
    assert world.bookings.get(held.id) == replace(owed, payment=expected)


def test_confirm_keeps_the_seat_and_records_the_payment_once(world):
    party = stored_event(world)
    held = add(world, hold(party))
    confirmed = replace(held, status=CONFIRMED, payment=paid(held))
    applied = provider_event()
    world.bookings.confirm(held, confirmed, applied)
    assert world.bookings.get(held.id) == confirmed
    assert world.bookings.active_status(party.id, held.user_id) is CONFIRMED
    assert seats(world, party.id) == (1, 0)
    assert due_ids(world, "hold", when(days=1)) == []
    with pytest.raises(EventAlreadyApplied):
        world.bookings.confirm(held, confirmed, applied)
    with pytest.raises(StaleWrite):
        world.bookings.confirm(held, confirmed, provider_event())


def test_confirm_refuses_an_expired_hold(world):
    party = stored_event(world)
    held = add(world, hold(party))
    expired = cancelled(held, reason=CancelReason.HOLD_EXPIRED, status=BookingStatus.EXPIRED)
    world.bookings.expire(held, expired, None, None)
    with pytest.raises(StaleWrite):
        world.bookings.confirm(held, replace(held, status=CONFIRMED, payment=paid(held)), None)
    assert unchanged(world, expired, party.id, (0, 0))


# refunds


def test_a_refund_owed_on_a_running_hold_waits_for_the_holds_end(world):
    party = stored_event(world)
    held = add(world, hold(party, at(minutes=15)))
    # Another amount was paid: the money is owed back, the hold keeps its seat until it ends.
    owed = replace(held, payment=replace(paid(held, amount=999), refund_status=RefundStatus.PENDING))
    world.bookings.owe_refund(held, owed, None)
    assert world.bookings.get(held.id) == owed
    assert due_ids(world, "refund", when(days=1)) == []
    assert due_ids(world, "hold", when(minutes=14)) == []
    assert due_ids(world, "hold", when(minutes=16)) == [held.id]
    with pytest.raises(StaleWrite):
        world.bookings.postpone_refund(owed, when(minutes=5))
    # The hold ends: its refund is due from then on.
    expired = cancelled(owed, 900, reason=CancelReason.HOLD_EXPIRED, status=BookingStatus.EXPIRED)
    world.bookings.expire(owed, expired, None, None)
    assert due_ids(world, "hold", when(days=1)) == []
    assert due_ids(world, "refund", when(900)) == []
    assert due_ids(world, "refund", when(901)) == [held.id]


def test_a_cancelled_hold_that_was_paid_another_amount_owes_only_its_refund(world):
    party = stored_event(world)
    held = add(world, hold(party))
    owed = replace(held, payment=replace(paid(held, amount=999), refund_status=RefundStatus.PENDING))
    world.bookings.owe_refund(held, owed, None)
    ended = cancelled(owed, 60)
    world.bookings.cancel(owed, ended, None, None)
    assert world.bookings.get(held.id) == ended
    assert due_ids(world, "hold", when(days=1)) == []  # its checkout is done with: it was paid
    assert due_ids(world, "refund", when(61)) == [held.id]


def test_owe_refund_once_and_counted_on_a_cancelled_events_settlement(world):
    party = stored_event(world, price=paid_event().price)
    held = add(world, hold(party))
    world.events.save(world.events.get(party.id), settling(world.events.get(party.id)))
    ended = cancelled(held, reason=CancelReason.EVENT_CANCELLED)
    world.bookings.cancel(held, ended, None, None)  # no payment yet: no refund
    assert world.events.get(party.id).settlement.refunds_pending == 0
    owed = replace(ended, payment=replace(paid(ended), refund_status=RefundStatus.PENDING))
    applied = provider_event()
    world.bookings.owe_refund(ended, owed, applied)
    assert world.events.get(party.id).settlement.refunds_pending == 1
    with pytest.raises(EventAlreadyApplied):
        world.bookings.owe_refund(ended, owed, applied)
    with pytest.raises(StaleWrite):
        world.bookings.owe_refund(ended, owed, provider_event())
    assert world.events.get(party.id).settlement.refunds_pending == 1
    assert world.bookings.get(held.id) == owed


def test_a_late_payment_at_a_deleted_event_owes_its_refund_all_the_same(world):
    party = stored_event(world, price=paid_event().price)
    held = add(world, hold(party))
    world.events.save(world.events.get(party.id), settling(world.events.get(party.id)))
    ended = cancelled(held, reason=CancelReason.EVENT_CANCELLED)
    world.bookings.cancel(held, ended, None, None)
    world.events.finish_settlement(party, at(60))
    world.events.delete(world.events.get(party.id))
    owed = replace(ended, payment=replace(paid(ended), refund_status=RefundStatus.PENDING))
    applied = provider_event()
    world.bookings.owe_refund(ended, owed, applied)  # nothing to count it on any more
    assert world.bookings.get(held.id) == owed
    assert world.events.get(party.id) is None
    assert due_ids(world, "refund", when(1)) == [held.id]
    done = with_refund(owed, RefundStatus.SUCCEEDED, "re_1")
    world.bookings.settle_refund(owed, done)
    assert (world.bookings.get(held.id), world.events.get(party.id)) == (done, None)


def test_owe_refund_refuses_a_booking_whose_status_changed(world):
    party = stored_event(world)
    held = add(world, hold(party))
    ended = cancelled(held)
    world.bookings.cancel(held, ended, None, None)
    owed = replace(held, payment=replace(paid(held), refund_status=RefundStatus.PENDING))
    with pytest.raises(StaleWrite):  # read while still pending
        world.bookings.owe_refund(held, owed, None)
    assert world.bookings.get(held.id) == ended


def test_grant_refund_only_of_money_kept(world):
    party = stored_event(world, price=paid_event().price)
    made = add(world, confirmed_paid(party))
    kept = cancelled(made, 10, refund=RefundStatus.NOT_REFUNDABLE)
    world.bookings.cancel(made, kept, None, None)
    assert due_ids(world, "refund", when(days=1)) == []
    owed = with_refund(kept, RefundStatus.PENDING)
    entry = audit_entry(made.id)
    world.bookings.grant_refund(kept, owed, entry)
    assert world.bookings.get(made.id) == owed
    assert due_ids(world, "refund", when(11)) == [made.id]
    assert world.audit.list(actor=None, object_id=made.id, limit=5, start=None).items == [entry]
    with pytest.raises(StaleWrite):
        world.bookings.grant_refund(kept, owed, audit_entry(made.id))
    assert world.audit.list(actor=None, object_id=made.id, limit=5, start=None).items == [entry]


def test_settle_refund_only_while_pending(world):
    party = stored_event(world, price=paid_event().price)
    made = add(world, confirmed_paid(party))
    owed = cancelled(made, refund=RefundStatus.PENDING)
    world.bookings.cancel(made, owed, None, None)
    done = with_refund(owed, RefundStatus.SUCCEEDED, "re_1")
    world.bookings.settle_refund(owed, done)
    assert world.bookings.get(made.id) == done
    assert due_ids(world, "refund", when(days=1)) == []
    with pytest.raises(StaleWrite):
        world.bookings.settle_refund(owed, with_refund(owed, RefundStatus.FAILED))
    with pytest.raises(StaleWrite):
        world.bookings.postpone_refund(owed, when(minutes=5))
    assert world.bookings.get(made.id) == done


@pytest.mark.parametrize("outcome", [RefundStatus.SUCCEEDED, RefundStatus.FAILED])
def test_settle_refund_moves_the_settlements_counters(world, outcome):
    party = stored_event(world, price=paid_event().price)
    made = add(world, confirmed_paid(party))
    world.events.save(world.events.get(party.id), settling(world.events.get(party.id)))
    owed = cancelled(made, reason=CancelReason.EVENT_CANCELLED, refund=RefundStatus.PENDING)
    world.bookings.cancel(made, owed, None, None)
    world.bookings.settle_refund(owed, with_refund(owed, outcome))
    settlement = world.events.get(party.id).settlement
    counts = (settlement.refunds_pending, settlement.refunds_succeeded, settlement.refunds_failed)
    assert counts == ((0, 1, 0) if outcome is RefundStatus.SUCCEEDED else (0, 0, 1))


def test_postpone_refund_moves_its_turn(world):
    party = stored_event(world, price=paid_event().price)
    made = add(world, confirmed_paid(party))
    owed = cancelled(made, refund=RefundStatus.PENDING)
    world.bookings.cancel(made, owed, None, None)
    assert due_ids(world, "refund", when(1)) == [made.id]
    world.bookings.postpone_refund(owed, when(minutes=10))
    assert due_ids(world, "refund", when(minutes=9)) == []
    assert due_ids(world, "refund", when(minutes=10, seconds=1)) == [made.id]
    assert world.bookings.get(made.id) == owed


# due


def test_due_lists_each_kind_earliest_first_up_to_the_limit(world):
    party = stored_event(world, capacity=10, price=paid_event().price)
    holds = [add(world, hold(party, at(minutes=m))) for m in (30, 10, 20)]
    refunds = []
    for seconds in (300, 100, 200):
        made = add(world, confirmed_paid(party))
        owed = cancelled(made, seconds, refund=RefundStatus.PENDING)
        world.bookings.cancel(made, owed, None, None)
        refunds.append(owed)
    add(world, booking(party))  # nothing due on a free confirmed booking
    assert due_ids(world, "hold", when(minutes=25)) == [holds[1].id, holds[2].id]
    assert due_ids(world, "hold", when(minutes=31), limit=2) == [holds[1].id, holds[2].id]
    assert due_ids(world, "hold", when(minutes=31)) == [holds[1].id, holds[2].id, holds[0].id]
    assert due_ids(world, "hold", when(minutes=10)) == []
    assert due_ids(world, "refund", when(250)) == [refunds[1].id, refunds[2].id]
    assert due_ids(world, "refund", when(days=1), limit=1) == [refunds[1].id]
    assert [b.payment.refund_status for b in world.bookings.due("refund", when(days=1), 5)] == [
        RefundStatus.PENDING
    ] * 3


def test_due_orders_bookings_due_at_the_same_time_by_id(world):
    party = stored_event(world, capacity=5)
    holds = [add(world, hold(party, at(minutes=10))) for _ in range(3)]
    assert due_ids(world, "hold", when(minutes=11)) == sorted(h.id for h in holds)


# lists


def test_list_by_event_newest_first_in_pages(world):
    party, other = stored_event(world, capacity=None), stored_event(world)
    made = [add(world, booking(party, created_at=at(minutes=m))) for m in (3, 1, 5, 2, 4)]
    ended = made[0]
    world.bookings.cancel(ended, cancelled(ended), None, None)  # ended bookings stay listed
    add(world, booking(other))
    newest_first = [b.id for b in sorted(made, key=lambda b: b.created_at, reverse=True)]
    read = lambda **kw: world.bookings.list_by_event(party.id, parts=1, **kw)  # noqa: E731
    assert every_page(read, 2) == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    assert every_page(read, 5) == [newest_first]
    assert every_page(read, 10) == [newest_first]
    assert read(limit=3, start=None).items[1] == world.bookings.get(newest_first[1])


def _spread(world, party, count):
    """`count` bookings a minute apart over the event's seat counters (DynamoDB's store spreads them at random)."""
    made = [booking(party, created_at=at(minutes=m)) for m in range(count)]
    return [world.bookings.add(b, now=NOW, record=None, shards=party.seat_shards) for b in made]


def test_list_by_event_merges_every_part_newest_first_in_full_pages(world):
    party = stored_event(world, capacity=30, seat_shards=4)
    made = _spread(world, party, 11)
    assert world.events.get(party.id).booking_parts == 4
    newest_first = [b.id for b in reversed(made)]
    read = lambda **kw: world.bookings.list_by_event(party.id, parts=4, **kw)  # noqa: E731
    assert every_page(read, 3) == [newest_first[:3], newest_first[3:6], newest_first[6:9], newest_first[9:]]
    assert every_page(read, 11) == [newest_first]
    assert every_page(read, 1) == [[i] for i in newest_first]


def test_list_by_event_part_reads_each_booking_once_whatever_the_page(world):
    party = stored_event(world, capacity=30, seat_shards=4)
    made = _spread(world, party, 11)
    world.bookings.cancel(made[0], cancelled(made[0]), None, None)  # ended bookings stay listed
    add(world, booking(stored_event(world)))
    for limit in (1, 3, 11, 25):
        pages = every_page(lambda **kw: world.bookings.list_by_event_part(party.id, parts=4, **kw), limit)
        read = [i for page in pages for i in page]
        assert sorted(read) == sorted(b.id for b in made), limit
        assert all(len(page) == limit for page in pages[:-1]) and len(pages[-1]) <= limit
    first = world.bookings.list_by_event_part(party.id, parts=4, limit=3, start=None)
    assert first.items[0] == world.bookings.get(first.items[0].id)
    # Part after part, newest first within each.
    [whole] = every_page(lambda **kw: world.bookings.list_by_event_part(party.id, parts=4, **kw), 25)
    by_id = {b.id: b for b in made}
    assert whole == [b.id for b in sorted(made, key=lambda b: (by_id[b.id].seat or 0, -b.created_at.timestamp()))]


def test_an_event_of_one_part_is_read_part_by_part_as_its_attendee_list(world):
    party = stored_event(world, capacity=None)
    for m in (3, 1, 5, 2, 4):
        add(world, booking(party, created_at=at(minutes=m)))
    listed = every_page(lambda **kw: world.bookings.list_by_event(party.id, parts=1, **kw), 2)
    assert every_page(lambda **kw: world.bookings.list_by_event_part(party.id, parts=1, **kw), 2) == listed


def test_no_booking_is_missed_once_the_seat_counters_went_down_and_up_again(world):
    party = stored_event(world, capacity=30, seat_shards=4)
    early = _spread(world, party, 8)
    for made in early:
        world.bookings.cancel(made, cancelled(made), None, None)
    stored = world.events.get(party.id)
    world.events.save(stored, replace(stored.with_changes(seat_shards=1), updated_at=at(60)))
    stored = world.events.get(party.id)
    assert (stored.seat_shards, stored.booking_parts) == (1, 4)
    middle = _spread(world, stored, 2)
    world.events.save(stored, replace(stored.with_changes(seat_shards=2), updated_at=at(61)))
    stored = world.events.get(party.id)
    late = _spread(world, stored, 3)
    everyone = {b.id for b in [*early, *middle, *late]}
    parts = stored.booking_parts
    newest = every_page(lambda **kw: world.bookings.list_by_event(party.id, parts=parts, **kw), 2)
    assert sorted(i for page in newest for i in page) == sorted(everyone)
    each = every_page(lambda **kw: world.bookings.list_by_event_part(party.id, parts=parts, **kw), 2)
    assert sorted(i for page in each for i in page) == sorted(everyone)


def test_list_by_user_newest_first_in_pages_ties_broken_by_id(world):
    me = new_id()
    made = [add(world, booking(stored_event(world), user_id=me, created_at=at(minutes=m))) for m in (1, 2, 2, 3)]
    add(world, booking(stored_event(world)))
    order = [b.id for b in sorted(made, key=lambda b: (b.created_at, b.id), reverse=True)]
    read = lambda **kw: world.bookings.list_by_user(me, **kw)  # noqa: E731
    assert every_page(read, 3) == [order[:3], order[3:]]
    assert every_page(read, 1) == [[i] for i in order]
    assert world.bookings.list_by_user(new_id(), limit=5, start=None) == ([], None)


def test_oldest_waitlisted_is_the_first_to_wait(world):
    party = stored_event(world, capacity=1)
    add(world, booking(party))
    assert world.bookings.oldest_waitlisted(party.id) is None
    late, early = booking(party, WAITLISTED, created_at=at(2)), booking(party, WAITLISTED, created_at=at(1))
    add(world, late, early)
    assert world.bookings.oldest_waitlisted(party.id) == early
    world.bookings.cancel(early, cancelled(early), None, None)
    assert world.bookings.oldest_waitlisted(party.id) == late


def test_a_page_continues_after_its_last_booking_even_once_that_was_deleted(world):
    party = stored_event(world, capacity=None)
    made = [add(world, hold(party, checkout=False, created_at=at(minutes=m))) for m in range(5)]
    order = [b.id for b in reversed(made)]
    first = world.bookings.list_by_event(party.id, parts=1, limit=2, start=None)
    assert [b.id for b in first.items] == order[:2]
    world.bookings.withdraw(made[3], None, None)  # the last one shown
    rest = world.bookings.list_by_event(party.id, parts=1, limit=5, start=first.next_key)
    assert ([b.id for b in rest.items], rest.next_key) == (order[2:], None)
