from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import BookingStatus
from chalicelib.errors import Conflict, NotFound, PermissionDenied
from chalicelib.services import bookings, events
from chalicelib.services.bookings import Idempotency, fingerprint
from tests.support.factories import creator, principal
from tests.support.fakes import FakeBookings, FakeEvents, FakeRecords


@pytest.fixture
def repos():
    event_repo = FakeEvents()
    booking_repo = FakeBookings(event_repo)
    return event_repo, booking_repo, FakeRecords(booking_repo)


def _event(event_repo, **fields):
    return events.create_event(event_repo, creator(), {"title": "T", "description": "D", **fields})


def _book(repos, who, event, waitlist=False, idempotency=None):
    event_repo, booking_repo, records = repos
    return bookings.book(event_repo, booking_repo, records, who, event.id, waitlist=waitlist, idempotency=idempotency)


def test_booking_takes_a_seat(repos):
    event = _event(repos[0], capacity=2)
    outcome = _book(repos, principal(), event)
    assert outcome.booking.status is BookingStatus.CONFIRMED
    assert repos[0].get(event.id).seats_booked == 1


def test_full_event_refuses_with_event_full_or_waitlists_when_asked(repos):
    event = _event(repos[0], capacity=1)
    _book(repos, principal(), event)
    with pytest.raises(Conflict) as caught:
        _book(repos, principal(), event)
    assert caught.value.code == "event_full"
    waiting = _book(repos, principal(), event, waitlist=True).booking
    assert waiting.status is BookingStatus.WAITLISTED
    assert (repos[0].get(event.id).seats_booked, repos[0].get(event.id).waitlisted) == (1, 1)


def test_waitlist_request_gets_a_seat_when_one_is_free(repos):
    event = _event(repos[0], capacity=5)
    assert _book(repos, principal(), event, waitlist=True).booking.status is BookingStatus.CONFIRMED


def test_user_cannot_book_twice(repos):
    event, who = _event(repos[0]), principal()
    _book(repos, who, event)
    with pytest.raises(Conflict) as caught:
        _book(repos, who, event)
    assert caught.value.code == "already_booked"


def test_creator_cannot_book_their_own_event(repos):
    owner = creator()
    event = events.create_event(repos[0], owner, {"title": "T", "description": "D"})
    with pytest.raises(PermissionDenied):
        _book(repos, owner, event)


def test_draft_is_404_and_cancelled_or_started_events_are_not_bookable(repos):
    draft = _event(repos[0], status="draft")
    with pytest.raises(NotFound):
        _book(repos, principal(), draft)
    past = _event(repos[0], starts_at=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(Conflict) as caught:
        _book(repos, principal(), past)
    assert caught.value.code == "event_not_bookable"
    cancelled = _event(repos[0])
    events.update_event(repos[0], principal(staff=True), cancelled.id, {"status": "cancelled"})
    with pytest.raises(Conflict):
        _book(repos, principal(), cancelled)


def test_cancelling_a_confirmed_booking_promotes_the_oldest_waitlisted(repos):
    event_repo, booking_repo, records = repos
    event = _event(event_repo, capacity=1)
    holder = principal()
    seat = _book(repos, holder, event).booking
    first = _book(repos, principal(), event, waitlist=True).booking
    second = _book(repos, principal(), event, waitlist=True).booking
    bookings.cancel(booking_repo, records, holder, seat.id)
    assert booking_repo.get(first.id).status is BookingStatus.CONFIRMED
    assert booking_repo.get(second.id).status is BookingStatus.WAITLISTED
    assert (event_repo.get(event.id).seats_booked, event_repo.get(event.id).waitlisted) == (1, 1)


def test_cancelling_twice_is_harmless(repos):
    event_repo, booking_repo, records = repos
    event, who = _event(event_repo, capacity=3), principal()
    seat = _book(repos, who, event).booking
    bookings.cancel(booking_repo, records, who, seat.id)
    again = bookings.cancel(booking_repo, records, who, seat.id)
    assert again.booking.status is BookingStatus.CANCELLED
    assert event_repo.get(event.id).seats_booked == 0


def test_strangers_cannot_see_or_cancel_a_booking_but_the_event_creator_and_staff_can(repos):
    event_repo, booking_repo, records = repos
    owner = creator()
    event = events.create_event(event_repo, owner, {"title": "T", "description": "D"})
    seat = _book(repos, principal(), event).booking
    with pytest.raises(NotFound):
        bookings.cancel(booking_repo, records, principal(), seat.id)
    assert bookings.cancel(booking_repo, records, owner, seat.id).booking.status is BookingStatus.CANCELLED
    other = _book(repos, principal(), event).booking
    assert (
        bookings.cancel(booking_repo, records, principal(staff=True), other.id).booking.status
        is BookingStatus.CANCELLED
    )


def _idempotency(who, key, body):
    return Idempotency(
        key=f"{who.user_id}#{key}",
        fingerprint=fingerprint(who.user_id, "POST", "/x", body),
        render=lambda b: {"id": b.id},
        status=201,
    )


def test_retry_with_the_same_idempotency_key_replays_the_first_response_and_books_nothing_new(repos):
    event, who = _event(repos[0], capacity=5), principal()
    first = _book(repos, who, event, idempotency=_idempotency(who, "k1", {}))
    retry = _book(repos, who, event, idempotency=_idempotency(who, "k1", {}))
    assert retry.replay is not None and f'"{first.booking.id}"' in retry.replay.body
    assert repos[0].get(event.id).seats_booked == 1


def test_same_idempotency_key_with_another_body_is_409(repos):
    event, who = _event(repos[0], capacity=5), principal()
    _book(repos, who, event, idempotency=_idempotency(who, "k1", {}))
    with pytest.raises(Conflict) as caught:
        _book(repos, who, event, waitlist=True, idempotency=_idempotency(who, "k1", {"waitlist": True}))
    assert caught.value.code == "idempotency_key_reused"


def test_deleting_an_event_with_waitlisted_bookings_is_refused(repos):
    event_repo = repos[0]
    owner = creator()
    event = events.create_event(event_repo, owner, {"title": "T", "description": "D", "capacity": 1})
    _book(repos, principal(), event)
    with pytest.raises(Conflict) as caught:
        events.delete_event(event_repo, owner, event.id)
    assert caught.value.code == "event_has_bookings"


def test_cancelling_never_frees_a_seat_while_someone_waits_even_if_the_waitlist_read_missed_them(repos):
    event_repo, booking_repo, records = repos
    event = _event(event_repo, capacity=1)
    holder = principal()
    seat = _book(repos, holder, event).booking
    waiting = _book(repos, principal(), event, waitlist=True).booking
    real = booking_repo.oldest_waitlisted
    lagging_reads = [None]  # the first waitlist read misses the waiting booking, as a GSI may

    def oldest_waitlisted(event_id):
        return lagging_reads.pop() if lagging_reads else real(event_id)

    booking_repo.oldest_waitlisted = oldest_waitlisted
    bookings.cancel(booking_repo, records, holder, seat.id)
    assert booking_repo.get(waiting.id).status is BookingStatus.CONFIRMED
    assert event_repo.get(event.id).seats_booked == 1
