"""Read the tables directly (a maintenance Scan, tests only) and check the booking invariants: seats_booked equals
the confirmed bookings and never exceeds capacity, waitlisted equals the waiting ones, one active booking and one
marker per (event, user)."""

from __future__ import annotations

from collections import Counter

import boto3


def _scan(table: str, endpoint: str | None = None) -> list[dict]:
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    items: list[dict] = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return items


def check_booking_invariants(endpoint: str | None = None) -> dict[str, Counter]:
    """Assert, for every event: seats_booked == confirmed bookings <= capacity, waitlisted == waiting
    bookings, one active booking per user, one marker per active booking. Returns the counts per event."""
    events = {e["id"]["S"]: e for e in _scan("sessions-local-events", endpoint)}
    bookings = _scan("sessions-local-bookings", endpoint)
    markers = {
        m["key"]["S"]: m["owner"]["S"]
        for m in _scan("sessions-local-uniques", endpoint)
        if m["key"]["S"].startswith("BOOKING#")
    }
    counts: dict[str, Counter] = {event_id: Counter() for event_id in events}
    active_per_user: Counter = Counter()
    for b in bookings:
        event_id, status = b["event_id"]["S"], b["status"]["S"]
        counts.setdefault(event_id, Counter())[status] += 1
        if status != "cancelled":
            active_per_user[(event_id, b["user_id"]["S"])] += 1
            assert markers.get(f"BOOKING#{event_id}#{b['user_id']['S']}") == b["id"]["S"], b
        assert ("wl_event" in b) == (status == "waitlisted"), b
    assert all(n == 1 for n in active_per_user.values()), active_per_user
    assert len(markers) == sum(active_per_user.values())
    for event_id, event in events.items():
        confirmed = counts[event_id]["confirmed"]
        assert int(event["seats_booked"]["N"]) == confirmed, (event_id, event["seats_booked"], counts[event_id])
        assert int(event.get("waitlisted", {"N": "0"})["N"]) == counts[event_id]["waitlisted"]
        if "capacity" in event:
            assert confirmed <= int(event["capacity"]["N"])
    return counts
