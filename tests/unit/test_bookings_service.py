from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.enums import BookingStatus
from chalicelib.errors import Busy, Conflict, NotFound, PermissionDenied
from chalicelib.ports.payments import ProviderEvent
from chalicelib.services import bookings, events, settlement
from chalicelib.services.bookings import IdempotentRequest, fingerprint
from chalicelib.services.payments import PaymentTerms
from chalicelib.services.settlement import COMPLETED
from chalicelib.services.uploads import Media
from tests.support.factories import creator, principal
from tests.support.fakes import FakeBookings, FakeEvents, FakeObjectStore, FakePayments, FakeRecords, fail_first

MEDIA = Media(FakeEvents().uploads, FakeObjectStore())  # for events without images


@pytest.fixture
def repos():
    event_repo = FakeEvents()
    booking_repo = FakeBookings(event_repo)
    return event_repo, booking_repo, FakeRecords(booking_repo)


def _event(event_repo, owner=None, **fields):
    return events.create_event(event_repo, owner or creator(), {"title": "T", "description": "D", **fields})


def _book(repos, who, event, waitlist=False, key=None, body=None):
    event_repo, booking_repo, records = repos
    request = IdempotentRequest(key, body if body is not None else {"waitlist": waitlist}) if key else None
    return bookings.book(event_repo, booking_repo, records, who, event.id, waitlist=waitlist, request=request)


def _cancel(repos, who, booking_id, key=None, body=None):
    event_repo, booking_repo, records = repos
    request = IdempotentRequest(key, body or {}) if key else None
    return bookings.cancel(booking_repo, event_repo, records, who, booking_id, request=request)


def _conflict(call, *args, **kwargs) -> str:
    with pytest.raises(Conflict) as caught:
        call(*args, **kwargs)
    return caught.value.code


def test_booking_takes_a_seat_and_answers_with_its_event(repos):
    event = _event(repos[0], capacity=2)
    result = _book(repos, principal(), event)
    assert result.booking.status is BookingStatus.CONFIRMED
    assert (result.event.id, result.replayed) == (event.id, False)
    assert repos[0].get(event.id).seats_booked == 1


def test_full_event_refuses_with_event_full_or_waitlists_when_asked(repos):
    event = _event(repos[0], capacity=1)
    _book(repos, principal(), event)
    assert _conflict(_book, repos, principal(), event) == "event_full"
    waiting = _book(repos, principal(), event, waitlist=True).booking
    assert waiting.status is BookingStatus.WAITLISTED
    assert (repos[0].get(event.id).seats_booked, repos[0].get(event.id).waitlisted) == (1, 1)


def test_waitlist_request_gets_a_seat_when_one_is_free(repos):
    event = _event(repos[0], capacity=5)
    assert _book(repos, principal(), event, waitlist=True).booking.status is BookingStatus.CONFIRMED


def test_user_cannot_book_twice(repos):
    event, who = _event(repos[0]), principal()
    _book(repos, who, event)
    assert _conflict(_book, repos, who, event) == "already_booked"


@pytest.mark.parametrize("waitlist", [False, True])
def test_user_holding_a_place_at_a_full_event_hears_already_booked_not_event_full(repos, waitlist):
    event, who = _event(repos[0], capacity=1), principal()
    _book(repos, who, event)
    assert _conflict(_book, repos, who, event, waitlist=waitlist) == "already_booked"


def test_creator_cannot_book_their_own_event(repos):
    owner = creator()
    event = _event(repos[0], owner)
    with pytest.raises(PermissionDenied) as caught:
        _book(repos, owner, event)
    assert caught.value.detail == "You cannot book your own event."


def test_draft_is_404_and_cancelled_or_started_events_are_not_bookable(repos):
    draft = _event(repos[0], status="draft")
    with pytest.raises(NotFound):
        _book(repos, principal(), draft)
    past = _event(repos[0], starts_at=datetime.now(UTC) - timedelta(hours=1))
    assert _conflict(_book, repos, principal(), past) == "event_not_bookable"
    cancelled = _event(repos[0])
    media = Media(repos[0].uploads, FakeObjectStore())
    events.update_event(repos[0], principal(staff=True), cancelled.id, {"status": "cancelled"}, media=media)
    assert _conflict(_book, repos, principal(), cancelled) == "event_not_bookable"


def test_cancelling_a_confirmed_booking_promotes_the_oldest_waitlisted(repos):
    event_repo, booking_repo, _ = repos
    event = _event(event_repo, capacity=1)
    holder = principal()
    seat = _book(repos, holder, event).booking
    first = _book(repos, principal(), event, waitlist=True).booking
    second = _book(repos, principal(), event, waitlist=True).booking
    _cancel(repos, holder, seat.id)
    assert booking_repo.get(first.id).status is BookingStatus.CONFIRMED
    assert booking_repo.get(second.id).status is BookingStatus.WAITLISTED
    assert (event_repo.get(event.id).seats_booked, event_repo.get(event.id).waitlisted) == (1, 1)


def test_cancelling_a_waitlisted_booking_gives_up_the_place_only(repos):
    event_repo, booking_repo, _ = repos
    event = _event(event_repo, capacity=1)
    _book(repos, principal(), event)
    waiter = principal()
    waiting = _book(repos, waiter, event, waitlist=True).booking
    assert _cancel(repos, waiter, waiting.id).booking.status is BookingStatus.CANCELLED
    assert (event_repo.get(event.id).seats_booked, event_repo.get(event.id).waitlisted) == (1, 0)


def test_cancelling_twice_is_harmless(repos):
    event_repo, _, _ = repos
    event, who = _event(event_repo, capacity=3), principal()
    seat = _book(repos, who, event).booking
    first = _cancel(repos, who, seat.id)
    again = _cancel(repos, who, seat.id)
    assert (again.booking, again.replayed) == (first.booking, False)
    assert event_repo.get(event.id).seats_booked == 0


def test_owner_event_creator_and_staff_cancel_a_booking_and_nobody_else_learns_it_exists(repos):
    owner = creator()
    event = _event(repos[0], owner)
    rival_event = _event(repos[0])
    seat = _book(repos, principal(), event).booking
    rival = creator(user_id=rival_event.creator)  # a creator, but of another event
    for stranger in (principal(), rival):
        with pytest.raises(NotFound):
            _cancel(repos, stranger, seat.id)
    assert _cancel(repos, owner, seat.id).booking.status is BookingStatus.CANCELLED
    other = _book(repos, principal(), event).booking
    assert _cancel(repos, principal(staff=True), other.id).booking.status is BookingStatus.CANCELLED


def test_retry_with_the_same_idempotency_key_replays_the_first_result_and_books_nothing_new(repos):
    event, who = _event(repos[0], capacity=5), principal()
    first = _book(repos, who, event, key="k1")
    retry = _book(repos, who, event, key="k1")
    assert (retry.booking, retry.event, retry.replayed) == (first.booking, first.event, True)
    assert repos[0].get(event.id).seats_booked == 1


def test_retry_of_the_request_that_took_the_last_seat_replays_it(repos):
    event, who = _event(repos[0], capacity=1), principal()
    first = _book(repos, who, event, key="last-seat")
    retry = _book(repos, who, event, key="last-seat")
    assert (retry.booking, retry.replayed) == (first.booking, True)
    assert repos[0].get(event.id).seats_booked == 1


def test_retry_after_the_event_started_or_was_cancelled_replays_the_booking(repos):
    event, who = _event(repos[0], capacity=3), principal()
    first = _book(repos, who, event, key="k")
    repos[0].by_id[event.id] = replace(repos[0].by_id[event.id], starts_at=datetime.now(UTC) - timedelta(minutes=1))
    assert _book(repos, who, event, key="k").booking == first.booking


def test_same_idempotency_key_with_another_body_is_409(repos):
    event, who = _event(repos[0], capacity=5), principal()
    _book(repos, who, event, key="k1")
    assert _conflict(_book, repos, who, event, waitlist=True, key="k1") == "idempotency_key_reused"


def test_same_idempotency_key_for_another_event_is_409_and_books_nothing_there(repos):
    first_event, other_event, who = _event(repos[0]), _event(repos[0]), principal()
    _book(repos, who, first_event, key="k1")
    assert _conflict(_book, repos, who, other_event, key="k1") == "idempotency_key_reused"
    assert repos[1].active_status(other_event.id, who.user_id) is None
    assert repos[0].get(other_event.id).seats_booked == 0


def test_same_idempotency_key_for_another_booking_is_409_and_cancels_nothing(repos):
    event, who = _event(repos[0]), principal()
    x = _book(repos, who, event).booking
    y = _book(repos, who, _event(repos[0])).booking
    _cancel(repos, who, x.id, key="c1")
    assert _conflict(_cancel, repos, who, y.id, key="c1") == "idempotency_key_reused"
    assert repos[1].get(y.id).status is BookingStatus.CONFIRMED


def test_cancel_retried_with_its_key_replays_the_first_result(repos):
    event, who = _event(repos[0]), principal()
    seat = _book(repos, who, event).booking
    first = _cancel(repos, who, seat.id, key="c1")
    retry = _cancel(repos, who, seat.id, key="c1")
    assert (retry.booking, retry.replayed) == (first.booking, True)


def test_cancel_with_a_new_key_of_a_booking_cancelled_by_someone_else_answers_it_as_it_is(repos):
    owner = creator()
    event, who = _event(repos[0], owner), principal()
    seat = _book(repos, who, event).booking
    by_creator = _cancel(repos, owner, seat.id)
    result = _cancel(repos, who, seat.id, key="fresh")
    assert (result.booking, result.replayed) == (by_creator.booking, False)


def test_fingerprint_binds_caller_operation_resource_and_body():
    base = fingerprint("u1", "book", "e1", {"waitlist": False})
    assert base == fingerprint("u1", "book", "e1", {"waitlist": False})
    others = [
        fingerprint("u2", "book", "e1", {"waitlist": False}),
        fingerprint("u1", "cancel", "e1", {"waitlist": False}),
        fingerprint("u1", "book", "e2", {"waitlist": False}),
        fingerprint("u1", "book", "e1", {"waitlist": True}),
    ]
    assert base not in others and len(set(others)) == 4


def test_deleting_an_event_with_waitlisted_bookings_is_refused(repos):
    owner = creator()
    event = _event(repos[0], owner, capacity=1)
    _book(repos, principal(), event)
    media = Media(repos[0].uploads, FakeObjectStore())
    assert _conflict(events.delete_event, repos[0], owner, event.id, media=media) == "event_has_bookings"


def test_cancelling_never_frees_a_seat_while_someone_waits_even_if_the_waitlist_read_missed_them(repos):
    event_repo, booking_repo, _ = repos
    event = _event(event_repo, capacity=1)
    holder = principal()
    seat = _book(repos, holder, event).booking
    waiting = _book(repos, principal(), event, waitlist=True).booking
    real = booking_repo.oldest_waitlisted
    lagging_reads = [None]  # the first waitlist read misses the waiting booking, as a GSI may

    def oldest_waitlisted(event_id):
        return lagging_reads.pop() if lagging_reads else real(event_id)

    booking_repo.oldest_waitlisted = oldest_waitlisted
    _cancel(repos, holder, seat.id)
    assert booking_repo.get(waiting.id).status is BookingStatus.CONFIRMED
    assert event_repo.get(event.id).seats_booked == 1


PAID = {"price": Decimal("15.00"), "online_url": "https://meet.example.com/paid"}


def _book_and_pay(repos, who, event):
    """Book a seat at a paid event and pay for it (the provider's webhook event applied): the booking's answer,
    given while the seat was only held."""
    terms = PaymentTerms(FakePayments(), hold_seconds=900, refund_cutoff_seconds=86400)
    held = bookings.book(repos[0], repos[1], repos[2], who, event.id, waitlist=False, terms=terms)
    session = held.booking.payment.checkout_session
    terms.provider.pay(session)
    price = held.booking.payment
    paid = ProviderEvent(
        f"evt_{held.booking.id}", COMPLETED, session, held.booking.id, True, f"pi_{session}", price.amount, "usd"
    )
    settlement.handle_event(repos[1], repos[0], terms, paid)
    assert repos[1].get(held.booking.id).status is BookingStatus.CONFIRMED
    return held


def test_paid_event_link_is_for_confirmed_seats_its_creator_and_staff(repos):
    owner = creator()
    event = _event(repos[0], owner, capacity=1, **PAID)
    holder, waiter, stranger = principal(), principal(), principal()
    held = _book_and_pay(repos, holder, event)
    assert held.event.online_url is None  # a held seat is not paid for yet
    assert events.get_event(repos[0], event.id, holder).online_url == PAID["online_url"]
    assert _book(repos, waiter, event, waitlist=True).event.online_url is None
    link = {
        who.user_id: events.get_event(repos[0], event.id, who).online_url
        for who in (holder, waiter, stranger, owner, principal(staff=True))
    }
    assert list(link.values()) == [PAID["online_url"], None, None, PAID["online_url"], PAID["online_url"]]
    assert events.get_event(repos[0], event.id, None).online_url is None
    listed = events.list_events(repos[0], limit=10, start=None, creator=None, upcoming=False).items
    assert [e.online_url for e in listed] == [None]
    mine = bookings.my_bookings(repos[1], repos[0], waiter, limit=10, start=None).items
    assert [r.event.online_url for r in mine] == [None]


def test_free_event_link_is_public(repos):
    event = _event(repos[0], online_url="https://meet.example.com/free")
    assert events.get_event(repos[0], event.id, None).online_url == "https://meet.example.com/free"


def test_the_fingerprint_format_is_fixed_so_retries_replay_across_a_deployment():
    # A stored result must still match its retry after a deployment: any change to the canonical form (key
    # order, separators) would turn every such retry into a 409 idempotency_key_reused.
    assert fingerprint("01U", "book", "01E", {"waitlist": True, "a": [1, "x"]}) == (
        "967c082f3474418aca59db47a8dabdac73be4371f5f857ecb71122e301e8dfae"
    )
    who = principal()
    idem = bookings.Idempotency.of(who, "cancel", "01B", IdempotentRequest("k", {}))
    assert (idem.key, idem.fingerprint) == (f"{who.user_id}#k", fingerprint(who.user_id, "cancel", "01B", {}))


def test_a_stored_result_that_expired_the_moment_it_was_met_asks_for_a_retry(repos):
    event, who = _event(repos[0], capacity=5), principal()
    _book(repos, who, event, key="k1")
    repos[2].get = lambda key, now: None  # written, then gone before it could be read
    with pytest.raises(Conflict) as caught:
        _book(repos, who, event, key="k1")
    assert (caught.value.code, caught.value.detail) == (
        "conflict",
        "A request with this Idempotency-Key is being processed; retry.",
    )


def test_a_first_request_with_a_key_refused_as_full_is_refused(repos):
    event = _event(repos[0], capacity=1)
    _book(repos, principal(), event)
    assert _conflict(_book, repos, principal(), event, key="fresh") == "event_full"


def test_my_bookings_show_paid_links_to_confirmed_seats_and_to_those_who_manage_and_survive_deletion(repos):
    event = _event(repos[0], capacity=1, **PAID)
    holder, staff = principal(), principal(staff=True)
    _book_and_pay(repos, holder, event)
    _book(repos, staff, event, waitlist=True)
    for who in (holder, staff):
        mine = bookings.my_bookings(repos[1], repos[0], who, limit=10, start=None).items
        assert [r.event.online_url for r in mine] == [PAID["online_url"]]
    gone = _event(repos[0])
    seat = _book(repos, holder, gone).booking
    _cancel(repos, holder, seat.id)
    events.delete_event(repos[0], principal(staff=True), gone.id, media=MEDIA)
    mine = bookings.my_bookings(repos[1], repos[0], holder, limit=10, start=None).items
    assert [(r.booking.id, r.event) for r in mine][0] == (seat.id, None)


def test_an_events_bookings_page_through_and_include_its_drafts_for_its_creator(repos):
    owner = creator()
    event = _event(repos[0], owner)
    made = [_book(repos, principal(), event).booking for _ in range(3)]
    events.update_event(repos[0], owner, event.id, {"status": "draft"}, media=MEDIA)
    first = bookings.event_bookings(repos[1], repos[0], owner, event.id, limit=2, start=None)
    second = bookings.event_bookings(repos[1], repos[0], owner, event.id, limit=2, start=first.next_key)
    assert [r.booking.id for r in first.items + second.items] == [b.id for b in reversed(made)]
    assert (first.next_key is not None, second.next_key) == (True, None)


def test_a_full_event_says_so_in_words(repos):
    event = _event(repos[0], capacity=1)
    _book(repos, principal(), event)
    with pytest.raises(Conflict) as caught:
        _book(repos, principal(), event)
    assert (caught.value.code, caught.value.detail) == ("event_full", "This event is full.")


def test_a_cancellation_answers_with_the_event_as_the_canceller_may_see_it(repos):
    owner = creator()
    event = _event(repos[0], owner, capacity=5, **PAID)
    booker = principal()
    seat = _book_and_pay(repos, booker, event).booking
    by_creator = _cancel(repos, owner, seat.id)
    assert (by_creator.event.id, by_creator.event.online_url) == (event.id, PAID["online_url"])
    again = _cancel(repos, booker, seat.id)
    assert (again.booking.status, again.event.id, again.event.online_url) == (BookingStatus.CANCELLED, event.id, None)
    events.delete_event(repos[0], owner, event.id, media=MEDIA)
    assert _cancel(repos, booker, seat.id).event is None


def test_a_cancellation_with_a_key_stores_its_result_under_the_cancel_fingerprint(repos):
    event, who = _event(repos[0]), principal()
    seat = _book(repos, who, event).booking
    _cancel(repos, who, seat.id, key="c1", body={"why": "ill"})
    stored = repos[1].records[f"{who.user_id}#c1"]
    assert stored.fingerprint == fingerprint(who.user_id, "cancel", seat.id, {"why": "ill"})


def test_a_cancellation_that_keeps_losing_gives_up_after_three_attempts(repos):
    event, who = _event(repos[0]), principal()
    seat = _book(repos, who, event).booking
    calls = fail_first(repos[1], "cancel", 3)
    with pytest.raises(Busy) as caught:
        _cancel(repos, who, seat.id)
    assert caught.value.detail == "The booking is changing quickly; try again in a moment."
    assert (calls, repos[1].get(seat.id).status) == ([1, 2, 3], BookingStatus.CONFIRMED)


def test_the_waitlist_is_read_only_when_a_seat_is_freed_and_someone_waits(repos):
    event_repo, booking_repo, _ = repos
    reads = []
    real = booking_repo.oldest_waitlisted
    booking_repo.oldest_waitlisted = lambda event_id: reads.append(event_id) or real(event_id)
    roomy = _event(event_repo, capacity=5)
    alone = _book(repos, principal(), roomy).booking
    _cancel(repos, principal(staff=True), alone.id)  # nobody waits: nothing to read
    full = _event(event_repo, capacity=1)
    seat = _book(repos, principal(), full).booking
    waiter = principal()
    waiting = _book(repos, waiter, full, waitlist=True).booking
    _book(repos, principal(), full, waitlist=True)
    _cancel(repos, waiter, waiting.id)  # a waiting place frees no seat
    assert reads == []
    _cancel(repos, principal(staff=True), seat.id)
    assert reads == [full.id]
