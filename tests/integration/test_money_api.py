"""Money where two features meet, over HTTP on moto against Stripe's local stand-in: a paid event cancelled with
paid, held and waiting bookings (settled by the sweep), payments of another amount, webhook bodies that are not
events, the refund action, and the audit of staff edits that change nothing. Every answer is checked against the
OpenAPI document, and the tables' invariants after each step."""

import json

import pytest

from chalicelib import bootstrap
from chalicelib.services import settlement
from devstack.payments import sign
from tests.support.faults import recorded_calls
from tests.support.invariants import check_booking_invariants
from tests.support.payments import WEBHOOK, WEBHOOK_SECRET


def _book(api, event, token, **kw):
    reply = api.post(f"/api/events/{event['id']}/bookings/", token=token, **kw)
    assert reply.status == 201, reply.json
    return reply.json


def _mine(api, token, booking_id):
    return next(b for b in api.get("/api/me/bookings/", token=token).json["results"] if b["id"] == booking_id)


def _sweep():
    return settlement.sweep(bootstrap.bookings(), bootstrap.events(), bootstrap.payment_terms(), budget_seconds=20)


def test_a_cancelled_paid_event_ends_with_every_booking_cancelled_and_every_payment_refunded_once(
    api, checkout, paid_event, creator_token, users
):
    event = paid_event(capacity=3)
    payers, holder, waiters = users(5)[:2], users(1, prefix="holder")[0], users(2, prefix="waiter")
    paid = []
    for token in payers:
        booking = _book(api, event, token)
        checkout.submit(booking["checkout_url"], "pay")
        paid.append(booking)
    held = _book(api, event, holder)
    waiting = [_book(api, event, token, body={"waitlist": True}) for token in waiters]
    mine = _mine(api, payers[0], paid[0]["id"])
    assert mine["refund_if_cancelled"] == {
        "refund": "full",
        "reason": "no_start_time",
        "full_refund_until": None,
        "amount": "12.50",
        "currency": "USD",
    }

    cancelled = api.patch(f"/api/events/{event['id']}/", {"status": "cancelled"}, token=creator_token).json
    started = cancelled["settlement"]
    assert (started["bookings"], started["settled"], started["completed_at"]) == (5, 0, None)
    assert api.get(f"/api/events/{event['id']}/", token=payers[0]).json["settlement"] is None  # the creator's
    # Deleting it now would take the event from under its attendees' bookings.
    assert api.delete(f"/api/events/{event['id']}/", token=creator_token).json["code"] == "event_has_bookings"
    check_booking_invariants()

    with recorded_calls() as calls:
        counts = _sweep()
    assert counts == {"bookings_settled": 5, "events_settled": 1} and "Scan" not in calls
    check_booking_invariants()
    for token, booking in [*zip(payers, paid, strict=True), (holder, held)]:
        after = _mine(api, token, booking["id"])
        assert (after["status"], after["cancel_reason"]) == ("cancelled", "event_cancelled")
        assert after["refund_if_cancelled"] is None
    assert [_mine(api, t, b["id"])["refund_status"] for t, b in zip(payers, paid, strict=True)] == ["succeeded"] * 2
    assert _mine(api, holder, held["id"])["refund_status"] is None
    assert {_mine(api, t, b["id"])["status"] for t, b in zip(waiters, waiting, strict=True)} == {"cancelled"}
    intents = sorted(checkout.session_of(b["checkout_url"])["payment_intent"] for b in paid)
    assert sorted(r["payment_intent"] for r in checkout.stand_in.refunds.values()) == intents
    assert {r["amount"] for r in checkout.stand_in.refunds.values()} == {1250}
    assert checkout.session_of(held["checkout_url"])["status"] == "expired"
    # The expired event the closing sent arrives after the booking was settled: nothing to do.
    assert [r.json["outcome"] for r in checkout.deliver()] == ["ignored"]

    done = api.get(f"/api/events/{event['id']}/", token=creator_token).json["settlement"]
    assert {k: v for k, v in done.items() if k not in ("started_at", "completed_at")} == {
        "bookings": 5,
        "settled": 5,
        "refunds_pending": 0,
        "refunds_succeeded": 2,
        "refunds_failed": 0,
    }
    assert done["completed_at"] is not None
    assert _sweep() == {}
    assert len(checkout.stand_in.refunds) == 2
    assert api.delete(f"/api/events/{event['id']}/", token=creator_token).status == 204


def test_an_attendee_cancelling_inside_the_cutoff_of_a_cancelled_event_is_refunded(
    api, checkout, paid_event, creator_token, user_token
):
    from datetime import UTC, datetime, timedelta

    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    event = paid_event(starts_at=soon)
    booking = _book(api, event, user_token)
    checkout.submit(booking["checkout_url"], "pay")
    assert _mine(api, user_token, booking["id"])["refund_if_cancelled"]["refund"] == "none"
    api.patch(f"/api/events/{event['id']}/", {"status": "cancelled"}, token=creator_token)
    preview = _mine(api, user_token, booking["id"])["refund_if_cancelled"]
    assert preview == {
        "refund": "full",
        "reason": "event_cancelled",
        "full_refund_until": None,
        "amount": "12.50",
        "currency": "USD",
    }
    cancelled = api.post(f"/api/bookings/{booking['id']}/cancel/", token=user_token).json
    assert (cancelled["refund_status"], cancelled["cancel_reason"]) == ("succeeded", "event_cancelled")
    check_booking_invariants()


def _signed(body: bytes):
    return {"Stripe-Signature": sign(body, WEBHOOK_SECRET), "Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[]", "Invalid webhook body: the body is not a Stripe event."),
        (b'[{"id": "evt_1"}]', "Invalid webhook body: the body is not a Stripe event."),
        (b'"evt_1"', "Invalid webhook body: the body is not a Stripe event."),
        (
            b'{"id": "evt_1", "type": "checkout.session.completed"}',
            "Invalid webhook body: the body is not a Stripe event.",
        ),
        (b'{"id": 7, "type": "x", "data": {"object": {}}}', "Invalid webhook body: the body is not a Stripe event."),
        (
            b'{"id": "evt_1", "type": "x", "data": {"object": []}}',
            "Invalid webhook body: the body is not a Stripe event.",
        ),
        (b"{not json", "Invalid webhook body: the body is not JSON."),
    ],
)
def test_a_validly_signed_body_that_is_not_an_event_answers_400(api, checkout, body, detail):
    reply = api.post(WEBHOOK, raw=body, headers=_signed(body))
    assert (reply.status, reply.json) == (400, {"detail": detail})


def test_a_payment_of_another_amount_or_currency_never_confirms_the_seat_and_is_refunded(
    api, checkout, paid_event, user_token, caplog
):
    event = paid_event()
    booking = _book(api, event, user_token)
    session = checkout.session_of(booking["checkout_url"])
    # A signed event saying the checkout was paid 1 JPY (the booking costs 12.50 USD).
    session.update(status="complete", payment_status="paid", payment_intent="pi_test_wrong", amount_total=1)
    session["currency"] = "jpy"
    body = json.dumps({"id": "evt_wrong", "object": "event", "type": "checkout.session.completed"})
    event_body = json.loads(body)
    event_body["data"] = {"object": dict(session)}
    reply = checkout.send(event_body)
    assert reply.json == {"event": "evt_wrong", "outcome": "applied"}
    after = _mine(api, user_token, booking["id"])
    assert (after["status"], after["refund_status"], after["checkout_url"]) == ("pending_payment", "succeeded", None)
    [refund] = checkout.stand_in.refunds.values()
    assert (refund["payment_intent"], refund["amount"], refund["currency"]) == ("pi_test_wrong", 1, "jpy")
    assert api.get(f"/api/events/{event['id']}/").json["seats_booked"] == 1  # still held, never confirmed
    assert "payment does not match its booking" in caplog.text
    check_booking_invariants()
    assert checkout.send(event_body).json["outcome"] == "duplicate"
    assert len(checkout.stand_in.refunds) == 1


def test_the_creator_refunds_a_seat_and_staff_a_late_cancellation_which_the_log_shows(
    api, checkout, paid_event, creator_token, staff_token, users
):
    from datetime import UTC, datetime, timedelta

    event = paid_event(starts_at=(datetime.now(UTC) + timedelta(hours=3)).isoformat())
    first, second = users(2)
    seat = _book(api, event, first)
    checkout.submit(seat["checkout_url"], "pay")
    late = _book(api, event, second)
    checkout.submit(late["checkout_url"], "pay")
    assert _mine(api, first, seat["id"])["refund_if_cancelled"]["reason"] == "after_cutoff"
    attendees = api.get(f"/api/events/{event['id']}/bookings/", token=creator_token).json["results"]
    assert {b["refund_if_cancelled"]["reason"] for b in attendees} == {"cancelled_by_organizer"}

    refunded = api.post(f"/api/bookings/{seat['id']}/refund/", token=creator_token)
    assert refunded.status == 200
    assert (refunded.json["status"], refunded.json["refund_status"], refunded.json["cancel_reason"]) == (
        "cancelled",
        "succeeded",
        "organizer",
    )
    again = api.post(f"/api/bookings/{seat['id']}/refund/", token=creator_token)
    assert (again.status, again.json["code"]) == (409, "nothing_to_refund")
    assert api.post(f"/api/bookings/{late['id']}/refund/", token=first).status == 403  # a USER: not a creator

    kept = api.post(f"/api/bookings/{late['id']}/cancel/", token=second).json
    assert kept["refund_status"] == "not_refundable"
    by_staff = api.post(f"/api/bookings/{late['id']}/refund/", token=staff_token).json
    assert by_staff["refund_status"] == "succeeded"
    [entry] = api.get("/api/admin/log/", token=staff_token).json["results"]
    assert (entry["action"], entry["object_id"], entry["changes"]) == (
        "booking.refund",
        late["id"],
        {"refund_status": ["not_refundable", "pending"]},
    )
    assert len(checkout.stand_in.refunds) == 2
    check_booking_invariants()


def test_a_staff_edit_that_changes_nothing_writes_nothing_and_logs_nothing(api, paid_event, staff_token):
    event = paid_event()
    same = {"title": event["title"], "price": "12.50", "capacity": 2}
    with recorded_calls() as calls:
        reply = api.patch(f"/api/events/{event['id']}/", same, token=staff_token)
    assert reply.status == 200 and reply.json["updated_at"] == event["updated_at"]
    assert [c for c in calls if c not in ("GetItem", "BatchGetItem")] == []
    assert api.get("/api/admin/log/", token=staff_token).json["results"] == []
    renamed = api.patch(f"/api/events/{event['id']}/", {"title": "Renamed"}, token=staff_token).json
    assert renamed["title"] == "Renamed"
    [entry] = api.get("/api/admin/log/", token=staff_token).json["results"]
    assert (entry["action"], entry["changes"]) == ("event.update", {"title": [event["title"], "Renamed"]})
