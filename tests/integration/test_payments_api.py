"""Paid events through the gateway emulation, on moto, against Stripe's local stand-in (devstack/payments.py):
the real adapter (stripe-python), real signatures, the webhook and the sweep. The tables' invariants are checked
after each step."""

import json
from datetime import UTC, datetime, timedelta

from chalicelib import bootstrap
from chalicelib.services import settlement
from tests.support.faults import recorded_calls
from tests.support.invariants import check_booking_invariants
from tests.support.payments import WEBHOOK
from tests.support.retry import RETRY_AFTER


def _book(api, event, token, **kw):
    return api.post(f"/api/events/{event['id']}/bookings/", token=token, **kw)


def _booking(api, token, booking_id):
    return next(b for b in api.get("/api/me/bookings/", token=token).json["results"] if b["id"] == booking_id)


def _seats(api, event):
    return api.get(f"/api/events/{event['id']}/").json["seats_booked"]


def test_booking_a_paid_event_holds_the_seat_and_answers_a_stripe_checkout(api, checkout, paid_event, user_token):
    event = paid_event()
    reply = _book(api, event, user_token)
    assert reply.status == 201, reply.json
    booking = reply.json
    assert (booking["status"], booking["refund_status"], booking["cancelled_at"]) == ("pending_payment", None, None)
    assert booking["checkout_url"].startswith("http://127.0.0.1:") and "/c/pay/cs_test_" in booking["checkout_url"]
    hold_end = datetime.fromisoformat(booking["hold_expires_at"].replace("Z", "+00:00"))
    created = datetime.fromisoformat(booking["created_at"].replace("Z", "+00:00"))
    assert hold_end - created == timedelta(seconds=900)
    session = checkout.session_of(booking["checkout_url"])
    assert (session["client_reference_id"], session["amount_total"], session["currency"]) == (
        booking["id"],
        1250,
        "usd",
    )
    # Stripe's minimum lifetime is 30 minutes: the session outlives the 15-minute hold (the sweep closes it).
    assert session["expires_at"] == int((created + timedelta(minutes=31)).timestamp())
    assert checkout.stand_in.idempotent.keys() == {f"checkout-{booking['id']}"}
    assert _seats(api, event) == 1
    check_booking_invariants()


def test_zero_decimal_currencies_are_charged_in_whole_units(api, checkout, paid_event, user_token):
    event = paid_event(price="1500", currency="JPY")
    booking = _book(api, event, user_token).json
    assert checkout.session_of(booking["checkout_url"])["amount_total"] == 1500


def test_paying_through_the_checkout_page_confirms_and_a_repeat_changes_nothing(api, checkout, paid_event, user_token):
    event = paid_event(online_url="https://meet.example.com/paid-room")
    booking = _book(api, event, user_token).json
    assert api.get(f"/api/events/{event['id']}/", token=user_token).json["online_url"] is None
    [reply] = checkout.submit(booking["checkout_url"], "pay")
    [sent] = checkout.events("checkout.session.completed")
    assert (reply.status, reply.json) == (200, {"event": sent["id"], "outcome": "applied"})
    paid = _booking(api, user_token, booking["id"])
    assert (paid["status"], paid["checkout_url"], paid["hold_expires_at"]) == ("confirmed", None, None)
    assert api.get(f"/api/events/{event['id']}/", token=user_token).json["online_url"] == event["online_url"]
    check_booking_invariants()
    # The same event delivered again (Stripe retries until it sees a 2xx): applied once only.
    again = checkout.send(sent)
    assert (again.status, again.json) == (200, {"event": sent["id"], "outcome": "duplicate"})
    assert _seats(api, event) == 1
    check_booking_invariants()


def test_abandoning_the_checkout_frees_the_seat_for_the_oldest_waiting(api, checkout, paid_event, users):
    event = paid_event(capacity=1)
    holder, waiter = users(2)
    booking = _book(api, event, holder).json
    waiting = _book(api, event, waiter, body={"waitlist": True}).json
    assert waiting["status"] == "waitlisted"
    [reply] = checkout.submit(booking["checkout_url"], "cancel")
    assert reply.json["outcome"] == "applied"
    assert _booking(api, holder, booking["id"])["status"] == "expired"
    promoted = _booking(api, waiter, waiting["id"])
    assert promoted["status"] == "pending_payment" and promoted["checkout_url"] is not None
    assert _seats(api, event) == 1
    check_booking_invariants()
    checkout.submit(promoted["checkout_url"], "pay")
    assert _booking(api, waiter, waiting["id"])["status"] == "confirmed"
    check_booking_invariants()


def test_a_forged_or_missing_signature_is_refused_and_changes_nothing(api, checkout, paid_event, user_token):
    booking = _book(api, paid_event(), user_token).json
    session = checkout.session_of(booking["checkout_url"])
    event = {
        "id": "evt_forged",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {**session, "status": "complete", "payment_status": "paid", "payment_intent": "pi_x"}},
    }
    forged = checkout.send(event, secret="whsec_someone_else")
    assert (forged.status, forged.json) == (
        400,
        {"detail": "Invalid Stripe-Signature: No signatures found matching the expected signature for payload."},
    )
    missing = checkout.send(event, signature="")
    assert missing.status == 400 and missing.json["detail"].startswith("Invalid Stripe-Signature: No Stripe-Signature")
    stale = checkout.send(event, signature=_stale_signature(event))
    assert stale.status == 400 and "tolerance" in stale.json["detail"]
    garbage = checkout.send(event, signature="t=abc,v1=zz")
    assert garbage.status == 400
    assert _booking(api, user_token, booking["id"])["status"] == "pending_payment"
    check_booking_invariants()


def _stale_signature(event):
    from devstack.payments import sign
    from tests.support.payments import WEBHOOK_SECRET

    return sign(json.dumps(event).encode(), WEBHOOK_SECRET, timestamp=int(datetime.now(UTC).timestamp()) - 3600)


def test_a_signature_over_other_bytes_is_refused(api, checkout, paid_event, user_token):
    from devstack.payments import sign
    from tests.support.payments import WEBHOOK_SECRET

    booking = _book(api, paid_event(), user_token).json
    event = {"id": "evt_1", "object": "event", "type": "checkout.session.expired", "data": {"object": {}}}
    body = json.dumps(event).encode()
    tampered = body.replace(b"evt_1", b"evt_2")
    reply = api.post(WEBHOOK, raw=tampered, headers={"Stripe-Signature": sign(body, WEBHOOK_SECRET)})
    assert reply.status == 400
    assert _booking(api, user_token, booking["id"])["status"] == "pending_payment"


def test_events_for_unknown_bookings_and_other_types_change_nothing(api, checkout, paid_event, user_token):
    booking = _book(api, paid_event(), user_token).json
    session = checkout.session_of(booking["checkout_url"])
    unknown = {"id": "evt_u", "object": "event", "type": "checkout.session.completed"}
    unknown["data"] = {"object": {**session, "client_reference_id": "01M8DJKSQ4WJA7GH71FHCTVASD"}}
    other = {"id": "evt_o", "object": "event", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
    for event in (unknown, other):
        reply = checkout.send(event)
        assert (reply.status, reply.json) == (200, {"event": event["id"], "outcome": "ignored"})
    assert _booking(api, user_token, booking["id"])["status"] == "pending_payment"
    check_booking_invariants()


def test_out_of_order_an_expired_after_completed_changes_nothing(api, checkout, paid_event, user_token):
    event = paid_event()
    booking = _book(api, event, user_token).json
    checkout.submit(booking["checkout_url"], "pay")
    session = checkout.session_of(booking["checkout_url"])
    late = {"id": "evt_late", "object": "event", "type": "checkout.session.expired", "data": {"object": session}}
    assert checkout.send(late).json == {"event": "evt_late", "outcome": "ignored"}
    assert _booking(api, user_token, booking["id"])["status"] == "confirmed" and _seats(api, event) == 1
    check_booking_invariants()


def test_a_payment_completed_after_the_hold_expired_is_refunded(api, checkout, paid_event, user_token):
    event = paid_event()
    booking = _book(api, event, user_token).json
    checkout.submit(booking["checkout_url"], "cancel")  # expired: the seat is free again
    session = checkout.session_of(booking["checkout_url"])
    # As if the customer's payment went through in the very last moment and its event came late.
    session.update(status="complete", payment_status="paid", payment_intent="pi_test_late")
    late = {"id": "evt_paid_late", "object": "event", "type": "checkout.session.completed"}
    late["data"] = {"object": dict(session)}
    assert checkout.send(late).json == {"event": "evt_paid_late", "outcome": "applied"}
    expired = _booking(api, user_token, booking["id"])
    assert (expired["status"], expired["refund_status"]) == ("expired", "succeeded")
    [refund] = checkout.stand_in.refunds.values()
    assert (refund["payment_intent"], refund["amount"]) == ("pi_test_late", 1250)
    assert _seats(api, event) == 0
    check_booking_invariants()
    assert checkout.send(late).json["outcome"] == "duplicate"
    assert len(checkout.stand_in.refunds) == 1


def test_cancelling_a_hold_frees_the_seat_and_closes_its_checkout(api, checkout, paid_event, user_token):
    event = paid_event()
    booking = _book(api, event, user_token).json
    cancelled = api.post(f"/api/bookings/{booking['id']}/cancel/", token=user_token).json
    assert (cancelled["status"], cancelled["refund_status"], cancelled["checkout_url"]) == ("cancelled", None, None)
    assert checkout.session_of(booking["checkout_url"])["status"] == "expired"
    [reply] = checkout.deliver()  # the expired event the closing sent: the booking is final already
    assert reply.json["outcome"] == "ignored"
    assert _seats(api, event) == 0
    check_booking_invariants()


def _paid_booking(api, checkout, event, token):
    booking = _book(api, event, token).json
    checkout.submit(booking["checkout_url"], "pay")
    return booking


def test_cancelling_a_paid_booking_refunds_it_in_full_until_24_hours_before_the_start(
    api, checkout, paid_event, user_token
):
    event = paid_event(starts_at=(datetime.now(UTC) + timedelta(days=3)).isoformat())
    booking = _paid_booking(api, checkout, event, user_token)
    reply = api.post(f"/api/bookings/{booking['id']}/cancel/", token=user_token)
    assert (reply.status, reply.json["status"], reply.json["refund_status"]) == (200, "cancelled", "succeeded")
    [refund] = checkout.stand_in.refunds.values()
    assert refund["amount"] == 1250 and checkout.stand_in.idempotent.get(f"refund-{booking['id']}")
    check_booking_invariants()


def test_a_late_cancellation_by_its_owner_is_not_refunded_but_one_by_the_creator_is(
    api, checkout, paid_event, users, creator_token
):
    event = paid_event(starts_at=(datetime.now(UTC) + timedelta(hours=3)).isoformat())
    late, other = users(2)
    mine = _paid_booking(api, checkout, event, late)
    theirs = _paid_booking(api, checkout, event, other)
    kept = api.post(f"/api/bookings/{mine['id']}/cancel/", token=late).json
    assert kept["refund_status"] == "not_refundable"
    refunded = api.post(f"/api/bookings/{theirs['id']}/cancel/", token=creator_token).json
    assert refunded["refund_status"] == "succeeded"
    assert len(checkout.stand_in.refunds) == 1
    check_booking_invariants()


def test_a_refund_stripe_cannot_take_stays_owed_with_the_seat_freed_and_the_sweep_issues_it(
    api, checkout, paid_event, user_token
):
    event = paid_event()
    booking = _paid_booking(api, checkout, event, user_token)
    checkout.stand_in.paused = True
    reply = api.post(f"/api/bookings/{booking['id']}/cancel/", token=user_token)
    assert (reply.status, reply.json["refund_status"]) == (200, "pending")
    assert _seats(api, event) == 0
    check_booking_invariants()
    checkout.stand_in.paused = False
    later = datetime.now(UTC) + timedelta(hours=2)
    counts = settlement.sweep(
        bootstrap.bookings(), bootstrap.events(), bootstrap.payment_terms(), budget_seconds=10, now=later
    )
    assert counts == {"refunds_succeeded": 1}
    assert _booking(api, user_token, booking["id"])["refund_status"] == "succeeded"
    check_booking_invariants()


def test_an_unreachable_stripe_undoes_the_hold_and_answers_503(api, checkout, paid_event, user_token):
    event = paid_event(capacity=1)
    checkout.stand_in.paused = True
    reply = api.post(f"/api/events/{event['id']}/bookings/", token=user_token, headers={"Idempotency-Key": "pay-once"})
    assert (reply.status, reply.json) == (503, {"detail": "The payment provider is unavailable; try again."})
    assert reply.headers["retry-after"] in RETRY_AFTER
    assert _seats(api, event) == 0 and api.get("/api/me/bookings/", token=user_token).json["results"] == []
    checkout.stand_in.paused = False
    again = api.post(f"/api/events/{event['id']}/bookings/", token=user_token, headers={"Idempotency-Key": "pay-once"})
    assert (again.status, again.json["status"]) == (201, "pending_payment")
    check_booking_invariants()


def test_a_retried_booking_request_gets_the_same_checkout(api, checkout, paid_event, user_token):
    event = paid_event()
    key = {"Idempotency-Key": "book-paid"}
    first = api.post(f"/api/events/{event['id']}/bookings/", token=user_token, headers=key)
    again = api.post(f"/api/events/{event['id']}/bookings/", token=user_token, headers=key)
    assert (again.status, again.headers["idempotent-replayed"]) == (201, "true")
    assert again.json["checkout_url"] == first.json["checkout_url"] and len(checkout.stand_in.sessions) == 1


def test_the_sweep_expires_holds_that_never_got_a_webhook_from_the_index(api, checkout, paid_event, users):
    event = paid_event(capacity=1)
    holder, waiter = users(2)
    booking = _book(api, event, holder).json
    waiting = _book(api, event, waiter, body={"waitlist": True}).json
    terms = bootstrap.payment_terms()
    now = datetime.now(UTC)
    with recorded_calls() as calls:
        early = settlement.sweep(bootstrap.bookings(), bootstrap.events(), terms, budget_seconds=10, now=now)
    # One Query per index of work due: holds, cancelled events to settle, refunds; and the refunds owed, for the
    # OldestRefundOwedSeconds metric.
    assert early == {} and calls == ["Query", "Query", "Query", "Query"]
    later = now + timedelta(minutes=16)
    with recorded_calls() as calls:
        counts = settlement.sweep(bootstrap.bookings(), bootstrap.events(), terms, budget_seconds=10, now=later)
    assert counts == {"holds_expired": 1} and "Scan" not in calls
    assert checkout.session_of(booking["checkout_url"])["status"] == "expired"
    assert _booking(api, holder, booking["id"])["status"] == "expired"
    assert _booking(api, waiter, waiting["id"])["status"] == "pending_payment"
    check_booking_invariants()
    replies = checkout.deliver()  # Stripe's expired event for the session the sweep closed: nothing left to do
    assert [r.json["outcome"] for r in replies] == ["ignored"]
    check_booking_invariants()


def test_the_sweep_confirms_a_paid_hold_whose_webhook_was_lost(api, checkout, paid_event, user_token):
    event = paid_event()
    booking = _book(api, event, user_token).json
    checkout.submit(booking["checkout_url"], "pay")
    # Reset the booking as if the completed event had never arrived.
    checkout.outbox.clear()
    from chalicelib.persistence.models.bookings import BookingModel
    from chalicelib.persistence.models.uniques import UniqueModel

    item = BookingModel.get(booking["id"])
    item.update(
        actions=[
            BookingModel.status.set("pending_payment"),
            BookingModel.payment_intent.remove(),
            BookingModel.pay_due.set("HOLD"),
            BookingModel.pay_due_sk.set(f"{item.hold_expires_at}#{item.id}"),
        ]
    )
    marker = next(m for m in UniqueModel.scan() if m.owner == booking["id"])
    marker.update(actions=[UniqueModel.status.set("pending_payment")])
    later = datetime.now(UTC) + timedelta(minutes=16)
    terms = bootstrap.payment_terms()
    counts = settlement.sweep(bootstrap.bookings(), bootstrap.events(), terms, budget_seconds=10, now=later)
    assert counts == {"holds_paid": 1}
    assert _booking(api, user_token, booking["id"])["status"] == "confirmed"
    check_booking_invariants()


def test_the_webhook_reads_the_booking_and_its_event_record_together_then_writes_once(
    api, checkout, paid_event, user_token
):
    booking = _book(api, paid_event(), user_token).json
    checkout.stand_in.submit(booking["checkout_url"].rsplit("/", 1)[1], "pay")
    with recorded_calls() as calls:
        checkout.deliver()
    assert calls == ["TransactGetItems", "TransactWriteItems"]


def test_a_paid_booking_makes_one_read_one_transaction_and_stores_its_checkout(api, checkout, paid_event, user_token):
    event = paid_event()
    with recorded_calls() as calls:
        assert _book(api, event, user_token).status == 201
    assert calls[1:] == ["BatchGetItem", "TransactWriteItems", "UpdateItem"]


def test_without_payments_configured_a_paid_event_cannot_be_booked(api, paid_event, user_token):
    reply = _book(api, paid_event(), user_token)
    assert (reply.status, reply.json) == (503, {"detail": "Payments are not configured."})
    check_booking_invariants()
