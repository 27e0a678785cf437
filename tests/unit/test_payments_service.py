"""Paid events over the fakes: held seats, checkouts, webhook events, the sweep and refunds."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.common import utcnow
from chalicelib.domain.enums import BookingStatus, RefundStatus
from chalicelib.domain.money import minor_units
from chalicelib.errors import Conflict, ServiceUnavailable, ValidationFailed
from chalicelib.ports.payments import ProviderEvent
from chalicelib.services import bookings, events, settlement
from chalicelib.services.bookings import IdempotentRequest
from chalicelib.services.payments import MIN_CHECKOUT_SECONDS, PaymentTerms
from chalicelib.services.settlement import COMPLETED, EXPIRED, Outcome
from tests.support.factories import creator, principal
from tests.support.fakes import FakeBookings, FakeEvents, FakePayments, FakeRecords

HOLD = 900


@pytest.fixture
def world():
    event_repo = FakeEvents()
    booking_repo = FakeBookings(event_repo)
    provider = FakePayments()
    terms = PaymentTerms(provider, hold_seconds=HOLD, refund_cutoff_seconds=24 * 3600)
    return event_repo, booking_repo, FakeRecords(booking_repo), provider, terms


def _paid_event(world, owner=None, **fields):
    values = {"title": "Paid", "description": "D", "price": Decimal("12.50"), "capacity": 2, **fields}
    return events.create_event(world[0], owner or creator(), values)


def _book(world, who, event, waitlist=False, key=None):
    event_repo, booking_repo, records, _, terms = world
    request = IdempotentRequest(key, {"waitlist": waitlist}) if key else None
    return bookings.book(
        event_repo, booking_repo, records, who, event.id, waitlist=waitlist, request=request, terms=terms
    )


def _cancel(world, who, booking_id):
    event_repo, booking_repo, records, _, terms = world
    return bookings.cancel(booking_repo, event_repo, records, who, booking_id, terms=terms)


def _event(kind, booking, paid=True, event_id=None, amount=None, currency=None):
    """A provider event about `booking`'s checkout; a completed one paid the booking's price unless told."""
    session = booking.payment.checkout_session
    intent = f"pi_{session}" if kind == COMPLETED else None
    amount = booking.payment.amount if amount is None and kind == COMPLETED else amount
    currency = (currency or booking.payment.currency).lower() if kind == COMPLETED else None
    event_id = event_id or f"evt_{kind}_{booking.id}"
    return ProviderEvent(event_id, kind, session, booking.id, paid, intent, amount, currency)


def _handle(world, event):
    return settlement.handle_event(world[1], world[0], world[4], event)


def _pay(world, booking):
    """The customer pays at the provider, which then sends `completed`."""
    world[3].pay(booking.payment.checkout_session)
    return _handle(world, _event(COMPLETED, booking))


def _seats(world, event):
    current = world[0].get(event.id)
    return current.seats_booked, current.waitlisted


# Amounts.


@pytest.mark.parametrize(
    ("price", "currency", "amount"),
    [("12.50", "USD", 1250), ("1500", "JPY", 1500), ("5.25", "KWD", 5250), ("0.99", "EUR", 99), ("300", "ISK", 30000)],
)
def test_amounts_are_in_the_currencys_minor_unit(price, currency, amount):
    assert minor_units(Decimal(price), currency) == amount


@pytest.mark.parametrize("currency", ["JPY", "KRW", "ISK"])
def test_a_fraction_of_a_whole_unit_currency_is_refused_when_the_event_is_made(world, currency):
    with pytest.raises(ValidationFailed) as caught:
        _paid_event(world, price=Decimal("1500.50"), currency=currency)
    assert caught.value.errors == {
        "price": [f"{currency} is charged in whole units: the price must be a whole number."]
    }


# Booking a paid event.


def test_booking_a_paid_event_holds_the_seat_and_answers_its_checkout(world):
    event = _paid_event(world)
    who = principal()
    before = utcnow()
    result = _book(world, who, event)
    booking = result.booking
    assert booking.status is BookingStatus.PENDING_PAYMENT
    assert _seats(world, event) == (1, 0)  # the hold counts
    assert booking.checkout_url == f"https://pay.test/cs_{booking.id}"
    assert before + timedelta(seconds=HOLD) <= booking.hold_expires_at <= utcnow() + timedelta(seconds=HOLD)
    [session] = world[3].sessions.values()
    request = session["request"]
    assert (request.booking_id, request.amount, request.currency, request.title) == (booking.id, 1250, "USD", "Paid")
    # Stripe's minimum lifetime (30 minutes) is longer than the hold: the checkout lives that long from the
    # hold's start, and the sweep closes it when the hold ends.
    started = booking.hold_expires_at - timedelta(seconds=HOLD)
    assert request.expires_at == int((started + timedelta(seconds=MIN_CHECKOUT_SECONDS)).timestamp())
    assert world[1].get(booking.id).checkout_url == booking.checkout_url
    assert result.event.online_url is None or not event.online_url  # no link before paying


def test_a_hold_longer_than_the_providers_minimum_is_the_checkouts_expiry(world):
    terms = replace(world[4], hold_seconds=3600)
    world = (*world[:4], terms)
    booking = _book(world, principal(), _paid_event(world)).booking
    [session] = world[3].sessions.values()
    assert session["request"].expires_at == int(booking.hold_expires_at.timestamp())


def test_holds_and_confirmed_seats_together_never_exceed_capacity(world):
    event = _paid_event(world, capacity=2)
    first = _book(world, principal(), event).booking
    _book(world, principal(), event)
    with pytest.raises(Conflict) as full:
        _book(world, principal(), event)
    assert full.value.code == "event_full"
    _pay(world, first)
    assert _seats(world, event) == (2, 0)
    waiting = _book(world, principal(), event, waitlist=True).booking
    assert (waiting.status, waiting.payment, _seats(world, event)) == (BookingStatus.WAITLISTED, None, (2, 1))


def test_an_unreachable_provider_undoes_the_hold_and_the_stored_result(world):
    event = _paid_event(world, capacity=1)
    world[3].failing = True
    with pytest.raises(ServiceUnavailable):
        _book(world, principal(), event, key="k1")
    assert (world[1].by_id, world[1].records, _seats(world, event)) == ({}, {}, (0, 0))


def test_a_refused_payment_undoes_the_hold(world):
    event = _paid_event(world, capacity=1)
    world[3].refusing = True
    with pytest.raises(Conflict) as refused:
        _book(world, principal(), event)
    assert (refused.value.code, world[1].by_id, _seats(world, event)) == ("payment_refused", {}, (0, 0))


def test_a_retried_request_gets_the_same_booking_and_the_same_checkout(world):
    event = _paid_event(world)
    who = principal()
    first = _book(world, who, event, key="pay-1")
    again = _book(world, who, event, key="pay-1")
    assert again.replayed and again.booking.id == first.booking.id
    assert again.booking.checkout_url == first.booking.checkout_url
    assert len(world[3].sessions) == 1


def test_a_retry_completes_a_checkout_that_the_first_request_never_stored(world):
    event = _paid_event(world)
    who = principal()
    first = _book(world, who, event, key="pay-2").booking
    # As if the first request had died between the hold and its checkout.
    world[1].by_id[first.id] = replace(first, payment=replace(first.payment, checkout_url=None, checkout_session=None))
    again = _book(world, who, event, key="pay-2").booking
    assert again.checkout_url == first.checkout_url and len(world[3].sessions) == 1


def test_the_checkout_link_is_its_owners_alone(world):
    owner = creator()
    event = _paid_event(world, owner)
    who = principal()
    booking = _book(world, who, event).booking
    attendees = bookings.event_bookings(world[1], world[0], owner, event.id, limit=10, start=None).items
    mine = bookings.my_bookings(world[1], world[0], who, limit=10, start=None).items
    assert [r.booking.checkout_url for r in attendees] == [None]
    assert [r.booking.checkout_url for r in mine] == [booking.checkout_url]


# Webhook events.


def test_completed_confirms_and_shows_the_link_and_a_repeat_changes_nothing(world):
    event = _paid_event(world, online_url="https://meet.example.com/paid")
    who = principal()
    booking = _book(world, who, event).booking
    assert events.get_event(world[0], event.id, who).online_url is None
    assert _pay(world, booking) is Outcome.APPLIED
    assert world[1].get(booking.id).status is BookingStatus.CONFIRMED
    assert world[1].get(booking.id).payment.payment_intent == f"pi_{booking.payment.checkout_session}"
    assert events.get_event(world[0], event.id, who).online_url == "https://meet.example.com/paid"
    assert _handle(world, _event(COMPLETED, booking)) is Outcome.DUPLICATE
    assert _handle(world, _event(EXPIRED, booking)) is Outcome.IGNORED  # out of order: already paid
    assert _seats(world, event) == (1, 0)


def test_expired_frees_the_seat_for_the_oldest_waiting_who_gets_a_hold_and_a_checkout(world):
    event = _paid_event(world, capacity=1)
    holder = _book(world, principal(), event).booking
    waiting = _book(world, principal(), event, waitlist=True).booking
    assert _handle(world, _event(EXPIRED, holder)) is Outcome.APPLIED
    assert world[1].get(holder.id).status is BookingStatus.EXPIRED
    promoted = world[1].get(waiting.id)
    assert promoted.status is BookingStatus.PENDING_PAYMENT and promoted.checkout_url is not None
    assert _seats(world, event) == (1, 0)
    assert world[0].get(event.id).seats_booked == 1


def test_a_payment_after_the_hold_expired_is_refunded(world):
    event = _paid_event(world)
    booking = _book(world, principal(), event).booking
    _handle(world, _event(EXPIRED, booking))
    assert _handle(world, _event(COMPLETED, booking)) is Outcome.APPLIED
    late = world[1].get(booking.id)
    assert (late.status, late.refund_status) == (BookingStatus.EXPIRED, RefundStatus.SUCCEEDED)
    assert world[3].refunds == {booking.id: (f"pi_{booking.payment.checkout_session}", 1250)}
    assert _seats(world, event) == (0, 0)
    assert _handle(world, _event(COMPLETED, booking, event_id="evt_other")) is Outcome.IGNORED


def test_events_of_unknown_bookings_or_checkouts_change_nothing(world):
    booking = _book(world, principal(), _paid_event(world)).booking
    stranger = replace(_event(COMPLETED, booking), booking_id="01M8DJKSQ4WJA7GH71FHCTVASD")
    other_session = replace(_event(COMPLETED, booking), session_id="cs_someone_else")
    other_type = replace(_event(COMPLETED, booking), type="payment_intent.created")
    assert [_handle(world, e) for e in (stranger, other_session, other_type)] == [Outcome.IGNORED] * 3
    assert world[1].get(booking.id).status is BookingStatus.PENDING_PAYMENT


# Cancelling and refunds.


def test_cancelling_a_hold_frees_the_seat_and_closes_its_checkout(world):
    event = _paid_event(world)
    who = principal()
    booking = _book(world, who, event).booking
    cancelled = _cancel(world, who, booking.id).booking
    assert (cancelled.status, cancelled.refund_status, _seats(world, event)) == (BookingStatus.CANCELLED, None, (0, 0))
    assert world[3].sessions[booking.payment.checkout_session]["status"] == "expired"


def _confirmed(world, starts_in_hours, owner=None):
    event = _paid_event(world, owner, starts_at=utcnow() + timedelta(hours=starts_in_hours))
    who = principal()
    booking = _book(world, who, event).booking
    _pay(world, booking)
    return event, who, booking


def test_the_owner_is_refunded_in_full_until_the_cutoff(world):
    event, who, booking = _confirmed(world, starts_in_hours=48)
    cancelled = _cancel(world, who, booking.id).booking
    assert (cancelled.status, cancelled.refund_status) == (BookingStatus.CANCELLED, RefundStatus.SUCCEEDED)
    assert world[3].refunds[booking.id][1] == 1250 and _seats(world, event) == (0, 0)


def test_the_owner_is_not_refunded_after_the_cutoff_but_is_when_the_creator_cancels(world):
    owner = creator()
    _, who, late = _confirmed(world, starts_in_hours=2, owner=owner)
    assert _cancel(world, who, late.id).booking.refund_status is RefundStatus.NOT_REFUNDABLE
    _, _, other = _confirmed(world, starts_in_hours=2, owner=owner)
    assert _cancel(world, owner, other.id).booking.refund_status is RefundStatus.SUCCEEDED
    assert list(world[3].refunds) == [other.id]


def test_a_refund_the_provider_cannot_take_stays_owed_and_the_sweep_retries_it(world):
    event, who, booking = _confirmed(world, starts_in_hours=48)
    world[3].failing = True
    cancelled = _cancel(world, who, booking.id).booking
    # The seat is free and the refund owed, durably: never one without the other.
    assert (cancelled.refund_status, _seats(world, event)) == (RefundStatus.PENDING, (0, 0))
    assert world[1].due("refund", "9999", 10) == [world[1].get(booking.id)]
    world[3].failing = False
    assert settlement.sweep(world[1], world[0], world[4], budget_seconds=5, now=utcnow() + timedelta(hours=1)) == {
        "refunds_succeeded": 1
    }
    assert world[1].get(booking.id).refund_status is RefundStatus.SUCCEEDED
    assert world[1].due("refund", "9999", 10) == []


# The sweep.


def _sweep(world, minutes):
    return settlement.sweep(world[1], world[0], world[4], budget_seconds=5, now=utcnow() + timedelta(minutes=minutes))


def test_the_sweep_ends_holds_past_their_time_only(world):
    event = _paid_event(world, capacity=3)
    booking = _book(world, principal(), event).booking
    assert _sweep(world, 10) == {}
    assert _sweep(world, 16) == {"holds_expired": 1}
    assert world[1].get(booking.id).status is BookingStatus.EXPIRED
    assert world[3].sessions[booking.payment.checkout_session]["status"] == "expired"
    assert _seats(world, event) == (0, 0)


def test_the_sweep_confirms_a_hold_paid_whose_webhook_never_came(world):
    event = _paid_event(world)
    booking = _book(world, principal(), event).booking
    world[3].pay(booking.payment.checkout_session)
    assert _sweep(world, 16) == {"holds_paid": 1}
    assert world[1].get(booking.id).status is BookingStatus.CONFIRMED
    assert _seats(world, event) == (1, 0)


def test_while_the_provider_is_down_the_sweep_keeps_holds_until_their_checkout_cannot_be_paid(world):
    event = _paid_event(world)
    booking = _book(world, principal(), event).booking
    world[3].failing = True
    assert _sweep(world, 16) == {"holds_kept": 1}
    assert world[1].get(booking.id).status is BookingStatus.PENDING_PAYMENT
    assert _sweep(world, 32) == {"holds_expired": 1}  # past the checkout's own 31 minutes
    assert _seats(world, event) == (0, 0)


def test_a_hold_without_a_checkout_simply_ends(world):
    event = _paid_event(world)
    booking = _book(world, principal(), event).booking
    stored = world[1].by_id[booking.id]
    world[1].by_id[booking.id] = replace(stored, payment=replace(stored.payment, checkout_session=None))
    assert _sweep(world, 16) == {"holds_expired": 1}


def test_free_events_book_as_before(world):
    event = events.create_event(world[0], creator(), {"title": "Free", "description": "D", "capacity": 1})
    result = _book(world, principal(), event)
    assert (result.booking.status, result.booking.payment, world[3].sessions) == (BookingStatus.CONFIRMED, None, {})


def test_expiry_never_leaves_the_hold_in_the_index(world):
    booking = _book(world, principal(), _paid_event(world)).booking
    far = datetime(2999, 1, 1, tzinfo=UTC).isoformat()
    assert [b.id for b in world[1].due("hold", far, 10)] == [booking.id]
    _handle(world, _event(EXPIRED, booking))
    assert world[1].due("hold", far, 10) == []
