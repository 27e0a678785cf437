"""An event's seats over several counters (persistence.seats): the totals hold whatever counter a booking lands on,
a cancelled seat goes back to its counter, the waitlist stays first come first served across counters, and edits
split the capacity anew without ever leaving a counter below what it holds."""

import random
from urllib.parse import urlsplit

import boto3
import pytest

from chalicelib.persistence import seats as seat_counters
from tests.support.faults import dynamodb_fault, recorded_calls
from tests.support.invariants import check_booking_invariants
from tests.support.retry import RETRY_AFTER

CONFLICT = ["None", "None", "TransactionConflict"]


def _counters(event_id: str) -> dict[int, tuple[int, int | None, int]]:
    """shard -> (booked, capacity, waitlisted), as stored."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    items = client.scan(
        TableName="sessions-local-seats",
        FilterExpression="event_id = :e",
        ExpressionAttributeValues={":e": {"S": event_id}},
        ConsistentRead=True,
    )["Items"]
    return {
        int(i["shard"]["N"]): (
            int(i["booked"]["N"]),
            int(i["capacity"]["N"]) if "capacity" in i else None,
            int(i["waitlisted"]["N"]),
        )
        for i in items
    }


def _event(api, token, **fields):
    reply = api.post("/api/events/", {"title": "Popular", "description": "D", **fields}, token=token)
    assert reply.status == 201, reply.json
    return reply.json


def _book(api, event, token, **body):
    return api.post(f"/api/events/{event['id']}/bookings/", body, token=token)


def test_an_event_gets_one_counter_per_300_seats_unless_its_creator_says(api, creator_token):
    small = _event(api, creator_token, capacity=300)
    large = _event(api, creator_token, capacity=601)
    unlimited = _event(api, creator_token)
    chosen = _event(api, creator_token, capacity=10, seat_shards=4)
    assert [e["seat_shards"] for e in (small, large, unlimited, chosen)] == [1, 3, 1, 4]
    assert _counters(large["id"]) == {0: (0, 201, 0), 1: (0, 200, 0), 2: (0, 200, 0)}
    assert _counters(unlimited["id"]) == {0: (0, None, 0)}
    assert _counters(chosen["id"]) == {0: (0, 3, 0), 1: (0, 3, 0), 2: (0, 2, 0), 3: (0, 2, 0)}
    reply = api.post("/api/events/", {"title": "T", "description": "D", "seat_shards": 33}, token=creator_token)
    assert (reply.status, reply.json) == (400, {"seat_shards": ["Ensure this value is less than or equal to 32."]})


def test_every_seat_of_a_sharded_event_is_sold_once_then_it_is_full(api, creator_token, users):
    event = _event(api, creator_token, capacity=10, seat_shards=4)
    tokens = users(12)
    statuses = [_book(api, event, token).json.get("status") for token in tokens[:10]]
    assert statuses == ["confirmed"] * 10
    # Whatever counters the bookings landed on, the last seats were found on the counters that had them.
    assert {shard: booked for shard, (booked, _, _) in _counters(event["id"]).items()} == {0: 3, 1: 3, 2: 2, 3: 2}
    full = _book(api, event, tokens[10])
    assert (full.status, full.json["code"]) == (409, "event_full")
    assert _book(api, event, tokens[11], waitlist=True).json["status"] == "waitlisted"
    assert api.get(f"/api/events/{event['id']}/").json["seats_booked"] == 10
    check_booking_invariants()


def test_a_full_counter_sends_the_booking_to_one_with_room_read_once(api, creator_token, users, monkeypatch):
    event = _event(api, creator_token, capacity=4, seat_shards=2)
    first, second, third = users(3)
    monkeypatch.setattr(seat_counters, "shard_order", lambda shards: list(range(shards)))
    assert _book(api, event, first).status == 201
    assert _book(api, event, second).status == 201
    assert _counters(event["id"])[0][0] == 2
    with recorded_calls() as calls:
        assert _book(api, event, third).status == 201
    # The event with its first counter, then its other counter; counter 0 refuses (full), the counters are read
    # once, counter 1 takes the seat.
    assert calls[1:] == ["BatchGetItem", "BatchGetItem", "TransactWriteItems", "BatchGetItem", "TransactWriteItems"]
    assert _counters(event["id"]) == {0: (2, 2, 0), 1: (1, 2, 0)}
    check_booking_invariants()


def test_a_booking_meeting_a_conflict_on_one_counter_takes_the_next(api, creator_token, user_token, monkeypatch):
    event = _event(api, creator_token, capacity=4, seat_shards=2)
    monkeypatch.setattr(seat_counters, "shard_order", lambda shards: list(range(shards)))
    with dynamodb_fault("TransactWriteItems", "TransactionCanceledException", CONFLICT, times=1) as failed:
        reply = _book(api, event, user_token)
    assert (reply.status, reply.json["status"], len(failed)) == (201, "confirmed", 1)
    # Not the same counter again (write_transaction's retries are for events of one counter): the next one.
    assert _counters(event["id"]) == {0: (0, 2, 0), 1: (1, 2, 0)}


def test_a_booking_meeting_conflicts_on_every_counter_waits_a_round_then_answers_busy(
    api, creator_token, user_token, monkeypatch
):
    from chalicelib.persistence import bookings as bookings_store
    from chalicelib.persistence import transactions

    event = _event(api, creator_token, capacity=4, seat_shards=2)
    monkeypatch.setattr(seat_counters, "shard_order", lambda shards: list(range(shards)))
    pauses = []
    monkeypatch.setattr(transactions.time, "sleep", pauses.append)
    tries = bookings_store.ATTEMPTS_PER_COUNTER * 2 + 1
    with dynamodb_fault("TransactWriteItems", "TransactionCanceledException", CONFLICT, times=tries) as failed:
        reply = _book(api, event, user_token)
    assert (reply.status, reply.json["detail"], len(failed)) == (
        503,
        "The event is busy; try again in a moment.",
        tries,
    )
    assert reply.headers["retry-after"] in RETRY_AFTER
    # A pause each time both counters were found busy in turn (not after each try), growing to 8 times the
    # transactions' conflict pause.
    assert len(pauses) == tries // 2
    ceilings = [transactions.CONFLICT_PAUSE_SECONDS * 2 ** min(r, 3) for r in range(1, tries // 2 + 1)]
    assert all(0 <= pause <= ceiling for pause, ceiling in zip(pauses, ceilings, strict=True))
    assert _counters(event["id"]) == {0: (0, 2, 0), 1: (0, 2, 0)}


def _status(api, token, booking_id):
    return next(b["status"] for b in api.get("/api/me/bookings/", token=token).json["results"] if b["id"] == booking_id)


def _seat_of(booking_id: str) -> int | None:
    item = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName="sessions-local-bookings", Key={"id": {"S": booking_id}}, ConsistentRead=True
    )["Item"]
    return int(item["seat_shard"]["N"]) if "seat_shard" in item else None


def test_a_cancelled_seat_passes_to_the_oldest_waiting_on_its_counter_or_returns_there(api, creator_token, users):
    event = _event(api, creator_token, capacity=2, seat_shards=2)
    a, b, c, d = users(4)
    first, second = (_book(api, event, token).json for token in (a, b))
    assert {_seat_of(first["id"]), _seat_of(second["id"])} == {0, 1}  # one seat per counter
    waiting_c = _book(api, event, c, waitlist=True).json
    waiting_d = _book(api, event, d, waitlist=True).json
    assert api.post(f"/api/bookings/{second['id']}/cancel/", {}, token=b).status == 200
    # The oldest waiting takes the seat on the counter that held it; no counter moved, one fewer waits.
    assert _status(api, c, waiting_c["id"]) == "confirmed"
    assert _seat_of(waiting_c["id"]) == _seat_of(second["id"])
    assert [booked for booked, _, _ in _counters(event["id"]).values()] == [1, 1]
    assert _counters(event["id"])[0][2] == 1
    assert api.post(f"/api/bookings/{first['id']}/cancel/", {}, token=a).status == 200
    assert _status(api, d, waiting_d["id"]) == "confirmed"
    # Nobody waits any more: the next cancellation frees the seat on its own counter.
    assert api.post(f"/api/bookings/{waiting_c['id']}/cancel/", {}, token=c).status == 200
    freed = _seat_of(second["id"])
    assert {s: booked for s, (booked, _, _) in _counters(event["id"]).items()} == {freed: 0, 1 - freed: 1}
    check_booking_invariants()


def test_capacity_edits_split_the_seats_anew_never_below_what_a_counter_holds(api, creator_token, users):
    event = _event(api, creator_token, capacity=8, seat_shards=2)
    for token in users(3):
        _book(api, event, token)
    assert api.patch(f"/api/events/{event['id']}/", {"capacity": 3}, token=creator_token).status == 200
    assert {s: (n, cap) for s, (n, cap, _) in _counters(event["id"]).items()} == {
        s: (n, n) for s, (n, _, _) in _counters(event["id"]).items()
    }
    below = api.patch(f"/api/events/{event['id']}/", {"capacity": 2}, token=creator_token)
    assert (below.status, below.json["code"]) == (409, "capacity_below_booked")
    assert api.patch(f"/api/events/{event['id']}/", {"capacity": 7}, token=creator_token).status == 200
    assert sum(cap for _, cap, _ in _counters(event["id"]).values()) == 7
    check_booking_invariants()


def test_counters_can_be_added_at_any_time_but_not_removed_while_seats_are_held(api, creator_token, user_token):
    event = _event(api, creator_token, capacity=6, seat_shards=2)
    _book(api, event, user_token)
    grown = api.patch(f"/api/events/{event['id']}/", {"seat_shards": 3}, token=creator_token)
    assert (grown.status, grown.json["seat_shards"]) == (200, 3)
    assert sorted(_counters(event["id"])) == [0, 1, 2]
    shrunk = api.patch(f"/api/events/{event['id']}/", {"seat_shards": 1}, token=creator_token)
    assert (shrunk.status, shrunk.json["code"]) == (409, "seat_shards_in_use")
    # An event whose number followed its capacity keeps following it (never below what it has while booked).
    default = _event(api, creator_token, capacity=200)
    assert api.patch(f"/api/events/{default['id']}/", {"capacity": 1_200}, token=creator_token).json["seat_shards"] == 4
    check_booking_invariants()


def test_a_cancelled_sharded_event_closes_every_counter_and_settles_to_zero(api, creator_token, users):
    event = _event(api, creator_token, capacity=6, seat_shards=3)
    tokens = users(4)
    for token in tokens:
        _book(api, event, token)
    assert api.patch(f"/api/events/{event['id']}/", {"status": "cancelled"}, token=creator_token).status == 200
    assert _book(api, event, users(1, "late")[0]).json["code"] == "event_not_bookable"
    check_booking_invariants()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_bookings_cancels_and_edits_never_break_the_counters(api, creator_token, users, seed):
    """A model check by random walk: whatever the order of bookings, waitlist joins, cancellations, capacity
    and counter changes, the counters equal the bookings they hold, never exceed their share, and the shares add
    up to the capacity (tests/support/invariants.py after every step)."""
    rng = random.Random(seed)
    event = _event(api, creator_token, capacity=4, seat_shards=3)
    people = users(7, f"walker{seed}-")
    held: dict[int, str] = {}
    made: list[str] = []
    for _ in range(30):
        who = rng.randrange(len(people))
        move = rng.choice(["book", "book", "wait", "cancel", "capacity", "shards"])
        if move in ("book", "wait") and who not in held:
            reply = _book(api, event, people[who], waitlist=move == "wait")
            if reply.status == 201:
                held[who] = reply.json["id"]
                made.append(reply.json["id"])
        elif move == "cancel" and held:
            who = rng.choice(sorted(held))
            assert api.post(f"/api/bookings/{held.pop(who)}/cancel/", {}, token=people[who]).status == 200
        elif move == "capacity":
            capacity = rng.randrange(1, 7)
            reply = api.patch(f"/api/events/{event['id']}/", {"capacity": capacity}, token=creator_token)
            assert reply.status in (200, 409), reply.json
        elif move == "shards":
            reply = api.patch(f"/api/events/{event['id']}/", {"seat_shards": rng.randrange(1, 5)}, token=creator_token)
            assert reply.status in (200, 409), reply.json
        check_booking_invariants(attempts=1)
    # However the counters came and went, the creator's list shows every booking ever made, once, newest first.
    assert _listed(api, f"/api/events/{event['id']}/bookings/?limit=2", creator_token) == made[::-1]


def _listed(api, path, token):
    """The ids of every page of a list, following `next`."""
    ids: list[str] = []
    while path:
        reply = api.get(path, token=token)
        assert reply.status == 200, reply.json
        ids += [item["id"] for item in reply.json["results"]]
        link = reply.json["next"]
        path = None if link is None else f"{urlsplit(link).path}?{urlsplit(link).query}"
    return ids


def test_events_stored_before_seat_counters_get_theirs_from_their_bookings(api, creator_token, users):
    """manage.py reindex (and createtables when the seats table is new): an event without counters gets one,
    counting its active bookings (those stored before counters have no seat_shard: counter 0)."""
    from chalicelib.persistence.admin import backfill_seat_counters

    old = _event(api, creator_token, capacity=3)
    booked, waiting, late = users(3)
    _book(api, old, booked)
    client = boto3.client("dynamodb", region_name="us-east-1")
    # As stored before counters: no counter item, bookings without their counter.
    client.delete_item(TableName="sessions-local-seats", Key={"k": {"S": f"{old['id']}#0"}})
    for item in client.scan(TableName="sessions-local-bookings")["Items"]:
        client.update_item(
            TableName="sessions-local-bookings", Key={"id": item["id"]}, UpdateExpression="REMOVE seat_shard"
        )
    counted = _event(api, creator_token, capacity=2)
    assert backfill_seat_counters() == 1
    assert _counters(old["id"]) == {0: (1, 3, 0)}
    assert backfill_seat_counters() == 0  # safe to repeat
    assert _counters(counted["id"]) == {0: (0, 2, 0)}
    assert _book(api, old, waiting).json["status"] == "confirmed"
    assert _book(api, old, late).json["status"] == "confirmed"
    check_booking_invariants()
