"""A paid event cancelled by its creator over HTTP on the real local stack, with ten bookings (paid, held,
waiting): the sweep that settles it is killed (SIGKILL) part-way, in the middle of a call to the payment provider,
then run again. At the end every booking is cancelled, every payment refunded exactly once at the provider, every
held checkout closed, and the tables' invariants hold."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from devstack.stack import LocalStack
from tests.support.invariants import check_booking_invariants
from tests.support.stack import bearer, sign_up, token

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "vivid-otter-92-lamp"
# The app's scheduled sweep as Lambda runs it, `minutes` later than now (to reach work due a little later).
SWEEP = """
import sys
from datetime import timedelta
from chalicelib.domain.common import utcnow
from chalicelib import bootstrap as deps
from chalicelib.services import settlement
now = utcnow() + timedelta(minutes=float(sys.argv[1]))
print(settlement.sweep(deps.bookings(), deps.events(), deps.payment_terms(), budget_seconds=40, now=now), flush=True)
"""


def _sweep(stack: LocalStack, minutes: float = 0) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", SWEEP, str(minutes)], cwd=ROOT, env=stack.environment(), stdout=subprocess.PIPE
    )


def _bookings(base: str, creator: str, event_id: str) -> list[dict]:
    reply = requests.get(f"{base}/api/events/{event_id}/bookings/?limit=100", headers=bearer(creator), timeout=10)
    assert reply.status_code == 200, reply.text
    return list(reply.json()["results"])


def _refunds(stack: LocalStack) -> list[dict]:
    """The refunds the payment provider made (its saved state)."""
    state = json.loads((stack.data_dir / "payments.json").read_text())
    return list(state["refunds"].values())


def test_a_cancelled_paid_event_is_settled_exactly_once_even_when_the_sweep_is_killed(base, stack):
    creator = token(base, "creator_user")
    body = {"title": "Sold out workshop", "description": "Ten people", "capacity": 6, "price": "20.00"}
    event = requests.post(f"{base}/api/events/", json=body, headers=bearer(creator), timeout=10).json()
    with ThreadPoolExecutor(max_workers=5) as pool:
        people = list(pool.map(lambda i: sign_up(base, f"settle{i}", PASSWORD), range(10)))
    url = f"{base}/api/events/{event['id']}/bookings/"
    held = [requests.post(url, headers=bearer(a), timeout=30).json() for a in people[:2]]
    paid = []
    for access in people[2:6]:
        booking = requests.post(url, headers=bearer(access), timeout=30).json()
        done = requests.post(booking["checkout_url"], data={"action": "pay"}, allow_redirects=False, timeout=30)
        assert done.status_code == 303
        paid.append(booking)
    waiting = [requests.post(url, json={"waitlist": True}, headers=bearer(a), timeout=30).json() for a in people[6:]]
    assert [b["status"] for b in _bookings(base, creator, event["id"])].count("confirmed") == 4
    assert {b["status"] for b in waiting} == {"waitlisted"} and {b["status"] for b in held} == {"pending_payment"}

    # The provider stops answering (and the stack's own sweep, which runs in its process, stops too): a sweep
    # started now cancels the waiting bookings (newest first), then a paid one, owing its refund, then hangs
    # asking the provider for that refund, and is killed there. The provider then makes the refund it was
    # asked for (the request waits in its socket), which the killed sweep never recorded.
    assert stack.payments is not None
    stack.payments.send_signal(signal.SIGSTOP)
    try:
        cancelled = requests.patch(
            f"{base}/api/events/{event['id']}/", json={"status": "cancelled"}, headers=bearer(creator), timeout=10
        ).json()
        assert cancelled["settlement"]["bookings"] == 10
        sweep = _sweep(stack)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(b["refund_status"] == "pending" for b in _bookings(base, creator, event["id"])):
                break
            time.sleep(0.05)
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
        # Read while the stack's own sweep is still stopped with the provider: nothing else writes meanwhile.
        part_way = _bookings(base, creator, event["id"])
        assert [b["refund_status"] for b in part_way].count("pending") == 1, part_way
        assert 0 < sum(b["status"] == "cancelled" for b in part_way) < 10, [b["status"] for b in part_way]
        check_booking_invariants(stack.aws_url)
    finally:
        stack.payments.send_signal(signal.SIGCONT)

    # Run again (the stack's own sweep may run at the same moment: both are safe), and once more later, when a
    # checkout the killed sweep could not close is due to be closed.
    for minutes in (0, 2):
        again = _sweep(stack, minutes)
        assert again.wait(timeout=120) == 0
    after = {b["id"]: b for b in _bookings(base, creator, event["id"])}
    assert len(after) == 10
    assert {(b["status"], b["cancel_reason"]) for b in after.values()} == {("cancelled", "event_cancelled")}
    assert [after[b["id"]]["refund_status"] for b in paid] == ["succeeded"] * 4
    assert [after[b["id"]]["refund_status"] for b in (*held, *waiting)] == [None] * 6
    # Each payment refunded exactly once, in full, at the provider; nothing else refunded.
    sessions = json.loads((stack.data_dir / "payments.json").read_text())["sessions"]
    intents = sorted(sessions[b["checkout_url"].rsplit("/", 1)[1]]["payment_intent"] for b in paid)
    refunds = [r for r in _refunds(stack) if r["payment_intent"] in intents]
    assert sorted(r["payment_intent"] for r in refunds) == intents
    assert {r["amount"] for r in refunds} == {2000}
    # Nothing can be paid for this event any more.
    assert {sessions[b["checkout_url"].rsplit("/", 1)[1]]["status"] for b in held} == {"expired"}
    settled = requests.get(f"{base}/api/events/{event['id']}/", headers=bearer(creator), timeout=10).json()
    assert settled["settlement"]["settled"] == 10 and settled["settlement"]["completed_at"] is not None
    assert (settled["settlement"]["refunds_succeeded"], settled["settlement"]["refunds_pending"]) == (4, 0)
    assert settled["seats_booked"] == 0
    check_booking_invariants(stack.aws_url)
