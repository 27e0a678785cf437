"""The on-sale queue through the API: the sales opening on events, joining, one's place and admission, and the
booking endpoint's refusals; every answer checked against the OpenAPI document (tests/support/api.py). The
app's clock (common.utcnow) is fixed by the tests; tokens keep the real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import bootstrap
from chalicelib.domain import common
from chalicelib.domain.common import iso
from chalicelib.security.admission import issue_admission

PREFIX = "An admission from this event's queue is required: "


@pytest.fixture
def opens() -> datetime:
    """An opening an hour ahead of the real time (an event's opening is validated against it when set)."""
    return (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)


@pytest.fixture
def at(monkeypatch):
    """`at(t)`: the app's clock reads `t` from then on."""
    return lambda moment: monkeypatch.setattr(common, "utcnow", lambda: moment)


@pytest.fixture(autouse=True)
def queue(aws, monkeypatch):
    """A queue of this test's own (no caches carried over from another test) whose polls are not spread."""
    from chalicelib.persistence.queue import DynamoQueue
    from chalicelib.services.queue import Queue

    bootstrap.tables()
    fresh = Queue(
        DynamoQueue(),
        bootstrap.events(),
        bootstrap.signing_keys(),
        max_rate=500.0,
        admission_seconds=120,
        jitter=lambda: 0.5,
    )
    monkeypatch.setattr(bootstrap, "queue", lambda: fresh)
    return fresh


@pytest.fixture
def on_sale(api, creator_token, opens):
    """A published event (ten seats, one seat counter: 31 admissions a second) whose sales open at `opens`."""
    body = {"title": "Launch", "description": "D", "capacity": 10, "sales_open_at": iso(opens)}
    body["starts_at"] = iso(opens + timedelta(days=1))
    reply = api.post("/api/events/", body, token=creator_token)
    assert reply.status == 201, reply.json
    return reply.json


def _status(event, opens, position=1, **changes):
    return {
        "event_id": event["id"],
        "position": position,
        "ahead": 0,
        "opens_at": iso(opens),
        "admitted": False,
        "admission": None,
        "admission_expires_at": None,
        "expected_wait_seconds": 0,
        "sold_out": False,
        "poll_after_seconds": 3.8,
        **changes,
    }


def test_the_sales_opening_is_shown_and_must_be_in_the_future_and_before_the_start(api, creator_token, on_sale, opens):
    assert api.get(f"/api/events/{on_sale['id']}/").json["sales_open_at"] == iso(opens)
    past = api.post(
        "/api/events/", {"title": "T", "description": "D", "sales_open_at": "2020-01-01T00:00:00Z"}, token=creator_token
    )
    assert (past.status, past.json) == (400, {"sales_open_at": ["The sales opening must be in the future."]})
    late = api.patch(
        f"/api/events/{on_sale['id']}/", {"starts_at": iso(opens - timedelta(minutes=1))}, token=creator_token
    )
    assert (late.status, late.json) == (400, {"sales_open_at": ["Sales must open before the event starts."]})
    moved = api.patch(
        f"/api/events/{on_sale['id']}/", {"sales_open_at": iso(opens + timedelta(hours=2))}, token=creator_token
    )
    assert (moved.status, moved.json["sales_open_at"]) == (200, iso(opens + timedelta(hours=2)))


def test_the_opening_is_fixed_once_it_has_passed(api, creator_token, on_sale, opens, monkeypatch):
    from chalicelib.services import events

    monkeypatch.setattr(events, "utcnow", lambda: opens + timedelta(seconds=1))
    for value in (iso(opens + timedelta(hours=1)), None):
        reply = api.patch(f"/api/events/{on_sale['id']}/", {"sales_open_at": value}, token=creator_token)
        assert (reply.status, reply.json) == (
            400,
            {"sales_open_at": ["Sales have opened: the opening can no longer be changed."]},
        )


def test_joining_twice_answers_the_same_place_and_a_stranger_is_not_in_the_queue(api, users, on_sale, opens, at):
    alice, bob = users(2)
    at(opens - timedelta(seconds=100))
    path = f"/api/events/{on_sale['id']}/queue/"
    first = api.post(path, token=alice)
    # 100 s to the opening, then place 1 at 31 a second: 101 s; polls every 5 s at most.
    expected = _status(on_sale, opens, expected_wait_seconds=101)
    assert (first.status, first.json) == (201, expected)
    again = api.post(path, token=alice)
    assert (again.status, again.json) == (200, expected)
    assert api.get(path, token=alice).json == expected
    stranger = api.get(path, token=bob)
    assert (stranger.status, stranger.json) == (
        404,
        {"detail": "You are not in this event's queue.", "code": "not_in_queue"},
    )


def test_admitted_once_the_clock_passes_the_place_then_books_with_the_admission(api, users, on_sale, opens, at):
    alice, bob = users(2)
    path = f"/api/events/{on_sale['id']}/queue/"
    at(opens - timedelta(seconds=100))
    for token in (alice, bob):
        assert api.post(path, token=token).status == 201
    at(opens + timedelta(seconds=1))  # 31 places served
    # Places are final once the early counts are (before the opening one may still move behind a later joiner
    # whose counter comes first: which one, the HMAC of random ids decides).
    assert {api.get(path, token=token).json["position"] for token in (alice, bob)} == {1, 2}
    status = api.get(path, token=alice).json
    assert status | {"position": 1, "admission": "?"} == _status(
        on_sale,
        opens,
        admitted=True,
        admission="?",
        admission_expires_at=iso(opens + timedelta(seconds=121)),
        poll_after_seconds=0.8,
    )
    booked = api.post(f"/api/events/{on_sale['id']}/bookings/", {"admission": status["admission"]}, token=alice)
    assert (booked.status, booked.json["status"]) == (201, "confirmed")


def test_the_booking_endpoint_refuses_before_the_opening_and_without_a_valid_admission(
    api, users, creator_token, on_sale, opens, at
):
    (alice,) = users(1)
    book = f"/api/events/{on_sale['id']}/bookings/"
    early = api.post(book, {}, token=alice)
    assert (early.status, early.json) == (
        409,
        {"detail": f"Sales for this event open at {iso(opens)}.", "code": "sales_not_open"},
    )
    at(opens - timedelta(seconds=1))
    api.post(f"/api/events/{on_sale['id']}/queue/", token=alice)
    at(opens + timedelta(seconds=10))
    admission = api.get(f"/api/events/{on_sale['id']}/queue/", token=alice).json["admission"]
    for body in ({}, {"admission": None}, {"waitlist": True}):
        refused = api.post(book, body, token=alice)
        assert (refused.status, refused.json) == (
            403,
            {"detail": PREFIX + "none was sent.", "code": "admission_required"},
        )
    other = api.post(
        "/api/events/", {"title": "T", "description": "D", "sales_open_at": iso(opens)}, token=creator_token
    )
    foreign = issue_admission(
        _user_id(api, alice),
        other.json["id"],
        120,
        bootstrap.signing_keys(),
        (opens + timedelta(seconds=10)).timestamp(),
    )
    wrong = api.post(book, {"admission": foreign}, token=alice)
    assert (wrong.status, wrong.json) == (
        403,
        {"detail": PREFIX + "the one sent is for another event.", "code": "admission_required"},
    )
    at(opens + timedelta(seconds=130))  # the admission was made at +10 s for 120 s
    expired = api.post(book, {"admission": admission}, token=alice)
    assert (expired.status, expired.json) == (
        403,
        {"detail": PREFIX + "the one sent has expired; ask the queue again.", "code": "admission_required"},
    )
    fresh = api.get(f"/api/events/{on_sale['id']}/queue/", token=alice).json["admission"]
    assert api.post(book, {"admission": fresh}, token=alice).status == 201


def test_an_event_without_an_opening_has_no_queue_and_books_without_admission(api, users, creator_token):
    (alice,) = users(1)
    event = api.post("/api/events/", {"title": "T", "description": "D"}, token=creator_token).json
    assert event["sales_open_at"] is None
    joined = api.post(f"/api/events/{event['id']}/queue/", token=alice)
    assert (joined.status, joined.json) == (
        409,
        {"detail": "This event has no on-sale queue: book it directly.", "code": "no_queue"},
    )
    assert api.post(f"/api/events/{event['id']}/bookings/", {}, token=alice).status == 201


def _user_id(api, token: str) -> str:
    return api.get("/api/me/", token=token).json["id"]
