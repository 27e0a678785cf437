"""Read the tables directly (a maintenance Scan, tests only) and check the booking invariants: seats_booked equals
the bookings holding a seat (confirmed, and held pending payment) and never exceeds capacity, waitlisted equals the
waiting ones, one active booking and one marker per (event, user), and the payment states agree with the index
of payment work due and with the money."""

from __future__ import annotations

import time
from collections import Counter

import boto3

SEAT = ("confirmed", "pending_payment")
ACTIVE = (*SEAT, "waitlisted")


def _scan(table: str, endpoint: str | None = None) -> list[dict]:
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    items: list[dict] = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return items


def _mismatched(b: dict) -> bool:
    """Money of another amount or currency than the booking's price was recorded on it."""
    if "paid_amount" not in b:
        return False
    return b["paid_amount"]["N"] != b["amount"]["N"] or b["paid_currency"]["S"] != b["currency"]["S"].upper()


def _payment_is_consistent(b: dict) -> None:
    """A hold is in the index of holds (and so is the checkout of a cancelled hold still to close); money taken
    for a booking without its seat, or of another amount, is refunded or owed (or kept under the refund policy
    after a cancellation); an owed refund is in the index of refunds, unless it is owed on a hold still
    running (it keeps the hold's place)."""
    status = b["status"]["S"]
    due = b.get("pay_due", {}).get("S")
    refund = b.get("refund_status", {}).get("S")
    paid = "payment_intent" in b
    closing = status == "cancelled" and due == "HOLD"  # a checkout the provider could not close yet
    assert (status == "pending_payment" or closing) == (due == "HOLD"), b
    assert (refund == "pending" and status != "pending_payment") == (due == "REFUND"), b
    if closing:
        assert "checkout_session" in b and not paid, b
    if status == "pending_payment":
        assert "hold_expires_at" in b and "amount" in b, b
        assert not paid or (_mismatched(b) and refund in ("pending", "succeeded", "failed")), b
    if paid and _mismatched(b):
        assert status != "confirmed" and refund in ("pending", "succeeded", "failed"), b
    if status == "confirmed" and "amount" in b:
        assert paid and refund is None, b  # a paid event's seat is confirmed only by its payment
    if paid and status == "expired":
        assert refund in ("pending", "succeeded", "failed"), b  # paid too late: always refunded
    if paid and status == "cancelled":
        assert refund in ("pending", "succeeded", "failed", "not_refundable"), b


def check_booking_invariants(endpoint: str | None = None, attempts: int = 3) -> dict[str, Counter]:
    """Assert, for every event: seats_booked == confirmed + held bookings <= capacity, waitlisted == waiting
    bookings, one active booking per user, one marker (with its booking's status) per active booking, and each
    booking's payment consistent. Returns the counts of bookings per event and status.

    The tables are scanned one after the other, not at one instant: a local stack's sweep settling a booking
    between two scans (one transaction, consistent in the tables) can make one reading look wrong. A reading
    that fails is taken again, `attempts` times in all, half a second apart; a real violation stays."""
    for attempt in range(attempts):
        try:
            return _check(endpoint)
        except AssertionError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)
    raise AssertionError("no attempt")  # attempts < 1


def _check(endpoint: str | None) -> dict[str, Counter]:
    events = {e["id"]["S"]: e for e in _scan("sessions-local-events", endpoint)}
    bookings = _scan("sessions-local-bookings", endpoint)
    markers = {
        m["key"]["S"]: (m["owner"]["S"], m.get("status", {}).get("S"))
        for m in _scan("sessions-local-uniques", endpoint)
        if m["key"]["S"].startswith("BOOKING#")
    }
    counts: dict[str, Counter] = {event_id: Counter() for event_id in events}
    active_per_user: Counter = Counter()
    for b in bookings:
        event_id, status = b["event_id"]["S"], b["status"]["S"]
        counts.setdefault(event_id, Counter())[status] += 1
        if status in ACTIVE:
            active_per_user[(event_id, b["user_id"]["S"])] += 1
            assert markers.get(f"BOOKING#{event_id}#{b['user_id']['S']}") == (b["id"]["S"], status), b
        assert ("wl_event" in b) == (status == "waitlisted"), b
        _part_is_listed(b, events.get(event_id))
        _payment_is_consistent(b)
    assert all(n == 1 for n in active_per_user.values()), active_per_user
    assert len(markers) == sum(active_per_user.values())
    counters: dict[str, dict[int, dict]] = {}
    for item in _scan("sessions-local-seats", endpoint):  # `k` = `<event>#<shard>`: the attributes say which
        counters.setdefault(item["event_id"]["S"], {})[int(item["shard"]["N"])] = item
    for event_id, event in events.items():
        seats = sum(counts[event_id][s] for s in SEAT)
        _counters_are_consistent(event, counters.get(event_id, {}), bookings)
        assert counts[event_id]["waitlisted"] == int(counters[event_id][0]["waitlisted"]["N"]), event_id
        if "capacity" in event:
            assert seats <= int(event["capacity"]["N"]), (event_id, counts[event_id])
        _settlement_is_consistent(event, [b for b in bookings if b["event_id"]["S"] == event_id])
    return counts


def _part_is_listed(booking: dict, event: dict | None) -> None:
    """A booking sits in a part of its event's bookings that the lists read: below the event's `booking_parts`
    (absent: its `seat_shards`)."""
    event_id = booking["event_id"]["S"]
    name, part = booking["event_part"]["S"].rsplit("#", 1)
    assert name == event_id, booking
    if event is not None:
        counted = event.get("booking_parts") or event.get("seat_shards") or {"N": "1"}
        assert int(part) < max(int(counted["N"]), int(event.get("seat_shards", {"N": "1"})["N"])), (booking, event)


def _counters_are_consistent(event: dict, counters: dict[int, dict], bookings: list[dict]) -> None:
    """An event's seat counters: one per shard, each counting exactly the seats of the bookings it holds and
    no more than its share, the shares adding up to the capacity, each with the event's status and start."""
    event_id = event["id"]["S"]
    assert sorted(counters) == list(range(int(event.get("seat_shards", {"N": "1"})["N"]))), (event_id, counters)
    held: Counter = Counter(
        int(b.get("seat_shard", {"N": "0"})["N"])
        for b in bookings
        if b["event_id"]["S"] == event_id and b["status"]["S"] in SEAT
    )
    for shard, item in counters.items():
        assert int(item["booked"]["N"]) == held[shard], (event_id, shard, item, held)
        if "capacity" in item:
            assert int(item["booked"]["N"]) <= int(item["capacity"]["N"]), (event_id, item)
        assert item["status"] == event["status"], (event_id, item)
        assert item.get("starts_at") == event.get("starts_at"), (event_id, item)
    caps = [int(item["capacity"]["N"]) for item in counters.values() if "capacity" in item]
    if "capacity" in event:
        assert len(caps) == len(counters) and sum(caps) == int(event["capacity"]["N"]), (event_id, counters)
    else:
        assert caps == [], (event_id, counters)


def _settlement_is_consistent(event: dict, bookings: list[dict]) -> None:
    """A cancelled event's settlement: due until it completes, complete only once no booking is active, and its
    refund counts those of the bookings cancelled with it."""
    if "settle_total" not in event:
        assert "settle_due" not in event, event
        return
    assert event["status"]["S"] == "cancelled", event
    assert ("settle_due" in event) != ("settled_at" in event), event
    if "settled_at" in event:
        assert not any(b["status"]["S"] in ACTIVE for b in bookings), event
    with_event = Counter(
        b.get("refund_status", {}).get("S")
        for b in bookings
        if b.get("cancel_reason", {}).get("S") == "event_cancelled"
    )
    for status in ("pending", "succeeded", "failed"):
        assert int(event.get(f"refunds_{status}", {"N": "0"})["N"]) == with_event[status], (event, with_event)
