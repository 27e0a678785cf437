"""The booking invariants (see tests/support/invariants.py) under many clients at once, over HTTP against the local
stack."""

import random
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.invariants import check_booking_invariants
from tests.support.stack import bearer, sign_up, token

PASSWORD = "vivid-otter-92-lamp"


def _sign_up(base: str, name: str) -> str:
    return sign_up(base, name, PASSWORD)


@pytest.fixture(scope="module")
def crowd(base):
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda i: _sign_up(base, f"crowd{i}"), range(60)))


def _event(base: str, capacity: int, seat_shards: int = 1) -> dict:
    creator = token(base, "creator_user")
    body = {"title": "Popular", "description": "Everyone wants in", "capacity": capacity, "seat_shards": seat_shards}
    reply = requests.post(f"{base}/api/events/", json=body, headers=bearer(creator), timeout=10)
    assert reply.status_code == 201
    return reply.json()


# One seat counter, and eight (persistence.seats): the seats are then spread 2, 2, 1, 1, 1, 1, 1, 1.
@pytest.mark.parametrize("seat_shards", [1, 8])
def test_sixty_users_racing_for_ten_seats_get_exactly_ten(base, stack, crowd, seat_shards):
    event = _event(base, 10, seat_shards)
    url = f"{base}/api/events/{event['id']}/bookings/"
    with ThreadPoolExecutor(max_workers=30) as pool:
        # Each with its own key (per event: the crowd books each parametrization's event): a retried 503 whose
        # booking did commit is answered with that booking.
        replies = list(pool.map(lambda t: _patiently(url, None, t, key=f"{seat_shards}-{t[-40:]}"), crowd))
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201] * 10 + [409] * 50, statuses
    assert {r.json()["code"] for r in replies if r.status_code == 409} == {"event_full"}
    assert requests.get(f"{base}/api/events/{event['id']}/", timeout=10).json()["seats_booked"] == 10
    counts = check_booking_invariants(f"http://127.0.0.1:{stack.aws_port}")[event["id"]]
    assert counts["confirmed"] == 10


def test_one_user_sending_ten_parallel_requests_gets_one_booking(base, stack, crowd):
    event = _event(base, 50)
    url = f"{base}/api/events/{event['id']}/bookings/"
    with ThreadPoolExecutor(max_workers=10) as pool:
        replies = list(pool.map(lambda _: requests.post(url, headers=bearer(crowd[0]), timeout=60), range(10)))
    assert sorted(r.status_code for r in replies) == [201] + [409] * 9
    assert {r.json()["code"] for r in replies if r.status_code == 409} == {"already_booked"}
    assert check_booking_invariants(f"http://127.0.0.1:{stack.aws_port}")[event["id"]]["confirmed"] == 1


def _patiently(url: str, body: dict | None, access: str, key: str | None = None) -> requests.Response:
    """POST as docs/api.md asks a client to: a 503 (the store busier than the request's budget, as 20 clients on
    one local emulation can make it on two cores) is tried again after a pause, with the same Idempotency-Key
    when given; anything else is the answer."""
    headers = {**bearer(access), **({"Idempotency-Key": key} if key else {})}
    for attempt in range(6):
        reply = requests.post(url, json=body, headers=headers, timeout=60)
        if reply.status_code != 503:
            return reply
        time.sleep(0.2 * 2**attempt)
    return reply


@pytest.mark.parametrize("seat_shards", [1, 4])
def test_storm_of_bookings_and_cancellations_keeps_the_seat_count_right(base, stack, crowd, seat_shards):
    event = _event(base, 5, seat_shards)
    url = f"{base}/api/events/{event['id']}/bookings/"
    rng = random.Random(7)

    def client(user_token: str) -> None:
        for _ in range(4):
            reply = _patiently(url, {"waitlist": rng.random() < 0.5}, user_token)
            assert reply.status_code in (201, 409), reply.text
            if reply.status_code == 201 and rng.random() < 0.6:
                cancel = _patiently(f"{base}/api/bookings/{reply.json()['id']}/cancel/", None, user_token)
                assert cancel.status_code in (200, 409), cancel.text

    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(client, crowd[:20]))
    counts = check_booking_invariants(f"http://127.0.0.1:{stack.aws_port}")[event["id"]]
    assert counts["confirmed"] <= 5
    seats = requests.get(f"{base}/api/events/{event['id']}/", timeout=10).json()["seats_booked"]
    assert seats == counts["confirmed"]
    # A free seat never sits idle while someone waits for it.
    assert counts["waitlisted"] == 0 or counts["confirmed"] == 5
