"""Suppressed addresses (ports.Suppressions, on the uniques table) and the age of the oldest owed refund
(BookingRepository.oldest_owed_refund, from the index of refunds), on the fakes and on DynamoDB alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.enums import RefundStatus
from tests.contract.builders import at, cancelled, confirmed_paid, event, paid_event, when, with_refund
from tests.contract.conftest import IMPLEMENTATIONS, _empty_tables
from tests.support.fakes import FakeSuppressions

AT = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@pytest.fixture(params=IMPLEMENTATIONS)
def suppressions(request):
    if request.param == "fake":
        return FakeSuppressions()
    request.getfixturevalue("moto_tables")
    _empty_tables()
    from chalicelib.persistence.suppressions import DynamoSuppressions

    return DynamoSuppressions()


def test_an_address_is_suppressed_once_and_the_first_reason_kept(suppressions):
    assert suppressions.is_suppressed("bob@example.com") is False
    assert suppressions.suppress("bob@example.com", "Bounce", AT) is True
    assert suppressions.suppress("bob@example.com", "Complaint", datetime(2026, 3, 1, tzinfo=UTC)) is False
    assert suppressions.is_suppressed("bob@example.com") is True
    assert suppressions.is_suppressed("carol@example.com") is False


def test_a_suppression_is_stored_beside_the_markers_under_its_own_key(suppressions):
    if isinstance(suppressions, FakeSuppressions):
        pytest.skip("the stored item is DynamoDB's")
    from chalicelib.persistence.models.uniques import UniqueModel

    suppressions.suppress("bob@example.com", "Bounce", AT)
    item = UniqueModel.get("SUPPRESSED#bob@example.com", consistent_read=True)
    assert (item.owner, item.since, item.status) == ("Bounce", "2026-01-02T03:04:05.678901Z", None)


def _owed(world, seconds):
    party = event(price=paid_event().price)
    world.events.add(party)
    made = confirmed_paid(party)
    world.bookings.add(made, now=when(), record=None)
    owed = cancelled(made, seconds, refund=RefundStatus.PENDING)
    world.bookings.cancel(made, owed, None, None)
    return owed


def test_the_oldest_owed_refund_is_the_earliest_owed_whatever_its_next_attempt(world):
    assert world.bookings.oldest_owed_refund() is None
    first, second = _owed(world, 60), _owed(world, 120)
    world.bookings.postpone_refund(first, when(days=1))  # its next attempt is after the second's
    assert world.bookings.oldest_owed_refund() == at(60)
    world.bookings.settle_refund(first, with_refund(first, RefundStatus.SUCCEEDED, "re_1"))
    assert world.bookings.oldest_owed_refund() == at(120)
    world.bookings.settle_refund(second, with_refund(second, RefundStatus.FAILED))
    assert world.bookings.oldest_owed_refund() is None


def test_a_refund_not_owed_is_not_counted(world):
    party = event(price=paid_event().price)
    world.events.add(party)
    made = confirmed_paid(party)
    world.bookings.add(made, now=when(), record=None)
    kept = cancelled(made, 30, refund=RefundStatus.NOT_REFUNDABLE)
    world.bookings.cancel(made, kept, None, None)
    assert world.bookings.oldest_owed_refund() is None
