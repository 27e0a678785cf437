"""Refund counters and applied provider events at the edges mutation testing found untested: a refund that is
not the cancelled event's at an event being settled, a refund settled twice, the record of an applied event."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from chalicelib.domain.enums import BookingStatus, CancelReason, RefundStatus
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.payments import EventAlreadyApplied
from tests.contract.builders import at, cancelled, hold, paid, paid_event, settling, with_refund
from tests.contract.test_bookings import add, provider_event, stored_event

CLOCK = 1_900_000_000  # what time.time() says while an applied event is recorded


def _settling_event(world):
    """A paid event (cancelled and settling once the test says so)."""
    return stored_event(world, price=paid_event().price)


def _counters(world, event_id):
    settlement = world.events.get(event_id).settlement
    return settlement.refunds_pending, settlement.refunds_succeeded, settlement.refunds_failed


def test_a_late_payment_on_an_expired_hold_is_not_counted_on_its_events_settlement(world):
    party = _settling_event(world)
    held = add(world, hold(party, at(minutes=15)))
    expired = cancelled(held, 900, reason=CancelReason.HOLD_EXPIRED, status=BookingStatus.EXPIRED)
    world.bookings.expire(held, expired, None, None)
    world.events.save(world.events.get(party.id), settling(world.events.get(party.id)))
    owed = replace(expired, payment=replace(paid(expired), refund_status=RefundStatus.PENDING))
    world.bookings.owe_refund(expired, owed, None)
    assert world.bookings.get(held.id) == owed
    assert _counters(world, party.id) == (0, 0, 0)  # only the cancelled event's own refunds are counted


def test_a_cancelled_events_refund_settled_twice_is_refused_and_counted_once(world):
    party = _settling_event(world)
    held = add(world, hold(party))
    world.events.save(world.events.get(party.id), settling(world.events.get(party.id)))
    ended = cancelled(held, reason=CancelReason.EVENT_CANCELLED)
    world.bookings.cancel(held, ended, None, None)
    owed = replace(ended, payment=replace(paid(ended), refund_status=RefundStatus.PENDING))
    world.bookings.owe_refund(ended, owed, None)
    done = with_refund(owed, RefundStatus.SUCCEEDED, "re_1")
    world.bookings.settle_refund(owed, done)
    with pytest.raises(StaleWrite):
        world.bookings.settle_refund(owed, with_refund(owed, RefundStatus.FAILED))
    assert world.bookings.get(held.id) == done
    assert _counters(world, party.id) == (0, 1, 0)


@pytest.mark.parametrize("write", ["confirm", "expire", "owe_refund"])
def test_an_applied_event_is_recorded_for_its_booking_for_thirty_days(world, write, monkeypatch):
    from chalicelib.persistence import bookings as stored

    monkeypatch.setattr(stored, "time", SimpleNamespace(time=lambda: CLOCK))
    party = _settling_event(world)
    held = add(world, hold(party, at(minutes=15)))
    applied = provider_event()
    if write == "confirm":
        world.bookings.confirm(held, replace(held, status=BookingStatus.CONFIRMED, payment=paid(held)), applied)
    elif write == "expire":
        expired = cancelled(held, 900, reason=CancelReason.HOLD_EXPIRED, status=BookingStatus.EXPIRED)
        world.bookings.expire(held, expired, None, applied)
    else:
        owed = replace(held, payment=replace(paid(held, amount=1), refund_status=RefundStatus.PENDING))
        world.bookings.owe_refund(held, owed, applied)
    assert world.bookings.get_for_event(held.id, applied.id)[1] is True
    with pytest.raises(EventAlreadyApplied):
        world.bookings.confirm(held, held, applied)
    if world.kind == "dynamo":
        from chalicelib.persistence.models.idempotency import IdempotencyModel

        item = IdempotencyModel.get(stored.applied_event_key(applied.id))
        assert item.fingerprint == f"{applied.type}#{held.id}"
        # Kept (TTL) for as long as the provider may deliver the event again.
        assert item.expires_at == datetime.fromtimestamp(CLOCK + 30 * 86_400, tz=UTC)
