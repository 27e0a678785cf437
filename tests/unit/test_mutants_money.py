"""Money at the edges mutation testing found untested, over the fakes: two conditions at once (a provider that
fails once in a run of many, a payment at its exact deadline, a settlement resumed mid-way), the exact lines
logged when the provider fails, and the sweep's budget read from an injected clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from chalicelib.domain.common import iso, utcnow
from chalicelib.domain.enums import BookingStatus, CancelReason, RefundReason, RefundStatus
from chalicelib.errors import Busy, Conflict, ServiceUnavailable
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.payments import PaymentUnavailable, ProviderEvent
from chalicelib.services import bookings, event_settlement, events, payments, settlement
from chalicelib.services.payments import PaymentTerms
from chalicelib.services.settlement import COMPLETED, EXPIRED, Outcome
from chalicelib.services.uploads import Media
from tests.support.factories import creator, principal
from tests.support.fakes import (
    FakeAudit,
    FakeBookings,
    FakeEvents,
    FakeObjectStore,
    FakePayments,
    FakeRecords,
    fail_first,
)
from tests.support.logs import Records, attached

HOLD = 900
CUTOFF = 24 * 3600
UNREACHABLE = {"error": "PaymentUnavailable", "reason": "unreachable (test)"}


class World:
    """The fakes wired together, with the moves a test makes."""

    def __init__(self) -> None:
        self.audit = FakeAudit()
        self.events = FakeEvents(self.audit)
        self.bookings = FakeBookings(self.events)
        self.records = FakeRecords(self.bookings)
        self.provider = FakePayments()
        self.terms = PaymentTerms(self.provider, hold_seconds=HOLD, refund_cutoff_seconds=CUTOFF)
        self.media = Media(self.events.uploads, FakeObjectStore())
        self.owner = creator(username="organizer")

    def event(self, starts_in_hours: float = 48, **fields):
        values = {"title": "Paid", "description": "D", "price": Decimal("12.50"), "capacity": 50, **fields}
        values["starts_at"] = utcnow() + timedelta(hours=starts_in_hours)
        return events.create_event(self.events, self.owner, values)

    def book(self, who, event, waitlist=False):
        return bookings.book(
            self.events, self.bookings, self.records, who, event.id, waitlist=waitlist, terms=self.terms
        ).booking

    def paid(self, event):
        held = self.book(principal(), event)
        self.provider.pay(held.payment.checkout_session)
        assert self.webhook(COMPLETED, held) is Outcome.APPLIED
        return self.get(held)

    def provider_event(self, kind, booking, paid=None, session="same"):
        session = booking.payment.checkout_session if session == "same" else session
        paid = kind == COMPLETED if paid is None else paid
        intent = f"pi_{session}" if paid else None
        amount, currency = (booking.payment.amount, booking.payment.currency.lower()) if paid else (None, None)
        return ProviderEvent(f"evt_{kind}_{booking.id}", kind, session, booking.id, paid, intent, amount, currency)

    def webhook(self, kind, booking, **fields):
        return settlement.handle_event(
            self.bookings, self.events, self.terms, self.provider_event(kind, booking, **fields)
        )

    def cancel(self, who, booking):
        return bookings.cancel(self.bookings, self.events, self.records, who, booking.id, terms=self.terms).booking

    def cancel_event(self, event):
        return events.update_event(self.events, self.owner, event.id, {"status": "cancelled"}, media=self.media)

    def sweep(self, minutes=0.0, now=None, terms="default", budget=30.0):
        terms = self.terms if terms == "default" else terms
        now = now or utcnow() + timedelta(minutes=minutes)
        return settlement.sweep(self.bookings, self.events, terms, budget_seconds=budget, now=now)

    def get(self, booking):
        return self.bookings.get(booking.id)


@pytest.fixture
def world():
    return World()


@pytest.fixture
def logged():
    """Every record the app's logger emits during the test."""
    with attached(Records()) as handler:
        yield handler.records


def _lines(records, message):
    return [record.fields for record in records if record.getMessage() == message]


def _fails_once(provider, method, error=PaymentUnavailable):
    """The provider's `method` fails on its first call only (a blip): later calls in the same run would work."""
    real = getattr(provider, method)
    calls = []

    def flaky(*args):
        calls.append(args)
        if len(calls) == 1:
            raise error("unreachable (test)")
        return real(*args)

    setattr(provider, method, flaky)
    return calls


def _recorded(repository, method):
    """Record each call's arguments to `repository.method`, which still does its work."""
    real = getattr(repository, method)
    calls = []

    def recording(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    setattr(repository, method, recording)
    return calls


class Clock:
    """A monotonic clock reading the given values in turn, then the last one for ever."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)

    def monotonic(self) -> float:
        return self.values.pop(0) if len(self.values) > 1 else self.values[0]


def _use_clock(monkeypatch, clock):
    namespace = SimpleNamespace(monotonic=clock.monotonic)
    monkeypatch.setattr(settlement, "time", namespace)
    monkeypatch.setattr(event_settlement, "time", namespace)


# The sweep of holds: a provider that fails once stays down for the rest of the run.


def test_a_provider_failing_on_the_first_hold_is_not_called_for_the_next_and_both_are_kept(world, logged):
    event = world.event()
    first, second = world.book(principal(), event), world.book(principal(), event)
    calls = _fails_once(world.provider, "expire_checkout")
    # 16 minutes on: both holds are over, but their checkouts (31 minutes) could still be paid.
    assert world.sweep(minutes=16) == {"holds_kept": 2}
    assert len(calls) == 1
    assert {world.get(b).status for b in (first, second)} == {BookingStatus.PENDING_PAYMENT}
    [line] = _lines(logged, "closing a checkout failed")
    assert line == {"booking_id": calls[0][0].removeprefix("cs_"), "error": "unreachable (test)"}
    assert line["booking_id"] in (first.id, second.id)


def test_a_hold_whose_checkout_expires_exactly_now_ends_though_the_provider_is_down(world):
    event = world.event()
    held = world.book(principal(), event)
    world.provider.failing = True
    closes = world.get(held).payment.session_expires_at
    assert world.sweep(now=closes - timedelta(seconds=1)) == {"holds_kept": 1}
    assert world.sweep(now=closes) == {"holds_expired": 1}  # nothing can be paid through it any more
    expired = world.get(held)
    assert (expired.status, expired.cancelled_at, expired.cancel_reason) == (
        BookingStatus.EXPIRED,
        closes,
        CancelReason.HOLD_EXPIRED,
    )


def test_two_holds_ended_in_one_sweep_count_two(world):
    event = world.event()
    for _ in range(2):
        world.book(principal(), event)
    assert world.sweep(minutes=40) == {"holds_expired": 2}


def test_a_hold_found_paid_but_changed_meanwhile_counts_as_changed(world):
    held = world.book(principal(), world.event())
    world.provider.pay(held.payment.checkout_session)  # its webhook is late
    fail_first(world.bookings, "confirm", 1)
    assert world.sweep(minutes=16) == {"changed": 1}


def test_a_hold_that_changed_while_it_was_ended_counts_as_changed(world):
    held = world.book(principal(), world.event())
    fail_first(world.bookings, "expire", 1)
    assert world.sweep(minutes=40) == {"changed": 1}
    assert world.get(held).status is BookingStatus.PENDING_PAYMENT


# Cancelled holds whose checkout is still to close.


def _cancelled_holds(world, count):
    """Holds cancelled by their owners while the provider was down: their checkouts are left to the sweep."""
    event = world.event()
    held = []
    for _ in range(count):
        who = principal()
        booking = world.book(who, event)
        world.provider.failing = True
        world.cancel(who, booking)
        world.provider.failing = False
        held.append(booking)
    return held


def test_a_provider_failing_on_the_first_cancelled_checkout_is_not_called_for_the_next(world, logged):
    first, second = _cancelled_holds(world, 2)
    logged.clear()
    calls = _fails_once(world.provider, "expire_checkout")
    assert world.sweep(minutes=2) == {"checkouts_kept": 2}
    assert len(calls) == 1
    [line] = _lines(logged, "closing a checkout failed")
    assert line == {"booking_id": calls[0][0].removeprefix("cs_"), "error": "unreachable (test)"}
    assert line["booking_id"] in (first.id, second.id)
    assert world.sweep(minutes=5) == {"checkouts_closed": 2}


def test_a_cancelled_checkout_that_changed_meanwhile_counts_as_changed(world):
    _cancelled_holds(world, 1)
    fail_first(world.bookings, "checkout_closed", 1)
    assert world.sweep(minutes=2) == {"changed": 1}


# Owed refunds.


def test_a_refund_failing_once_stops_the_refunds_of_the_run_and_is_retried_a_minute_later(world, logged):
    event = world.event()
    owed = []
    for _ in range(3):
        held = world.book(principal(), event)
        world.provider.pay(held.payment.checkout_session)
        world.webhook(COMPLETED, held)
        owed.append(held)
    world.cancel_event(event)
    world.provider.failing = True
    world.sweep()  # settles the event; no refund is asked while the provider is down
    world.provider.failing = False
    logged.clear()
    assert [world.get(b).refund_status for b in owed] == [RefundStatus.PENDING] * 3
    since = utcnow()
    for booking in owed:
        world.bookings.by_id[booking.id] = replace(world.get(booking), cancelled_at=since)
    calls = _fails_once(world.provider, "refund")
    reads = _recorded(world.bookings, "due")
    now = since + timedelta(minutes=5)
    assert world.sweep(now=now) == {"refunds_due": 1}
    assert len(calls) == 1 and world.provider.refunds == {}
    # One read of each index: the refunds left after the failure are skipped, not read again one by one.
    assert [(args[0], args[2]) for args, _ in reads] == [("hold", 50), ("refund", 50), ("refund", 50)]
    [line] = _lines(logged, "refund deferred")
    failed = line["booking_id"]
    assert line == {"booking_id": failed, **UNREACHABLE}
    # Owed for five minutes: tried again five minutes later.
    assert world.bookings.refund_attempt_at[failed] == iso(now + timedelta(minutes=5))
    assert world.sweep(now=now + timedelta(minutes=6)) == {"refunds_succeeded": 3}
    refunded = world.get(world.bookings.by_id[failed])
    assert (refunded.refund_status, refunded.payment.refund_id) == (RefundStatus.SUCCEEDED, f"re_{failed}")


@pytest.mark.parametrize(("owed_for", "retry_in"), [(timedelta(minutes=10), 600), (timedelta(hours=3), 3600)])
def test_a_refund_that_fails_again_waits_as_long_as_it_has_been_owed_up_to_an_hour(world, owed_for, retry_in):
    event = world.event()
    booking = world.paid(event)
    owner = principal()
    world.bookings.by_id[booking.id] = booking = replace(booking, user_id=owner.user_id)
    world.provider.failing = True
    cancelled = world.cancel(owner, booking)
    assert cancelled.refund_status is RefundStatus.PENDING
    now = cancelled.cancelled_at + owed_for
    payments.issue_refund(world.bookings, world.terms, world.get(booking), now)
    assert world.bookings.refund_attempt_at[booking.id] == iso(now + timedelta(seconds=retry_in))


def test_a_refused_refund_is_failed_for_staff_to_settle_and_logged_as_an_error(world, logged):
    booking = world.paid(world.event())
    owner = principal()
    world.bookings.by_id[booking.id] = booking = replace(booking, user_id=owner.user_id)
    world.provider.refusing = True
    cancelled = world.cancel(owner, booking)
    assert cancelled.refund_status is RefundStatus.FAILED
    assert world.get(booking).refund_status is RefundStatus.FAILED
    assert cancelled.payment.payment_intent == booking.payment.payment_intent
    assert _lines(logged, "refund refused") == [
        {"booking_id": booking.id, "error": "PaymentRefused", "reason": "refused (test)"}
    ]


def test_a_refund_settled_by_a_parallel_attempt_answers_what_that_one_stored(world):
    booking = world.paid(world.event())
    owner = principal()
    world.bookings.by_id[booking.id] = booking = replace(booking, user_id=owner.user_id)
    world.provider.failing = True
    owed = world.cancel(owner, booking)
    world.provider.failing = False
    real = world.bookings.settle_refund

    def settled_first_by_another(booking, settled):
        real(booking, replace(settled, payment=replace(settled.payment, refund_id="re_other")))
        raise StaleWrite()

    world.bookings.settle_refund = settled_first_by_another
    answer = payments.issue_refund(world.bookings, world.terms, owed, utcnow())
    assert (answer.refund_status, answer.payment.refund_id) == (RefundStatus.SUCCEEDED, "re_other")


def test_a_late_payment_whose_refund_fails_stays_owed(world):
    held = world.book(principal(), world.event())
    world.sweep(minutes=40)  # the hold ran out...
    world.provider.sessions[held.payment.checkout_session]["status"] = "open"
    world.provider.pay(held.payment.checkout_session)  # ...yet the customer paid
    calls = _fails_once(world.provider, "refund")
    assert world.webhook(COMPLETED, held) is Outcome.APPLIED
    late = world.get(held)
    assert (late.status, late.refund_status, len(calls)) == (BookingStatus.EXPIRED, RefundStatus.PENDING, 1)
    assert held.id in world.bookings.refund_attempt_at


# The sweep's summary line and its budget.


def test_the_sweep_logs_its_counts(world, logged):
    event = world.event()
    world.book(principal(), event)
    assert world.sweep(minutes=40) == {"holds_expired": 1}
    [line] = _lines(logged, "payment sweep")
    assert line["holds_expired"] == 1


def test_a_spent_budget_reads_no_index(world, monkeypatch):
    world.book(principal(), world.event())
    event = world.event(price=Decimal("0"))
    world.book(principal(), event)
    world.cancel_event(event)
    _use_clock(monkeypatch, Clock(5.0))
    holds, settlements = _recorded(world.bookings, "due"), _recorded(world.events, "settlements_due")
    assert world.sweep(minutes=40, budget=0) == {}
    assert (holds, settlements) == ([], [])


def test_a_hold_reached_exactly_at_the_deadline_is_left_for_the_next_run(world, monkeypatch):
    held = world.book(principal(), world.event())
    _use_clock(monkeypatch, Clock(0.0, 0.0, 1.0))  # the deadline (0 + 1), the loop's check, the hold's check
    assert world.sweep(minutes=40, budget=1, terms=world.terms) == {}
    assert world.get(held).status is BookingStatus.PENDING_PAYMENT


def test_an_event_reached_exactly_at_the_deadline_is_not_read(world, monkeypatch):
    event = world.event(price=Decimal("0"))
    world.book(principal(), event)
    world.cancel_event(event)
    _use_clock(monkeypatch, Clock(0.0, 0.0, 1.0))
    pages = _recorded(world.bookings, "list_by_event_part")
    assert world.sweep(budget=1, terms=None) == {}
    assert pages == []


def test_a_booking_reached_exactly_at_the_deadline_is_left_for_the_next_run(world, monkeypatch):
    event = world.event(price=Decimal("0"))
    seats = [world.book(principal(), event) for _ in range(2)]
    world.cancel_event(event)
    _use_clock(monkeypatch, Clock(0.0, 0.0, 0.0, 1.0))  # the deadline, two loop checks, the first booking's
    assert world.sweep(budget=1, terms=None) == {}
    assert {world.get(b).status for b in seats} == {BookingStatus.CONFIRMED}


# Webhook events.


def test_an_event_without_a_checkout_is_ignored_even_for_a_booking_without_one(world):
    event = world.event()
    held = world.book(principal(), event)
    # As if the request died between the hold and its checkout: the booking has no session either.
    world.bookings.by_id[held.id] = bare = replace(held, payment=replace(held.payment, checkout_session=None))
    paid = ProviderEvent("evt_1", COMPLETED, None, held.id, True, "pi_x", 1250, "usd")
    assert settlement.handle_event(world.bookings, world.events, world.terms, paid) is Outcome.IGNORED
    assert world.get(held) == bare


def test_events_about_unknown_or_free_bookings_are_ignored(world):
    free = world.book(principal(), world.event(price=Decimal("0")))
    for booking_id in ("01UNKNOWN", free.id):
        event = ProviderEvent("evt_2", COMPLETED, "cs_x", booking_id, True, "pi_x", 1250, "usd")
        assert settlement.handle_event(world.bookings, world.events, world.terms, event) is Outcome.IGNORED
    assert world.get(free).status is BookingStatus.CONFIRMED


def test_a_completed_checkout_that_was_not_paid_changes_nothing(world):
    held = world.book(principal(), world.event())
    assert world.webhook(COMPLETED, held, paid=False) is Outcome.IGNORED
    assert world.get(held) == held


def test_a_webhook_that_lost_a_race_once_is_applied_on_its_retry_and_one_that_keeps_losing_is_retried_later(world):
    event = world.event()
    first, second = world.book(principal(), event), world.book(principal(), event)
    for booking in (first, second):
        world.provider.pay(booking.payment.checkout_session)
    fail_first(world.bookings, "confirm", 1)
    assert world.webhook(COMPLETED, first) is Outcome.APPLIED
    assert world.get(first).status is BookingStatus.CONFIRMED
    fail_first(world.bookings, "confirm", settlement.ATTEMPTS)
    with pytest.raises(PaymentUnavailable) as changing:
        world.webhook(COMPLETED, second)
    assert str(changing.value) == "the booking kept changing"


def test_a_mismatched_payment_is_logged_with_its_booking(world, logged):
    held = world.book(principal(), world.event())
    world.provider.pay(held.payment.checkout_session, amount=1)
    event = ProviderEvent("evt_3", COMPLETED, held.payment.checkout_session, held.id, True, "pi_y", 1, "usd")
    assert settlement.handle_event(world.bookings, world.events, world.terms, event) is Outcome.APPLIED
    [line] = _lines(logged, "payment does not match its booking")
    assert (line["booking_id"], line["expected"], line["received"]) == (held.id, "1250 USD", "1 usd")


def test_an_expired_checkout_after_the_holds_end_is_a_hold_that_ran_out_and_a_repeat_is_a_duplicate(world):
    held = world.book(principal(), world.event())
    over = replace(held.payment, hold_expires_at=utcnow() - timedelta(minutes=1))
    world.bookings.by_id[held.id] = replace(held, payment=over)
    assert world.webhook(EXPIRED, held) is Outcome.APPLIED
    assert world.get(held).cancel_reason is CancelReason.HOLD_EXPIRED
    assert world.webhook(EXPIRED, held) is Outcome.DUPLICATE


def test_an_expired_checkout_at_the_holds_exact_end_is_a_hold_that_ran_out(world, monkeypatch):
    held = world.book(principal(), world.event())
    monkeypatch.setattr(settlement, "utcnow", lambda: held.hold_expires_at)
    assert world.webhook(EXPIRED, held) is Outcome.APPLIED
    expired = world.get(held)
    assert (expired.cancel_reason, expired.cancelled_at) == (CancelReason.HOLD_EXPIRED, held.hold_expires_at)


def test_a_promoted_booking_whose_checkout_fails_is_logged_and_its_hold_runs_out(world, logged):
    event = world.event(capacity=1)
    held = world.book(principal(), event)
    waiting = world.book(principal(), event, waitlist=True)
    reason = "x" * 300

    def down(request):
        raise PaymentUnavailable(reason)

    world.provider.create_checkout = down
    assert world.webhook(EXPIRED, held) is Outcome.APPLIED
    promoted = world.get(waiting)
    assert (promoted.status, promoted.checkout_url) == (BookingStatus.PENDING_PAYMENT, None)
    assert _lines(logged, "checkout of a promoted booking failed") == [
        {"booking_id": waiting.id, "error": "PaymentUnavailable", "reason": "x" * 200}
    ]


# Checkouts.


def test_a_checkout_names_its_booking_event_user_and_title(world):
    who = principal()
    booking = world.book(who, world.event(title="Concert"))
    request = world.provider.sessions[booking.payment.checkout_session]["request"]
    assert (request.booking_id, request.event_id, request.user_id, request.title) == (
        booking.id,
        booking.event_id,
        who.user_id,
        "Concert",
    )


def test_a_price_its_currency_cannot_carry_is_refused_by_name(world):
    event = replace(world.event(), price=Decimal("1.5"), currency="JPY")
    with pytest.raises(Conflict) as refused:
        payments.hold(event, world.terms, utcnow())
    assert (refused.value.detail, refused.value.code) == (
        "This event's price cannot be charged in its currency.",
        "event_not_bookable",
    )


def test_ensure_checkout_answers_the_stored_booking_and_calls_nobody_when_it_has_a_checkout(world):
    held = world.book(principal(), world.event())
    world.provider.failing = True
    assert payments.ensure_checkout(world.bookings, world.terms, held, "Paid") == world.get(held)
    # A stale copy without its checkout: the stored booking (confirmed meanwhile) is what counts.
    world.provider.failing = False
    world.provider.pay(held.payment.checkout_session)
    world.webhook(COMPLETED, held)
    stale = replace(held, payment=replace(held.payment, checkout_url=None, checkout_session=None))
    assert payments.ensure_checkout(world.bookings, world.terms, stale, "Paid") == world.get(held)


def test_ensure_checkout_makes_the_missing_checkout_with_the_title(world):
    held = world.book(principal(), world.event())
    world.provider.sessions.clear()
    world.bookings.by_id[held.id] = replace(held, payment=replace(held.payment, checkout_url=None))
    made = payments.ensure_checkout(world.bookings, world.terms, held, "Renamed")
    assert made.checkout_url == held.checkout_url
    assert world.provider.sessions[held.payment.checkout_session]["request"].title == "Renamed"


@pytest.mark.parametrize(
    ("failure", "error", "detail", "code"),
    [
        ("failing", ServiceUnavailable, "The payment provider is unavailable; try again.", None),
        ("refusing", Conflict, "The payment provider refused this payment.", "payment_refused"),
    ],
)
def test_ensure_checkout_says_why_the_provider_failed(world, failure, error, detail, code):
    held = world.book(principal(), world.event())
    world.bookings.by_id[held.id] = replace(held, payment=replace(held.payment, checkout_url=None))
    setattr(world.provider, failure, True)
    with pytest.raises(error) as caught:
        payments.ensure_checkout(world.bookings, world.terms, held, "Paid")
    assert (caught.value.detail, getattr(caught.value, "code", None)) == (detail, code)


def test_a_promotion_without_payments_or_into_a_free_seat_starts_no_checkout(world):
    held = world.book(principal(), world.event())
    free = world.book(principal(), world.event(price=Decimal("0")))
    world.provider.sessions.clear()
    payments.start_promoted_checkout(world.bookings, None, held, "Paid")
    payments.start_promoted_checkout(world.bookings, world.terms, free, "Free")
    assert world.provider.sessions == {}


def test_close_checkout_calls_nobody_without_a_session_or_without_payments(world, logged):
    held = world.book(principal(), world.event())
    ended = replace(held, status=BookingStatus.CANCELLED)
    bare = replace(held, payment=replace(held.payment, checkout_session=None))
    world.provider.failing = True
    assert payments.close_checkout(world.bookings, world.terms, bare, ended) is True
    assert payments.close_checkout(world.bookings, None, held, ended) is True
    assert payments.close_checkout(world.bookings, world.terms, held, ended) is False  # now it was asked
    assert _lines(logged, "closing a checkout failed") == [{"booking_id": held.id, **UNREACHABLE}]


# The refund policy's cut-off.


def test_an_owner_cancelling_exactly_at_the_cutoff_is_refunded_in_full(world):
    event = world.event(starts_in_hours=30)
    booking = world.paid(event)
    owner = principal()
    booking = replace(booking, user_id=owner.user_id)
    until = event.starts_at - timedelta(seconds=CUTOFF)
    decision = payments.refund_policy(booking, world.events.get(event.id), owner, world.terms, until)
    assert (decision.full, decision.reason) == (True, RefundReason.BEFORE_CUTOFF)
    later = payments.refund_policy(
        booking, world.events.get(event.id), owner, world.terms, until + timedelta(microseconds=1)
    )
    assert (later.full, later.reason) == (False, RefundReason.AFTER_CUTOFF)


# Settling a cancelled event.


def _free_event_with(world, count):
    event = world.event(price=Decimal("0"), capacity=count + 5)
    seats = [world.book(principal(), event) for _ in range(count)]
    world.cancel_event(event)
    return event, seats


def test_an_event_of_more_than_a_batch_is_settled_whole_and_records_its_position(world):
    event, seats = _free_event_with(world, 30)
    positions = _recorded(world.events, "save_settlement_position")
    now = utcnow()
    assert world.sweep(now=now, terms=None) == {"bookings_settled": 30, "events_settled": 1}
    first = world.bookings.list_by_event_part(event.id, parts=1, limit=event_settlement.BATCH, start=None).next_key
    assert [args for args, _ in positions] == [(positions[0][0][0], first, iso(now))]
    assert {world.get(b).status for b in seats} == {BookingStatus.CANCELLED}


def test_a_settlement_resumes_from_its_recorded_position(world):
    event, _ = _free_event_with(world, 30)
    first = world.bookings.list_by_event_part(event.id, parts=1, limit=event_settlement.BATCH, start=None)
    world.events.save_settlement_position(world.events.get(event.id), first.next_key, iso(utcnow()))
    # The first batch is not done again: its bookings are found by the next pass instead.
    assert world.sweep(minutes=1, terms=None) == {"bookings_settled": 5, "events_repassed": 1}
    assert {world.get(b).status for b in first.items} == {BookingStatus.CONFIRMED}


def test_two_events_settled_and_two_repassed_in_one_sweep_count_two(world):
    for _ in range(2):
        _free_event_with(world, 1)
    assert world.sweep(terms=None) == {"bookings_settled": 2, "events_settled": 2}
    for _ in range(2):
        _free_event_with(world, 1)
    real = world.bookings.list_by_event_part
    world.bookings.list_by_event_part = lambda event_id, *, parts, limit, start: real(
        event_id, parts=parts, limit=limit, start=start
    )._replace(items=[])
    assert world.sweep(minutes=1, terms=None) == {"events_repassed": 2}


def test_a_finished_or_vanished_settlement_the_index_still_lists_is_read_once_and_left(world):
    event, _ = _free_event_with(world, 1)
    assert world.sweep(terms=None) == {"bookings_settled": 1, "events_settled": 1}
    world.events.settle_at[event.id] = iso(utcnow())  # the index lags behind the finished settlement
    world.events.settle_at["01VANISHED"] = iso(utcnow())  # and behind a deleted event
    reads = _recorded(world.events, "settlements_due")
    assert world.sweep(minutes=1, terms=None) == {}
    assert len(reads) == 2  # the second read finds nothing it has not seen
    assert all(args[1] == event_settlement.EVENTS_PAGE for args, _ in reads)


def test_a_provider_failing_on_a_settled_hold_is_not_asked_again_in_the_run(world):
    event = world.event()
    held = [world.book(principal(), event) for _ in range(2)]
    world.cancel_event(event)
    calls = _fails_once(world.provider, "expire_checkout")
    assert world.sweep() == {"bookings_settled": 2, "events_settled": 1}
    assert len(calls) == 1
    assert {world.provider.sessions[b.payment.checkout_session]["status"] for b in held} == {"open"}


def test_a_refund_failing_once_in_a_settlement_is_owed_and_the_next_is_not_asked(world):
    event = world.event()
    paid = [world.paid(event) for _ in range(2)]
    world.cancel_event(event)
    calls = _fails_once(world.provider, "refund")
    now = utcnow()
    assert world.sweep(now=now) == {"bookings_settled": 2, "events_settled": 1}
    assert len(calls) == 1 and world.provider.refunds == {}
    assert [world.get(b).refund_status for b in paid] == [RefundStatus.PENDING] * 2
    [failed] = [b for b in paid if b.id in world.bookings.refund_attempt_at]
    assert world.bookings.refund_attempt_at[failed.id] == iso(now + timedelta(seconds=60))


# Refunds granted by the event's creator or staff.


def _kept_late(world, who=None, **fields):
    """A paid seat its owner cancelled inside the cut-off: the policy kept the money."""
    event = world.event(starts_in_hours=2, **fields)
    who = who or principal()
    held = world.book(who, event)
    world.provider.pay(held.payment.checkout_session)
    world.webhook(COMPLETED, held)
    assert world.cancel(who, held).refund_status is RefundStatus.NOT_REFUNDABLE
    return event, world.get(held)


def _refund(world, who, booking):
    return bookings.refund(world.bookings, world.events, who, booking.id, terms=world.terms)


def test_the_creator_grants_a_late_refund_through_a_lost_race_while_the_provider_is_down(world):
    event, kept = _kept_late(world, online_url="https://meet.example.com/x")
    fail_first(world.bookings, "grant_refund", 1)
    world.provider.failing = True
    result = _refund(world, world.owner, kept)
    assert result.booking.refund_status is RefundStatus.PENDING  # owed, and retried by the sweep
    assert world.get(kept).refund_status is RefundStatus.PENDING
    assert kept.id in world.bookings.refund_attempt_at
    assert result.event.online_url == "https://meet.example.com/x"  # its creator sees it all
    assert result.event == world.events.get(event.id)
    assert world.audit.entries == []  # its own event's booking: not a staff action


def test_a_grant_that_keeps_losing_its_race_asks_to_try_again(world):
    _, kept = _kept_late(world)
    fail_first(world.bookings, "grant_refund", 3)
    with pytest.raises(Busy) as changing:
        _refund(world, world.owner, kept)
    assert changing.value.detail == "The booking is changing quickly; try again in a moment."


def test_staff_refunding_their_own_late_cancellation_is_not_audited(world):
    staff = principal(staff=True)
    _, kept = _kept_late(world, who=staff)
    assert _refund(world, staff, kept).booking.refund_status is RefundStatus.SUCCEEDED
    assert world.audit.entries == []


def test_a_late_refund_of_a_deleted_events_booking_answers_no_event(world):
    event, kept = _kept_late(world)
    del world.events.by_id[event.id]
    result = _refund(world, principal(staff=True), kept)
    assert (result.booking.refund_status, result.event) == (RefundStatus.SUCCEEDED, None)


@pytest.mark.parametrize(
    ("case", "error", "detail"),
    [
        ("no payments", ServiceUnavailable, "Payments are not configured."),
        ("free", Conflict, "This booking has no payment to refund."),
        ("refunded", Conflict, "This booking's payment is already refunded, or being refunded."),
    ],
)
def test_a_refund_that_cannot_be_made_says_why(world, case, error, detail):
    if case == "free":
        booking = world.book(principal(), world.event(price=Decimal("0")))
    else:
        _, booking = _kept_late(world)
    if case == "refunded":
        booking = _refund(world, world.owner, booking).booking
    terms = None if case == "no payments" else world.terms
    with pytest.raises(error) as refused:
        bookings.refund(world.bookings, world.events, world.owner, booking.id, terms=terms)
    assert refused.value.detail == detail


def test_a_cancellation_that_lost_its_race_to_another_asks_the_provider_nothing(world):
    event = world.event(online_url="https://meet.example.com/y")
    booking = world.paid(event)
    real = world.bookings.cancel

    def cancelled_first_by_another(old, new, *rest):
        other = replace(
            old, status=BookingStatus.CANCELLED, payment=replace(old.payment, refund_status=RefundStatus.PENDING)
        )
        world.bookings.by_id[old.id] = other
        world.bookings.cancel = real
        raise StaleWrite()

    world.bookings.cancel = cancelled_first_by_another
    result = bookings.cancel(world.bookings, world.events, world.records, world.owner, booking.id, terms=world.terms)
    assert (result.booking.status, result.booking.refund_status) == (BookingStatus.CANCELLED, RefundStatus.PENDING)
    assert world.provider.refund_calls == []  # the other canceller asks for the refund
    assert result.event.online_url == "https://meet.example.com/y"


def test_staff_who_booked_an_event_see_their_own_refund_preview_in_its_bookings(world):
    event = world.event(starts_in_hours=48)
    staff = principal(staff=True)
    held = world.book(staff, event)
    world.provider.pay(held.payment.checkout_session)
    world.webhook(COMPLETED, held)
    page = bookings.event_bookings(
        world.bookings, world.events, staff, event.id, limit=5, start=None, terms=world.terms
    )
    [item] = page.items
    assert (item.refund_if_cancelled.full, item.refund_if_cancelled.reason) == (True, RefundReason.BEFORE_CUTOFF)


def test_a_hold_withdrawn_after_its_checkout_failed_passes_its_seat_to_who_joined_the_waitlist_meanwhile(world):
    event = world.event(capacity=2)
    world.book(principal(), event)
    real = world.provider.create_checkout
    joined = []

    def fails_once_someone_waits(request):
        if not joined:
            joined.append(world.book(principal(), event, waitlist=True))  # the event is full meanwhile
            raise PaymentUnavailable("unreachable (test)")
        return real(request)

    world.provider.create_checkout = fails_once_someone_waits
    with pytest.raises(ServiceUnavailable):
        world.book(principal(), event)
    [waiting] = joined
    promoted = world.get(waiting)
    assert world.provider.sessions[f"cs_{waiting.id}"]["request"].title == "Paid"
    assert (promoted.status, promoted.checkout_url) == (
        BookingStatus.PENDING_PAYMENT,
        f"https://pay.test/cs_{waiting.id}",
    )
    assert len(world.bookings.by_id) == 2
    current = world.events.get(event.id)
    assert (current.seats_booked, current.waitlisted) == (2, 0)


def test_a_new_hold_the_provider_refuses_is_undone_and_says_so(world):
    event = world.event(capacity=1)
    world.provider.refusing = True
    with pytest.raises(Conflict) as refused:
        world.book(principal(), event)
    assert (refused.value.detail, refused.value.code) == (
        "The payment provider refused this payment.",
        "payment_refused",
    )
    assert world.bookings.by_id == {} and world.events.get(event.id).seats_booked == 0


def test_at_a_free_event_the_seat_passes_to_the_waiting_booking_confirmed_even_with_payments_on(world):
    event = world.event(price=Decimal("0"), capacity=1)
    seat_holder = principal()
    seat = world.book(seat_holder, event)
    waiting = world.book(principal(), event, waitlist=True)
    world.cancel(seat_holder, seat)
    promoted = world.get(waiting)
    assert (promoted.status, promoted.payment) == (BookingStatus.CONFIRMED, None)


def test_the_preview_of_a_payment_stored_without_its_paid_currency_is_in_the_bookings_currency(world):
    booking = world.paid(world.event())
    legacy = replace(booking, payment=replace(booking.payment, paid_currency=None))
    shown = payments.preview(legacy, world.events.get(booking.event_id), principal(), world.terms, utcnow())
    assert (shown.amount, shown.currency) == (Decimal("12.50"), "USD")


def test_a_cancellation_replayed_from_its_key_shows_the_event_as_its_canceller_saw_it(world):
    event = world.event(online_url="https://meet.example.com/z")
    booking = world.paid(event)
    request = bookings.IdempotentRequest("cancel-1", {})

    def cancel():
        return bookings.cancel(
            world.bookings, world.events, world.records, world.owner, booking.id, request=request, terms=world.terms
        )

    first, again = cancel(), cancel()
    assert first.event.online_url == again.event.online_url == "https://meet.example.com/z"
    assert (again.booking.id, again.booking.status) == (booking.id, BookingStatus.CANCELLED)


# Booking: who sees the link, the exact start, a draft, a retried checkout's title.


def test_staff_holding_a_seat_see_the_link_of_the_event_they_manage(world):
    event = world.event(online_url="https://meet.example.com/s")
    staff = bookings.book(
        world.events, world.bookings, world.records, principal(staff=True), event.id, waitlist=False, terms=world.terms
    )
    assert (staff.booking.status, staff.event.online_url) == (
        BookingStatus.PENDING_PAYMENT,
        "https://meet.example.com/s",
    )


def test_booking_twice_says_so(world):
    event = world.event(price=Decimal("0"))
    who = principal()
    world.book(who, event)
    with pytest.raises(Conflict) as twice:
        world.book(who, event)
    assert (twice.value.detail, twice.value.code) == ("You already have a booking for this event.", "already_booked")


def test_an_event_is_closed_to_bookings_at_its_exact_start_and_a_draft_is_closed_to_staff(world, monkeypatch):
    event = world.event(price=Decimal("0"))
    monkeypatch.setattr(bookings, "utcnow", lambda: event.starts_at)
    with pytest.raises(Conflict) as started:
        world.book(principal(), event)
    assert (started.value.detail, started.value.code) == ("This event is not open for booking.", "event_not_bookable")
    monkeypatch.undo()
    draft = world.event(price=Decimal("0"), status="draft")
    with pytest.raises(Conflict) as closed:
        world.book(principal(staff=True), draft)  # staff see the draft: it is not bookable, rather than unknown
    assert closed.value.code == "event_not_bookable"


def test_a_retry_that_makes_the_missing_checkout_names_the_event(world):
    event = world.event(title="Recital")
    who = principal()
    request = bookings.IdempotentRequest("pay-3", {"waitlist": False})

    def book():
        return bookings.book(
            world.events,
            world.bookings,
            world.records,
            who,
            event.id,
            waitlist=False,
            request=request,
            terms=world.terms,
        )

    first = book().booking
    world.bookings.by_id[first.id] = replace(first, payment=replace(first.payment, checkout_url=None))
    world.provider.sessions.clear()  # as if the first request had died before its checkout
    again = book().booking
    assert again.checkout_url == first.checkout_url
    assert world.provider.sessions[first.payment.checkout_session]["request"].title == "Recital"
