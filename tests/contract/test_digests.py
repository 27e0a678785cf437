"""The digest book (ports.DigestBook, on the uniques table): a booking counted once however often its change is
recorded, per day, creator and event; an event too busy for its item counted beside it; the day's mark; on the
fake and on DynamoDB alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from chalicelib.ports.digests import BOOKED, CANCELLED, Tally
from tests.contract.conftest import IMPLEMENTATIONS, _empty_tables
from tests.support.fakes import FakeDigestBook

DAY = date(2026, 1, 2)
NEXT = date(2026, 1, 3)
# More ids of 26 characters than one item holds (400 KB on DynamoDB, 405,000 bytes on moto).
FULL = 15_600


@pytest.fixture(params=IMPLEMENTATIONS)
def book(request):
    if request.param == "fake":
        return FakeDigestBook(capacity=FULL)
    request.getfixturevalue("moto_tables")
    _empty_tables()
    from chalicelib.persistence.digests import DynamoDigestBook

    return DynamoDigestBook()


def test_a_booking_is_counted_once_however_often_it_is_recorded(book):
    book.record(DAY, "01CREATOR", "01EVENT", BOOKED, "01BOOKING1")
    book.record(DAY, "01CREATOR", "01EVENT", BOOKED, "01BOOKING1")
    book.record(DAY, "01CREATOR", "01EVENT", BOOKED, "01BOOKING2")
    book.record(DAY, "01CREATOR", "01EVENT", CANCELLED, "01BOOKING1")
    book.record(DAY, "01CREATOR", "01EVENT", CANCELLED, "01BOOKING1")
    assert book.lines(DAY, "01CREATOR") == [Tally("01EVENT", 2, 1)]


def test_lines_are_per_day_creator_and_event_in_event_order(book):
    book.record(DAY, "01CREATOR", "01EVENTB", CANCELLED, "01BOOKING1")
    book.record(DAY, "01CREATOR", "01EVENTA", BOOKED, "01BOOKING2")
    book.record(DAY, "01OTHER", "01EVENTC", BOOKED, "01BOOKING3")
    book.record(NEXT, "01CREATOR", "01EVENTA", BOOKED, "01BOOKING4")
    assert book.lines(DAY, "01CREATOR") == [Tally("01EVENTA", 1, 0), Tally("01EVENTB", 0, 1)]
    assert book.lines(DAY, "01OTHER") == [Tally("01EVENTC", 1, 0)]
    assert book.lines(NEXT, "01CREATOR") == [Tally("01EVENTA", 1, 0)]
    assert book.lines(DAY, "01NOBODY") == []


def test_creators_are_the_days_each_once_in_order(book):
    creators = [f"01CREATOR{n:02d}" for n in range(40)]  # across every shard
    for n, creator in enumerate(reversed(creators)):
        book.record(DAY, creator, "01EVENT", BOOKED, f"01BOOKING{n}")
        book.record(DAY, creator, "01EVENT2", BOOKED, f"01BOOKING{n}")
    book.record(NEXT, "01LATER", "01EVENT", BOOKED, "01BOOKINGX")
    assert list(book.creators(DAY)) == creators
    assert list(book.creators(NEXT)) == ["01LATER"]
    assert list(book.creators(date(2026, 1, 4))) == []


def test_a_day_is_done_once_marked(book):
    assert book.done(DAY) is False
    book.mark_done(DAY)
    book.mark_done(DAY)
    assert (book.done(DAY), book.done(NEXT)) == (True, False)


def test_neither_booked_nor_cancelled_is_refused(book):
    with pytest.raises(ValueError, match="neither booked nor cancelled"):
        book.record(DAY, "01CREATOR", "01EVENT", "waitlisted", "01BOOKING1")
    assert book.lines(DAY, "01CREATOR") == []


def _fill(book, creator: str, event_id: str) -> None:
    """The event's item as FULL bookings of a day would leave it."""
    ids = {f"{n:026d}" for n in range(FULL)}
    if isinstance(book, FakeDigestBook):
        book.ids[(DAY, creator, event_id)][BOOKED] |= ids
        return
    from chalicelib.persistence.digests import event_key
    from chalicelib.persistence.models.digests import DigestModel

    DigestModel(key=event_key(DAY, creator, event_id), owner=creator).update(actions=[DigestModel.booked.add(ids)])


def test_an_event_too_busy_for_its_item_is_counted_beside_it(book):
    book.record(DAY, "01CREATOR", "01EVENT", BOOKED, "01FIRST")
    _fill(book, "01CREATOR", "01EVENT")
    book.record(DAY, "01CREATOR", "01EVENT", BOOKED, "01LATE")
    book.record(DAY, "01CREATOR", "01EVENT", CANCELLED, "01GONE")
    assert book.lines(DAY, "01CREATOR") == [Tally("01EVENT", FULL + 2, 1)]
    # Only those counted beside it: the same change recorded again counts again (documented).
    book.record(DAY, "01CREATOR", "01EVENT", CANCELLED, "01GONE")
    assert book.lines(DAY, "01CREATOR") == [Tally("01EVENT", FULL + 2, 2)]
    assert list(book.creators(DAY)) == ["01CREATOR"]


def test_the_items_are_stored_beside_the_markers_and_expire_eight_days_after_their_day(book):
    if isinstance(book, FakeDigestBook):
        pytest.skip("the stored items are DynamoDB's")
    from chalicelib.persistence.digests import shard_of
    from chalicelib.persistence.models.digests import DigestModel
    from chalicelib.persistence.models.uniques import UniqueModel

    book.record(DAY, "01CREATOR", "01EVENT", BOOKED, "01BOOKING1")
    book.mark_done(DAY)
    expires = 1768003200  # 2026-01-10T00:00:00Z
    keys = {
        "DIGEST#2026-01-02#01CREATOR#01EVENT": ("01CREATOR", {"01BOOKING1"}, None, None),
        "DIGEST#2026-01-02#01CREATOR": ("01CREATOR", None, {"01EVENT"}, None),
        f"DIGESTS#2026-01-02#{shard_of('01CREATOR')}": ("-", None, None, {"01CREATOR"}),
    }
    for key, (owner, booked, events, creators) in keys.items():
        item = DigestModel.get(key, consistent_read=True)
        assert (item.owner, item.booked, item.events, item.creators, item.expires_at) == (
            owner,
            booked,
            events,
            creators,
            expires,
        )
    done = DigestModel.get("DIGESTS#2026-01-02#done", consistent_read=True)
    assert (done.status, done.expires_at) == ("done", expires)
    # The uniques table's own model reads them as markers with an owner, as its tools expect.
    assert sorted(m.owner for m in UniqueModel.scan()) == ["-", "-", "01CREATOR", "01CREATOR"]
    assert shard_of("01CREATOR") == 8  # crc32: the same in every process


def test_the_digest_model_is_bound_to_the_uniques_table_without_replacing_its_model():
    from chalicelib.bootstrap import tables
    from chalicelib.persistence.models import all_models
    from chalicelib.persistence.models.digests import DigestModel
    from chalicelib.persistence.models.uniques import UniqueModel
    from chalicelib.settings import get_settings

    tables()
    assert DigestModel.Meta.table_name == UniqueModel.Meta.table_name == get_settings().tables.uniques
    assert UniqueModel in all_models() and DigestModel not in all_models()


@pytest.mark.parametrize(
    "stamp",
    [
        1796428799,  # Lambda's event: epoch seconds
        1796428799.0,
        datetime(2026, 12, 4, 23, 59, 59, tzinfo=UTC),  # boto3 reading the Streams API
        datetime(2026, 12, 5, 0, 59, 59, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 12, 4, 23, 59, 59),  # naive: UTC
    ],
)
def test_a_stream_records_commit_time_is_read_from_either_source(stamp):
    from chalicelib.persistence.changes import BOOKINGS, change_of
    from chalicelib.ports.notices import Change

    record = {"dynamodb": {"SequenceNumber": "7", "ApproximateCreationDateTime": stamp}}
    assert change_of(record, BOOKINGS) == Change("7", None, None, datetime(2026, 12, 4, 23, 59, 59, tzinfo=UTC))
    assert change_of({"dynamodb": {"SequenceNumber": "8"}}, BOOKINGS) == Change("8", None, None, None)
