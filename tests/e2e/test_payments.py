"""Paid events over HTTP on the real local stack: the API, moto, and Stripe's local stand-in with its checkout page
and signed webhooks (devstack/payments.py); the tables' invariants after each."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.support.invariants import check_booking_invariants
from tests.support.mail_folder import wait_for
from tests.support.stack import bearer, running_stack, sign_up, token

PASSWORD = "vivid-otter-92-lamp"


def _paid_event(base: str, capacity: int, **fields: object) -> dict:
    creator = token(base, "creator_user")
    body = {"title": "Paid workshop", "description": "Worth it", "capacity": capacity, "price": "20.00", **fields}
    reply = requests.post(f"{base}/api/events/", json=body, headers=bearer(creator), timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()


def _mine(base: str, access: str, booking_id: str) -> dict:
    results = requests.get(f"{base}/api/me/bookings/", headers=bearer(access), timeout=10).json()["results"]
    return next(b for b in results if b["id"] == booking_id)


def _seats(base: str, event: dict) -> int:
    return int(requests.get(f"{base}/api/events/{event['id']}/", timeout=10).json()["seats_booked"])


@pytest.fixture(scope="module")
def payers(base):
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda i: sign_up(base, f"payer{i}", PASSWORD), range(12)))


def test_book_a_paid_event_pay_through_the_checkout_page_and_abandon_another(base, stack, payers):
    starts = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0).isoformat()
    event = _paid_event(base, capacity=5, online_url="https://meet.example.com/paid-e2e", starts_at=starts)
    url = f"{base}/api/events/{event['id']}/bookings/"
    held = requests.post(url, headers=bearer(payers[0]), timeout=30)
    assert held.status_code == 201, held.text
    booking = held.json()
    assert booking["status"] == "pending_payment" and booking["checkout_url"].startswith(stack.payments_url)
    page = requests.get(booking["checkout_url"], timeout=10)
    assert page.status_code == 200 and "20.00 USD" in page.text and 'value="pay"' in page.text
    paid = requests.post(booking["checkout_url"], data={"action": "pay"}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303
    assert paid.headers["Location"].endswith(f"/events/{event['id']}?booking={booking['id']}&checkout=success")
    assert _mine(base, payers[0], booking["id"])["status"] == "confirmed"
    detail = requests.get(f"{base}/api/events/{event['id']}/", headers=bearer(payers[0]), timeout=10).json()
    assert detail["online_url"] == "https://meet.example.com/paid-e2e"
    # The receipt, with the event in a calendar (the notifier, from the booking's change).
    receipts = wait_for(stack.data_dir.parent / "mail", "payer0@example.com", "Payment received: Paid workshop")
    [receipt] = [m for m in receipts if booking["id"] in m.get_body(("plain",)).get_content()]
    assert "20.00 USD" in receipt.get_body(("plain",)).get_content()
    assert [a.get_filename().endswith(".ics") for a in receipt.iter_attachments()] == [True]
    # Another user abandons their checkout: the hold ends and the seat is free again.
    other = requests.post(url, headers=bearer(payers[1]), timeout=30).json()
    assert _seats(base, event) == 2
    cancelled = requests.post(other["checkout_url"], data={"action": "cancel"}, allow_redirects=False, timeout=30)
    assert cancelled.status_code == 303
    assert _mine(base, payers[1], other["id"])["status"] == "expired"
    assert _seats(base, event) == 1
    # The closed checkout cannot be paid any more.
    again = requests.post(other["checkout_url"], data={"action": "pay"}, allow_redirects=False, timeout=30)
    assert again.status_code == 409
    counts = check_booking_invariants(stack.aws_url)[event["id"]]
    assert (counts["confirmed"], counts["expired"], counts["pending_payment"]) == (1, 1, 0)


def test_racing_for_the_last_seats_of_a_paid_event_never_holds_more_than_capacity(base, stack, payers):
    event = _paid_event(base, capacity=3)
    url = f"{base}/api/events/{event['id']}/bookings/"
    with ThreadPoolExecutor(max_workers=12) as pool:
        replies = list(pool.map(lambda t: requests.post(url, headers=bearer(t), timeout=60), payers))
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201] * 3 + [409] * 9, statuses
    assert {r.json()["code"] for r in replies if r.status_code == 409} == {"event_full"}
    holds = [r.json() for r in replies if r.status_code == 201]
    assert {h["status"] for h in holds} == {"pending_payment"}
    check_booking_invariants(stack.aws_url)
    # One pays, one abandons (freeing a seat), and the race for that seat starts again with the rest.
    requests.post(holds[0]["checkout_url"], data={"action": "pay"}, allow_redirects=False, timeout=30)
    requests.post(holds[1]["checkout_url"], data={"action": "cancel"}, allow_redirects=False, timeout=30)
    losers = [t for t, r in zip(payers, replies, strict=True) if r.status_code == 409]
    with ThreadPoolExecutor(max_workers=9) as pool:
        second = list(pool.map(lambda t: requests.post(url, headers=bearer(t), timeout=60), losers))
    assert sorted(r.status_code for r in second) == [201] + [409] * 8
    counts = check_booking_invariants(stack.aws_url)[event["id"]]
    assert (counts["confirmed"], counts["pending_payment"], counts["expired"]) == (1, 2, 1)
    assert _seats(base, event) == 3


def test_cancelling_a_paid_booking_refunds_it_through_the_provider(base, stack, payers):
    starts = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    event = _paid_event(base, capacity=2, starts_at=starts)
    booking = requests.post(f"{base}/api/events/{event['id']}/bookings/", headers=bearer(payers[2]), timeout=30).json()
    requests.post(booking["checkout_url"], data={"action": "pay"}, allow_redirects=False, timeout=30)
    reply = requests.post(f"{base}/api/bookings/{booking['id']}/cancel/", headers=bearer(payers[2]), timeout=30)
    assert reply.status_code == 200
    assert (reply.json()["status"], reply.json()["refund_status"]) == ("cancelled", "succeeded")
    check_booking_invariants(stack.aws_url)


def test_the_local_stack_sweeps_holds_that_no_webhook_ends(tmp_path):
    # A stack of its own, with a 10-second hold and the sweep every second.
    with running_stack(tmp_path, PAYMENT_HOLD_SECONDS="10", LOCAL_PAYMENT_SWEEP_SECONDS="1") as local:
        base = local.url
        access = token(base, "user")
        event = _paid_event(base, capacity=1)
        booking = requests.post(f"{base}/api/events/{event['id']}/bookings/", headers=bearer(access), timeout=30)
        assert booking.status_code == 201, booking.text
        held = booking.json()
        deadline = time.monotonic() + 90
        while _mine(base, access, held["id"])["status"] == "pending_payment" and time.monotonic() < deadline:
            time.sleep(1)
        assert _mine(base, access, held["id"])["status"] == "expired"
        assert _seats(base, event) == 0
        wait_for(local.data_dir.parent / "mail", "user@example.com", "Your held seat was released: Paid workshop")
        # The sweep closed the checkout at the provider: it can no longer be paid.
        late = requests.post(held["checkout_url"], data={"action": "pay"}, allow_redirects=False, timeout=30)
        assert late.status_code == 409
        check_booking_invariants(local.aws_url)
