"""Bookings through the gateway emulation: seats, waitlist, cancellation, idempotency, lists, faults."""

import pytest

from chalicelib.domain.enums import Role
from tests.integration.conftest import PASSWORD
from tests.support.faults import dynamodb_fault, recorded_calls
from tests.support.invariants import check_booking_invariants
from tests.support.retry import RETRY_AFTER


@pytest.fixture
def event_of(api, creator_token):
    def make(**fields):
        reply = api.post("/api/events/", {"title": "T", "description": "D", **fields}, token=creator_token)
        assert reply.status == 201, reply.json
        return reply.json

    return make


def test_booking_returns_201_and_counts_the_seat(api, event_of, user_token):
    event = event_of(capacity=3)
    reply = api.post(f"/api/events/{event['id']}/bookings/", {}, token=user_token)
    assert reply.status == 201
    assert (reply.json["event"], reply.json["status"], reply.json["cancelled_at"]) == (event["id"], "confirmed", None)
    assert api.get(f"/api/events/{event['id']}/").json["seats_booked"] == 1
    check_booking_invariants()


def test_booking_makes_one_read_and_one_transaction(api, event_of, user_token):
    event = event_of(capacity=3)
    with recorded_calls() as calls:
        assert api.post(f"/api/events/{event['id']}/bookings/", token=user_token).status == 201
    # The authorizer's user read runs in its own Lambda (and is cached by the gateway) on AWS. The event is read
    # with its seat counter (one BatchGetItem); the booking's transaction holds the counter, never the event.
    handler_calls = calls[1:]
    assert handler_calls == ["BatchGetItem", "TransactWriteItems"], calls


def test_full_event_answers_409_event_full_and_waitlists_on_request(api, event_of, users):
    event = event_of(capacity=1)
    first, second, third = users(3)
    path = f"/api/events/{event['id']}/bookings/"
    assert api.post(path, token=first).status == 201
    full = api.post(path, token=second)
    assert (full.status, full.json["code"]) == (409, "event_full")
    waiting = api.post(path, {"waitlist": True}, token=third)
    assert (waiting.status, waiting.json["status"]) == (201, "waitlisted")
    check_booking_invariants()


def test_user_cannot_book_twice(api, event_of, user_token):
    event = event_of()
    path = f"/api/events/{event['id']}/bookings/"
    assert api.post(path, token=user_token).status == 201
    again = api.post(path, token=user_token)
    assert (again.status, again.json["code"]) == (409, "already_booked")


def test_unknown_draft_cancelled_and_own_events(api, event_of, user_token, creator_token):
    assert api.post("/api/events/01M8DJKSQ4WJA7GH71FHCTVASD/bookings/", token=user_token).status == 404
    draft = event_of(status="draft")
    assert api.post(f"/api/events/{draft['id']}/bookings/", token=user_token).json == {"detail": "Not found."}
    event = event_of()
    assert api.post(f"/api/events/{event['id']}/bookings/", token=creator_token).status == 403
    api.patch(f"/api/events/{event['id']}/", {"status": "cancelled"}, token=creator_token)
    closed = api.post(f"/api/events/{event['id']}/bookings/", token=user_token)
    assert (closed.status, closed.json["code"]) == (409, "event_not_bookable")
    started = event_of(starts_at="2001-01-01T00:00:00Z")
    assert api.post(f"/api/events/{started['id']}/bookings/", token=user_token).json["code"] == "event_not_bookable"


def test_cancel_frees_the_seat_for_the_oldest_waitlisted_and_repeating_is_harmless(api, event_of, users):
    event = event_of(capacity=1)
    holder, early, late = users(3)
    path = f"/api/events/{event['id']}/bookings/"
    seat = api.post(path, token=holder).json
    early_booking = api.post(path, {"waitlist": True}, token=early).json
    api.post(path, {"waitlist": True}, token=late)
    cancelled = api.post(f"/api/bookings/{seat['id']}/cancel/", token=holder)
    assert (cancelled.status, cancelled.json["status"]) == (200, "cancelled")
    assert cancelled.json["cancelled_at"].endswith("Z")
    again = api.post(f"/api/bookings/{seat['id']}/cancel/", token=holder)
    assert (again.status, again.json["status"]) == (200, "cancelled")
    mine = api.get("/api/me/bookings/", token=early).json["results"]
    assert [(b["id"], b["status"]) for b in mine] == [(early_booking["id"], "confirmed")]
    counts = check_booking_invariants()[event["id"]]
    assert (counts["confirmed"], counts["waitlisted"], counts["cancelled"]) == (1, 1, 1)


def test_others_cannot_cancel_a_booking(api, event_of, users, creator_token, staff_token):
    event = event_of()
    owner, stranger = users(2)
    booking = api.post(f"/api/events/{event['id']}/bookings/", token=owner).json
    assert api.post(f"/api/bookings/{booking['id']}/cancel/", token=stranger).status == 404
    assert api.post(f"/api/bookings/{booking['id']}/cancel/", token=creator_token).status == 200
    assert api.post("/api/bookings/not-an-id/cancel/", token=staff_token).status == 404


def test_idempotency_key_replays_the_first_response_and_refuses_another_body(api, event_of, user_token):
    event = event_of(capacity=5)
    path = f"/api/events/{event['id']}/bookings/"
    headers = {"Idempotency-Key": "book-1"}
    first = api.post(path, {}, token=user_token, headers=headers)
    retry = api.post(path, {}, token=user_token, headers=headers)
    assert (first.status, retry.status) == (201, 201)
    assert retry.json == first.json and retry.headers["idempotent-replayed"] == "true"
    other = api.post(path, {"waitlist": True}, token=user_token, headers=headers)
    assert (other.status, other.json["code"]) == (409, "idempotency_key_reused")
    assert api.get(f"/api/events/{event['id']}/").json["seats_booked"] == 1
    cancel_headers = {"Idempotency-Key": "cancel-1"}
    cancel = api.post(f"/api/bookings/{first.json['id']}/cancel/", token=user_token, headers=cancel_headers)
    replay = api.post(f"/api/bookings/{first.json['id']}/cancel/", token=user_token, headers=cancel_headers)
    assert replay.json == cancel.json
    assert api.post(path, {}, token=user_token, headers={"Idempotency-Key": "bad key"}).status == 400
    check_booking_invariants()


def test_same_idempotency_key_of_two_users_does_not_collide(api, event_of, users):
    event = event_of(capacity=5)
    a, b = users(2)
    path = f"/api/events/{event['id']}/bookings/"
    first = api.post(path, token=a, headers={"Idempotency-Key": "same"})
    second = api.post(path, token=b, headers={"Idempotency-Key": "same"})
    assert (first.status, second.status) == (201, 201) and first.json["id"] != second.json["id"]


def test_expired_idempotency_record_is_ignored(api, event_of, user_token, monkeypatch):
    import chalicelib.services.bookings as service

    event = event_of(capacity=5)
    path = f"/api/events/{event['id']}/bookings/"
    monkeypatch.setattr(service, "IDEMPOTENCY_SECONDS", -10)
    booking = api.post(path, token=user_token, headers={"Idempotency-Key": "old"}).json
    api.post(f"/api/bookings/{booking['id']}/cancel/", token=user_token)
    again = api.post(path, token=user_token, headers={"Idempotency-Key": "old"})
    assert again.status == 201 and again.json["id"] != booking["id"]


def test_event_bookings_are_for_its_creator_and_staff(api, make_user, event_of, users, staff_token):
    event = event_of()
    (booker,) = users(1)
    api.post(f"/api/events/{event['id']}/bookings/", token=booker)
    path = f"/api/events/{event['id']}/bookings/"
    assert api.get(path, token=booker).status == 403
    make_user("rival", Role.CREATOR)
    assert api.get(path, token=api.token("rival", PASSWORD)).status == 403
    listed = api.get(path, token=staff_token)
    assert listed.status == 200 and [b["username"] for b in listed.json["results"]] == ["booker0"]


def test_my_bookings_are_newest_first_with_event_summaries_and_paginate(api, event_of, user_token):
    made = [event_of(title=f"E{i}") for i in range(3)]
    for event in made:
        api.post(f"/api/events/{event['id']}/bookings/", token=user_token)
    first = api.get("/api/me/bookings/?limit=2", token=user_token).json
    assert [b["event_summary"]["title"] for b in first["results"]] == ["E2", "E1"]
    cursor = first["next"].split("cursor=")[1]
    second = api.get(f"/api/me/bookings/?limit=2&cursor={cursor}", token=user_token).json
    assert [b["event_summary"]["title"] for b in second["results"]] == ["E0"] and second["next"] is None


def test_capacity_cannot_drop_below_seats_and_booked_events_cannot_be_deleted(api, event_of, users, creator_token):
    event = event_of(capacity=5)
    for token in users(3):
        api.post(f"/api/events/{event['id']}/bookings/", token=token)
    path = f"/api/events/{event['id']}/"
    low = api.patch(path, {"capacity": 2}, token=creator_token)
    assert (low.status, low.json["code"]) == (409, "capacity_below_booked")
    assert api.patch(path, {"capacity": 3}, token=creator_token).status == 200
    gone = api.delete(path, token=creator_token)
    assert (gone.status, gone.json["code"]) == (409, "event_has_bookings")


def test_event_edit_after_a_booking_keeps_the_seat_count(api, event_of, user_token):
    from chalicelib.persistence.events import DynamoEventRepository

    repo = DynamoEventRepository()
    event = event_of(capacity=5)
    stale = repo.get(event["id"])
    api.post(f"/api/events/{event['id']}/bookings/", token=user_token)
    repo.save(stale, stale.with_changes(title="Edited from a stale read"))
    fresh = repo.get(event["id"])
    assert (fresh.title, fresh.seats_booked) == ("Edited from a stale read", 1)
    check_booking_invariants()


@pytest.mark.parametrize(
    ("code", "reasons", "status"),
    [
        ("ProvisionedThroughputExceededException", None, 503),
        # A conflict on every attempt is contention, not an outcome: 503, to be sent again.
        ("TransactionCanceledException", ["None", "None", "TransactionConflict"], 503),
    ],
)
def test_faults_during_booking_answer_with_retry_after_and_write_nothing(
    api, event_of, user_token, code, reasons, status
):
    event = event_of(capacity=2)
    with dynamodb_fault("TransactWriteItems", code, reasons):
        reply = api.post(f"/api/events/{event['id']}/bookings/", token=user_token)
    assert reply.status == status and reply.headers["retry-after"] in RETRY_AFTER
    assert api.get(f"/api/events/{event['id']}/").json["seats_booked"] == 0
    assert check_booking_invariants()[event["id"]].total() == 0


def test_fault_during_cancellation_leaves_the_booking_and_the_seat(api, event_of, user_token):
    event = event_of(capacity=2)
    booking = api.post(f"/api/events/{event['id']}/bookings/", token=user_token).json
    with dynamodb_fault("TransactWriteItems", "ThrottlingException"):
        reply = api.post(f"/api/bookings/{booking['id']}/cancel/", token=user_token)
    assert reply.status == 503
    assert check_booking_invariants()[event["id"]]["confirmed"] == 1


def test_transaction_refuses_a_seat_past_capacity_even_when_the_caller_thinks_one_is_free(api, event_of):
    from chalicelib.domain.bookings import Booking
    from chalicelib.domain.common import iso, utcnow
    from chalicelib.domain.enums import BookingStatus
    from chalicelib.ids import new_id
    from chalicelib.persistence.bookings import DynamoBookingRepository
    from chalicelib.ports.bookings import EventChanged

    event = event_of(capacity=1)
    repo = DynamoBookingRepository()

    def seat(user: str) -> Booking:
        return Booking(new_id(), event["id"], event["creator"], user, user, BookingStatus.CONFIRMED, utcnow())

    repo.add(seat("01M8DJKSQ4WJA7GH71FHCTVAS1"), now=iso(utcnow()), record=None)
    with pytest.raises(EventChanged):
        repo.add(seat("01M8DJKSQ4WJA7GH71FHCTVAS2"), now=iso(utcnow()), record=None)
    counts = check_booking_invariants()[event["id"]]
    assert counts["confirmed"] == 1


def _lagging_waitlist(monkeypatch, *first_reads):
    """The waitlist index answers `first_reads` (what a lagging GSI may show), then the truth; returns the
    reads not yet consumed."""
    from chalicelib.persistence.bookings import DynamoBookingRepository

    real = DynamoBookingRepository.oldest_waitlisted
    pending = list(reversed(first_reads))
    monkeypatch.setattr(
        DynamoBookingRepository,
        "oldest_waitlisted",
        lambda self, event_id: pending.pop() if pending else real(self, event_id),
    )
    return pending


def test_cancellation_retries_when_the_waitlist_index_lags_instead_of_freeing_the_seat(
    api, event_of, users, monkeypatch
):

    event = event_of(capacity=1)
    holder, waiter = users(2)
    path = f"/api/events/{event['id']}/bookings/"
    seat = api.post(path, token=holder).json
    waiting = api.post(path, {"waitlist": True}, token=waiter).json
    _lagging_waitlist(monkeypatch, None)
    assert api.post(f"/api/bookings/{seat['id']}/cancel/", token=holder).status == 200
    assert api.get("/api/me/bookings/", token=waiter).json["results"][0]["status"] == "confirmed"
    assert waiting["status"] == "waitlisted"
    check_booking_invariants()


def test_idempotency_records_expire_through_the_tables_ttl(aws):
    import boto3

    ttl = boto3.client("dynamodb").describe_time_to_live(TableName="sessions-local-idempotency")[
        "TimeToLiveDescription"
    ]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_a_waitlist_request_takes_a_seat_freed_after_the_event_was_read_full(api, event_of, users, monkeypatch):
    # The service asks for a waiting place because it read the event full; a seat freed since then must fail
    # that transaction's "still full" condition, so the retry takes the seat instead of queueing behind it.
    from dataclasses import replace

    from chalicelib.persistence.events import DynamoEventRepository

    event = event_of(capacity=1)
    (booker,) = users(1)
    real = DynamoEventRepository.get
    stale_reads = [1]

    def read(self, event_id, **options):
        found = real(self, event_id, **options)
        return replace(found, seats_booked=found.capacity) if stale_reads and stale_reads.pop() else found

    monkeypatch.setattr(DynamoEventRepository, "get", read)
    reply = api.post(f"/api/events/{event['id']}/bookings/", {"waitlist": True}, token=booker)
    assert (reply.status, reply.json["status"], stale_reads) == (201, "confirmed", [])
    assert dict(check_booking_invariants()[event["id"]]) == {"confirmed": 1}


def test_a_booking_promoted_since_the_waitlist_was_read_is_not_promoted_again(api, event_of, users, monkeypatch):
    # The waitlist index can still show a booking another cancellation has just promoted: promoting it again
    # would give its seat away twice and strand the next in line, so the promotion is conditional on the
    # booking still waiting, and the cancellation retries with the next one.
    from chalicelib.persistence.bookings import DynamoBookingRepository

    event = event_of(capacity=2)
    first, second, third, fourth = users(4)
    path = f"/api/events/{event['id']}/bookings/"
    seats = [api.post(path, token=t).json for t in (first, second)]
    waiting = [api.post(path, {"waitlist": True}, token=t).json for t in (third, fourth)]
    stale = DynamoBookingRepository().oldest_waitlisted(event["id"])
    assert stale.id == waiting[0]["id"]
    assert api.post(f"/api/bookings/{seats[0]['id']}/cancel/", token=first).status == 200

    stale_reads = _lagging_waitlist(monkeypatch, stale)
    assert api.post(f"/api/bookings/{seats[1]['id']}/cancel/", token=second).status == 200
    assert not stale_reads
    listed = api.get(f"/api/events/{event['id']}/bookings/", token=api.token("creator_user", PASSWORD)).json
    assert [(b["id"], b["status"]) for b in listed["results"]] == [
        (waiting[1]["id"], "confirmed"),
        (waiting[0]["id"], "confirmed"),
        (seats[1]["id"], "cancelled"),
        (seats[0]["id"], "cancelled"),
    ]
    assert dict(check_booking_invariants()[event["id"]]) == {"confirmed": 2, "cancelled": 2}


def test_an_events_bookings_page_through_newest_first(api, event_of, users, creator_token):
    event = event_of(capacity=5)
    path = f"/api/events/{event['id']}/bookings/"
    made = [api.post(path, token=t).json["id"] for t in users(3)]
    first = api.get(f"{path}?limit=2", token=creator_token).json
    cursor = first["next"].split("cursor=")[1]
    second = api.get(f"{path}?limit=2&cursor={cursor}", token=creator_token).json
    assert [b["id"] for b in first["results"] + second["results"]] == made[::-1]
    assert second["next"] is None


def test_a_first_booking_with_a_key_at_a_full_event_is_refused_as_full(api, event_of, users):
    event = event_of(capacity=1)
    first, second = users(2)
    path = f"/api/events/{event['id']}/bookings/"
    assert api.post(path, token=first).status == 201
    reply = api.post(path, token=second, headers={"Idempotency-Key": "fresh"})
    assert (reply.status, reply.json["code"]) == (409, "event_full")


def test_a_retry_after_its_record_expired_is_a_new_request(api, event_of, user_token, monkeypatch):
    # An expired record may still be readable until TTL deletes it: it answers nothing, so the retry meets
    # the booking the first request made.
    import chalicelib.services.bookings as service

    event = event_of(capacity=5)
    path = f"/api/events/{event['id']}/bookings/"
    monkeypatch.setattr(service, "IDEMPOTENCY_SECONDS", -10)
    assert api.post(path, token=user_token, headers={"Idempotency-Key": "old"}).status == 201
    again = api.post(path, token=user_token, headers={"Idempotency-Key": "old"})
    assert (again.status, again.json["code"]) == (409, "already_booked")


def test_a_record_expiring_this_second_is_expired_for_reads_and_writes_alike(aws):
    from chalicelib.domain.bookings import Booking, BookingResult
    from chalicelib.domain.common import utcnow
    from chalicelib.domain.enums import BookingStatus
    from chalicelib.persistence.bookings import DynamoIdempotencyRepository, _save_record
    from chalicelib.persistence.transactions import write_transaction
    from chalicelib.ports.bookings import IdempotentWrite, StoredResult

    booking = Booking("01M8DJKSQ4WJA7GH71FHCTVAS1", "e", "c", "u", "u", BookingStatus.CONFIRMED, utcnow())
    stored = StoredResult(fingerprint="f", result=BookingResult(booking, None))
    with write_transaction() as tx:
        _save_record(tx, IdempotentWrite(key="u#k", stored=stored, expires_at=1_000, now=900))
    records = DynamoIdempotencyRepository()
    assert records.get("u#k", 999) == stored
    assert records.get("u#k", 1_000) is None
    with write_transaction() as tx:  # the same key, written again the second it expires
        _save_record(tx, IdempotentWrite(key="u#k", stored=stored, expires_at=2_000, now=1_000))
    assert records.get("u#k", 1_999) == stored


def test_a_marker_written_before_markers_had_a_status_reads_as_waiting(aws):
    from chalicelib.domain.enums import BookingStatus
    from chalicelib.persistence.bookings import DynamoBookingRepository
    from chalicelib.persistence.markers import booking_key
    from chalicelib.persistence.models.uniques import UniqueModel

    UniqueModel(key=booking_key("e1", "u1"), owner="b1").save()
    UniqueModel(key=booking_key("e1", "u2"), owner="b2", status="confirmed").save()
    repo = DynamoBookingRepository()
    assert [repo.active_status("e1", u) for u in ("u1", "u2", "u3")] == [
        BookingStatus.WAITLISTED,
        BookingStatus.CONFIRMED,
        None,
    ]


def test_the_next_in_line_is_one_item_read_oldest_first(api, event_of, users):
    event = event_of(capacity=1)
    holder, *waiters = users(3)
    path = f"/api/events/{event['id']}/bookings/"
    seat = api.post(path, token=holder).json
    waiting = [api.post(path, {"waitlist": True}, token=t).json for t in waiters]
    params: list = []
    with recorded_calls(params):
        assert api.post(f"/api/bookings/{seat['id']}/cancel/", token=holder).status == 200
    queries = [p for name, p in params if name == "Query"]
    assert [(q["IndexName"], q["Limit"], q["ScanIndexForward"]) for q in queries] == [("event-waitlist", 1, True)]
    assert [b["status"] for b in api.get("/api/me/bookings/", token=waiters[0]).json["results"]] == ["confirmed"]
    assert waiting[1]["status"] == "waitlisted"


def test_cancelling_a_waiting_place_gives_it_up_and_records_when(api, event_of, users):
    event = event_of(capacity=1)
    holder, waiter = users(2)
    path = f"/api/events/{event['id']}/bookings/"
    api.post(path, token=holder)
    waiting = api.post(path, {"waitlist": True}, token=waiter).json
    cancelled = api.post(f"/api/bookings/{waiting['id']}/cancel/", token=waiter)
    assert (cancelled.status, cancelled.json["status"]) == (200, "cancelled")
    (stored,) = api.get("/api/me/bookings/", token=waiter).json["results"]
    assert stored == cancelled.json
    assert stored["cancelled_at"] > stored["created_at"]
    assert dict(check_booking_invariants()[event["id"]]) == {"confirmed": 1, "cancelled": 1}
    again = api.post(path, {"waitlist": True}, token=waiter)  # the place was given up: it can be asked again
    assert (again.status, again.json["status"]) == (201, "waitlisted")


def test_cancelling_a_place_promoted_since_it_was_read_frees_the_seat_for_the_next(api, event_of, users, monkeypatch):
    # The cancellation decided on a waiting place, but the place became a seat before it committed: the
    # booking's status condition fails, and the retry cancels a seat (which passes to the next in line).
    from chalicelib.persistence.bookings import DynamoBookingRepository

    event = event_of(capacity=1)
    holder, first, second = users(3)
    path = f"/api/events/{event['id']}/bookings/"
    seat = api.post(path, token=holder).json
    promoted, waiting = (api.post(path, {"waitlist": True}, token=t).json for t in (first, second))
    stale = DynamoBookingRepository().get(promoted["id"])
    assert api.post(f"/api/bookings/{seat['id']}/cancel/", token=holder).status == 200
    real = DynamoBookingRepository.get
    stale_reads = [stale]
    monkeypatch.setattr(
        DynamoBookingRepository,
        "get",
        lambda self, booking_id: stale_reads.pop() if stale_reads else real(self, booking_id),
    )
    reply = api.post(f"/api/bookings/{promoted['id']}/cancel/", token=first)
    assert (reply.status, reply.json["status"], stale_reads) == (200, "cancelled", [])
    assert [b["status"] for b in api.get("/api/me/bookings/", token=second).json["results"]] == ["confirmed"]
    assert dict(check_booking_invariants()[event["id"]]) == {"confirmed": 1, "cancelled": 2}


def test_a_booking_read_before_its_event_was_cancelled_is_refused_by_the_transaction(
    api, event_of, users, creator_token, monkeypatch
):
    from chalicelib.persistence.events import DynamoEventRepository

    event = event_of(capacity=5)
    (booker,) = users(1)
    published = DynamoEventRepository().get(event["id"])
    assert api.patch(f"/api/events/{event['id']}/", {"status": "cancelled"}, token=creator_token).status == 200
    real = DynamoEventRepository.get
    stale_reads = [published]
    monkeypatch.setattr(
        DynamoEventRepository,
        "get",
        lambda self, event_id, **options: stale_reads.pop() if stale_reads else real(self, event_id, **options),
    )
    reply = api.post(f"/api/events/{event['id']}/bookings/", token=booker)
    assert (reply.status, reply.json["code"], stale_reads) == (409, "event_not_bookable", [])
    assert dict(check_booking_invariants()[event["id"]]) == {}
