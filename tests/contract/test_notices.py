"""The notification ledger (ports.NoticeLedger, on the uniques table): a notification is claimed by one sender at
a time, taken over only once its sender's claim has run out, and never again once sent; on the fake and on
DynamoDB alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.ports.notices import Claimed
from tests.contract.conftest import IMPLEMENTATIONS, _empty_tables
from tests.support.fakes import FakeNoticeLedger

AT = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
LEASE = timedelta(minutes=5)
KEY = "01USER#booking_confirmed#01BOOKING"


@pytest.fixture(params=IMPLEMENTATIONS)
def ledger(request):
    if request.param == "fake":
        return FakeNoticeLedger()
    request.getfixturevalue("moto_tables")
    _empty_tables()
    from chalicelib.persistence.notices import DynamoNoticeLedger

    return DynamoNoticeLedger()


TAKEN, SENT = Claimed(taken=True), Claimed(taken=False, sent=True)


def test_a_notice_is_claimed_by_one_sender_at_a_time(ledger):
    assert ledger.claim(KEY, "01USER", AT, AT + LEASE) == TAKEN
    held = Claimed(taken=False, until=AT + LEASE)
    assert ledger.claim(KEY, "01USER", AT + timedelta(seconds=1), AT + 2 * LEASE) == held
    # The same instant the claim ends is still inside it.
    assert ledger.claim(KEY, "01USER", AT + LEASE, AT + 2 * LEASE) == held
    assert ledger.claim("01USER#booking_confirmed#01OTHER", "01USER", AT, AT + LEASE) == TAKEN


def test_a_claim_whose_sender_died_is_taken_over_once_it_ran_out(ledger):
    assert ledger.claim(KEY, "01USER", AT, AT + LEASE) == TAKEN
    later = AT + LEASE + timedelta(microseconds=1)
    assert ledger.claim(KEY, "01USER", later, later + LEASE) == TAKEN
    assert ledger.claim(KEY, "01USER", later, later + LEASE) == Claimed(taken=False, until=later + LEASE)


def test_a_sent_notice_is_never_claimed_again(ledger):
    assert ledger.claim(KEY, "01USER", AT, AT + LEASE) == TAKEN
    ledger.sent(KEY, AT + timedelta(seconds=2))
    assert ledger.claim(KEY, "01USER", AT + timedelta(days=400), AT + timedelta(days=401)) == SENT
    ledger.release(KEY)  # a late release of a sent notice changes nothing
    assert ledger.claim(KEY, "01USER", AT + timedelta(days=400), AT + timedelta(days=401)) == SENT


def test_a_released_claim_is_claimed_again_at_once(ledger):
    assert ledger.claim(KEY, "01USER", AT, AT + LEASE) == TAKEN
    ledger.release(KEY)
    assert ledger.claim(KEY, "01USER", AT + timedelta(seconds=1), AT + LEASE) == TAKEN
    ledger.release("01USER#never#claimed")  # nothing to give back: no error


def test_the_ledger_is_stored_beside_the_markers_under_its_own_key(ledger):
    if isinstance(ledger, FakeNoticeLedger):
        pytest.skip("the stored item is DynamoDB's")
    from chalicelib.persistence.models.uniques import UniqueModel

    ledger.claim(KEY, "01USER", AT, AT + LEASE)
    item = UniqueModel.get(f"NOTICE#{KEY}", consistent_read=True)
    assert (item.owner, item.status, item.since) == ("01USER", "sending", "2026-01-02T03:09:05.678901Z")
    ledger.sent(KEY, AT)
    item = UniqueModel.get(f"NOTICE#{KEY}", consistent_read=True)
    assert (item.owner, item.status, item.since) == ("01USER", "sent", "2026-01-02T03:04:05.678901Z")
