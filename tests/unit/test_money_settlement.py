"""Money where two features meet, over the fakes: the refund policy at every combination of who cancels and when,
the settlement of a cancelled event's bookings (crashes, an unreachable provider, an index that lags), payments
that arrive late or wrong, the refund action, and the audit of staff acting on what is not theirs."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.common import utcnow
from chalicelib.domain.enums import AuditAction, BookingStatus, CancelReason, EventStatus, RefundReason, RefundStatus
from chalicelib.errors import Conflict, PermissionDenied
from chalicelib.ports.payments import ProviderEvent
from chalicelib.services import bookings, events, payments, settlement
from chalicelib.services.payments import PaymentTerms
from chalicelib.services.settlement import COMPLETED, EXPIRED, Outcome
from chalicelib.services.uploads import Media
from tests.support.factories import creator, principal
from tests.support.fakes import FakeAudit, FakeBookings, FakeEvents, FakeObjectStore, FakePayments, FakeRecords

HOLD = 900
CUTOFF = 24 * 3600


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

    def event(self, starts_in_hours: float | None = 48, **fields):
        values = {"title": "Paid", "description": "D", "price": Decimal("12.50"), "capacity": 10, **fields}
        if starts_in_hours is not None:
            values["starts_at"] = utcnow() + timedelta(hours=starts_in_hours)
        return events.create_event(self.events, self.owner, values)

    def book(self, who, event, waitlist=False):
        result = bookings.book(
            self.events, self.bookings, self.records, who, event.id, waitlist=waitlist, terms=self.terms
        )
        return result.booking

    def paid(self, event, who=None):
        """A confirmed seat, paid through its checkout."""
        who = who or principal()
        held = self.book(who, event)
        self.provider.pay(held.payment.checkout_session)
        assert self.webhook(COMPLETED, held) is Outcome.APPLIED
        return who, self.bookings.get(held.id)

    def webhook(self, kind, booking, amount=None, currency=None, event_id=None):
        session = booking.payment.checkout_session
        paid = kind == COMPLETED
        event = ProviderEvent(
            event_id or f"evt_{kind}_{booking.id}",
            kind,
            session,
            booking.id,
            paid,
            f"pi_{session}" if paid else None,
            (booking.payment.amount if amount is None else amount) if paid else None,
            (currency or booking.payment.currency).lower() if paid else None,
        )
        return settlement.handle_event(self.bookings, self.events, self.terms, event)

    def cancel(self, who, booking):
        return bookings.cancel(self.bookings, self.events, self.records, who, booking.id, terms=self.terms).booking

    def cancel_event(self, event, who=None):
        return events.update_event(self.events, who or self.owner, event.id, {"status": "cancelled"}, media=self.media)

    def sweep(self, minutes=0.0, terms="default"):
        terms = self.terms if terms == "default" else terms
        now = utcnow() + timedelta(minutes=minutes)
        return settlement.sweep(self.bookings, self.events, terms, budget_seconds=30, now=now)

    def get(self, booking):
        return self.bookings.get(booking.id)

    def read(self, event):
        return self.events.get(event.id)


@pytest.fixture
def world():
    return World()


# The refund policy: who cancels, when, and what became of the event, each combination.

STAFF = "staff"


def _canceller(world, kind, owner):
    return {
        "owner": owner,
        "creator": world.owner,
        STAFF: principal(staff=True),
        "staff creator": world.owner._replace(is_staff=True),
        "settlement": None,
    }[kind]


@pytest.mark.parametrize(
    ("who", "starts_in_hours", "event_state", "full", "reason"),
    [
        ("owner", 48, "published", True, RefundReason.BEFORE_CUTOFF),
        ("owner", 2, "published", False, RefundReason.AFTER_CUTOFF),
        ("owner", None, "published", True, RefundReason.NO_START_TIME),
        ("owner", 2, "cancelled", True, RefundReason.EVENT_CANCELLED),
        ("owner", 2, "deleted", True, RefundReason.EVENT_CANCELLED),
        ("creator", 2, "published", True, RefundReason.CANCELLED_BY_ORGANIZER),
        ("creator", 48, "published", True, RefundReason.CANCELLED_BY_ORGANIZER),
        (STAFF, 2, "published", True, RefundReason.CANCELLED_BY_ORGANIZER),
        ("staff creator", 2, "published", True, RefundReason.CANCELLED_BY_ORGANIZER),
        ("creator", 2, "cancelled", True, RefundReason.EVENT_CANCELLED),
        ("settlement", 2, "cancelled", True, RefundReason.EVENT_CANCELLED),
    ],
)
def test_the_refund_policy_at_every_combination(world, who, starts_in_hours, event_state, full, reason):
    event = world.event(starts_in_hours)
    owner, booking = world.paid(event)
    shown = world.read(event)
    if event_state == "cancelled":
        shown = replace(shown, status=EventStatus.CANCELLED)
    elif event_state == "deleted":
        shown = None
    decision = payments.refund_policy(booking, shown, _canceller(world, who, owner), world.terms, utcnow())
    assert (decision.full, decision.reason) == (full, reason)
    if reason in (RefundReason.BEFORE_CUTOFF, RefundReason.AFTER_CUTOFF):
        assert decision.full_refund_until == event.starts_at - timedelta(seconds=CUTOFF)


def test_a_booking_of_a_cancelled_event_is_refunded_in_full_even_inside_the_cutoff(world):
    event = world.event(starts_in_hours=2)
    owner, booking = world.paid(event)
    world.cancel_event(event)
    cancelled = world.cancel(owner, booking)  # before the settlement got to it
    assert (cancelled.refund_status, cancelled.cancel_reason) == (RefundStatus.SUCCEEDED, CancelReason.EVENT_CANCELLED)
    assert world.provider.refunds == {booking.id: (booking.payment.payment_intent, 1250)}


@pytest.mark.parametrize(
    ("starts_in_hours", "viewer", "expected"),
    [
        (48, "owner", ("full", RefundReason.BEFORE_CUTOFF)),
        (2, "owner", ("none", RefundReason.AFTER_CUTOFF)),
        (2, "creator", ("full", RefundReason.CANCELLED_BY_ORGANIZER)),
    ],
)
def test_each_booking_says_what_cancelling_it_now_would_do(world, starts_in_hours, viewer, expected):
    event = world.event(starts_in_hours)
    owner, booking = world.paid(event)
    if viewer == "owner":
        [item] = bookings.my_bookings(world.bookings, world.events, owner, limit=5, start=None, terms=world.terms).items
    else:
        page = bookings.event_bookings(
            world.bookings, world.events, world.owner, event.id, limit=5, start=None, terms=world.terms
        )
        [item] = page.items
    preview = item.refund_if_cancelled
    assert ("full" if preview.full else "none", preview.reason) == expected


def test_nothing_is_previewed_where_no_money_is_at_stake(world):
    event = world.event(capacity=1)
    held_by = principal()
    world.book(held_by, event)
    waiting = principal()
    world.book(waiting, event, waitlist=True)
    for who in (held_by, waiting):
        [item] = bookings.my_bookings(world.bookings, world.events, who, limit=5, start=None, terms=world.terms).items
        assert item.refund_if_cancelled is None


# Cancelling an event settles every booking.


def _ten_bookings(world, event):
    """Four paid seats, two held (one paid at the provider whose webhook has not come yet), four waiting."""
    paid = [world.paid(event)[1] for _ in range(4)]
    held = [world.book(principal(), event) for _ in range(2)]
    world.provider.pay(held[1].payment.checkout_session)
    waiting = [world.book(principal(), event, waitlist=True) for _ in range(4)]
    return paid, held, waiting


def test_cancelling_a_paid_event_cancels_every_booking_and_refunds_each_payment_once(world):
    event = world.event(capacity=6, starts_in_hours=2)  # inside the cut-off: a cancelled event refunds anyway
    paid, held, waiting = _ten_bookings(world, event)
    cancelled = world.cancel_event(event)
    assert cancelled.settlement.bookings == 10 and cancelled.settlement.completed_at is None
    # Committed first, settled after: nothing is cancelled by the edit itself.
    assert [world.get(b).status for b in paid] == [BookingStatus.CONFIRMED] * 4

    counts = world.sweep()
    assert counts == {"bookings_settled": 10, "events_settled": 1}
    every = [world.get(b) for b in (*paid, *held, *waiting)]
    assert {(b.status, b.cancel_reason) for b in every} == {(BookingStatus.CANCELLED, CancelReason.EVENT_CANCELLED)}
    assert [b.refund_status for b in every] == [RefundStatus.SUCCEEDED] * 4 + [None, RefundStatus.SUCCEEDED] + [
        None
    ] * 4
    # Each payment refunded exactly once, in full; the one paid at the provider for a held seat too.
    refunded = {b.id: (b.payment.payment_intent, 1250) for b in (*paid, held[1])}
    refunded[held[1].id] = (f"pi_{held[1].payment.checkout_session}", 1250)
    assert world.provider.refunds == refunded
    assert sorted(world.provider.refund_calls) == sorted(refunded)
    # Both held checkouts are closed: nothing can be paid for this event any more.
    assert {world.provider.sessions[b.payment.checkout_session]["status"] for b in held} == {"expired", "complete"}
    assert world.provider.sessions[held[0].payment.checkout_session]["status"] == "expired"
    settled = world.read(event).settlement
    assert (settled.bookings, settled.settled, settled.remaining) == (10, 10, 0)
    assert (settled.refunds_pending, settled.refunds_succeeded, settled.refunds_failed) == (0, 5, 0)
    assert settled.completed_at is not None
    assert (world.read(event).seats_booked, world.read(event).waitlisted) == (0, 0)
    assert world.sweep() == {}  # nothing is due any more


class Crash(BaseException):
    """The process dies (a Lambda timeout, kill -9): not an exception any handler of ours catches."""


def test_a_settlement_killed_mid_way_resumes_and_refunds_each_payment_exactly_once(world):
    event = world.event(capacity=6)
    paid, held, waiting = _ten_bookings(world, event)
    world.cancel_event(event)
    real = world.provider.refund
    calls = []

    def dies_after_the_third_refund(payment_intent, amount, booking_id):
        calls.append(booking_id)
        refund_id = real(payment_intent, amount, booking_id)  # the provider did it...
        if len(calls) == 3:
            raise Crash()  # ...and the process died before storing it
        return refund_id

    world.provider.refund = dies_after_the_third_refund
    with pytest.raises(Crash):
        world.sweep()
    assert world.read(event).settlement.completed_at is None
    world.provider.refund = real
    world.sweep()
    world.sweep(minutes=5)  # the refund that died is retried from the index of refunds
    every = [world.get(b) for b in (*paid, *held, *waiting)]
    assert {b.status for b in every} == {BookingStatus.CANCELLED}
    assert {b.refund_status for b in (*every[:4], every[5])} == {RefundStatus.SUCCEEDED}
    assert len(world.provider.refunds) == 5  # one refund per payment, however many calls
    settled = world.read(event).settlement
    assert (settled.settled, settled.refunds_succeeded, settled.refunds_pending) == (10, 5, 0)
    assert settled.completed_at is not None


def test_while_the_provider_is_down_bookings_are_cancelled_and_refunds_stay_owed(world):
    event = world.event(capacity=6)
    paid, held, _ = _ten_bookings(world, event)
    world.cancel_event(event)
    world.provider.failing = True
    counts = world.sweep()
    assert counts["bookings_settled"] == 10 and counts["events_settled"] == 1
    assert [world.get(b).refund_status for b in paid] == [RefundStatus.PENDING] * 4
    settled = world.read(event).settlement
    assert (settled.refunds_pending, settled.refunds_succeeded) == (4, 0)
    # The event cannot be deleted while its refunds are owed.
    with pytest.raises(Conflict) as refused:
        events.delete_event(world.events, world.owner, event.id, media=world.media)
    assert refused.value.code == "settlement_in_progress"

    world.provider.failing = False
    later = world.sweep(minutes=10)
    # Refunds retried; the held seat's checkout closed, and found paid: its money goes back too.
    assert later == {"refunds_succeeded": 4, "late_payments_refunded": 1, "checkouts_closed": 1}
    settled = world.read(event).settlement
    assert (settled.refunds_pending, settled.refunds_succeeded) == (0, 5)
    assert world.provider.sessions[held[0].payment.checkout_session]["status"] == "expired"
    events.delete_event(world.events, world.owner, event.id, media=world.media)
    assert world.read(event) is None


def test_a_booking_the_index_did_not_show_yet_is_found_by_another_pass(world):
    event = world.event(price=Decimal("0"), capacity=5)
    first, late = world.book(principal(), event), world.book(principal(), event)
    world.cancel_event(event)
    real = world.bookings.list_by_event_part
    hidden = {late.id}

    def lagging(event_id, *, parts, limit, start):
        page = real(event_id, parts=parts, limit=limit, start=start)
        return page._replace(items=[b for b in page.items if b.id not in hidden])

    world.bookings.list_by_event_part = lagging
    assert world.sweep() == {"bookings_settled": 1, "events_repassed": 1}
    assert world.read(event).settlement.completed_at is None
    hidden.clear()
    assert world.sweep() == {}  # the next pass is a little later
    assert world.sweep(minutes=1) == {"bookings_settled": 1, "events_settled": 1}
    assert {world.get(first).status, world.get(late).status} == {BookingStatus.CANCELLED}


def test_a_free_event_is_settled_without_any_payment_provider(world):
    event = world.event(price=Decimal("0"), capacity=1)
    seat, waiting = world.book(principal(), event), world.book(principal(), event, waitlist=True)
    world.cancel_event(event)
    assert world.sweep(terms=None) == {"bookings_settled": 2, "events_settled": 1}
    assert [world.get(b).status for b in (seat, waiting)] == [BookingStatus.CANCELLED] * 2


def test_nobody_is_promoted_into_a_cancelled_event(world):
    event = world.event(price=Decimal("0"), capacity=1)
    seat_holder = principal()
    seat = world.book(seat_holder, event)
    waiting = world.book(principal(), event, waitlist=True)
    world.cancel_event(event)
    world.cancel(seat_holder, seat)  # its owner, before the settlement: the seat is freed, not passed on
    assert world.get(waiting).status is BookingStatus.WAITLISTED
    assert (world.read(event).seats_booked, world.read(event).waitlisted) == (0, 1)
    world.sweep()
    assert world.get(waiting).status is BookingStatus.CANCELLED


def test_an_event_with_bookings_is_deleted_only_once_cancelled_and_settled(world):
    event = world.event(price=Decimal("0"))
    world.book(principal(), event)
    with pytest.raises(Conflict) as refused:
        events.delete_event(world.events, world.owner, event.id, media=world.media)
    assert refused.value.code == "event_has_bookings"
    world.cancel_event(event)
    with pytest.raises(Conflict) as refused:
        events.delete_event(world.events, world.owner, event.id, media=world.media)
    assert refused.value.code == "event_has_bookings"  # its bookings are not settled yet
    world.sweep()
    events.delete_event(world.events, world.owner, event.id, media=world.media)
    assert world.read(event) is None


def test_the_settlement_is_shown_to_those_who_manage_the_event_only(world):
    event = world.event(price=Decimal("0"))
    attendee = principal()
    world.book(attendee, event)
    world.cancel_event(event)
    assert events.get_event(world.events, event.id, world.owner).settlement.bookings == 1
    assert events.get_event(world.events, event.id, principal(staff=True)).settlement.bookings == 1
    assert events.get_event(world.events, event.id, attendee).settlement is None
    assert events.get_event(world.events, event.id, None).settlement is None


# Money that arrives late or wrong.


def test_a_payment_of_another_amount_never_confirms_and_is_refunded_as_paid(world, caplog):
    event = world.event(capacity=1)
    held = world.book(principal(), event)
    world.provider.pay(held.payment.checkout_session, amount=1, currency="JPY")
    with caplog.at_level(logging.ERROR, logger="sessions_marketplace"):
        assert world.webhook(COMPLETED, held, amount=1, currency="jpy") is Outcome.APPLIED
    current = world.get(held)
    assert (current.status, current.refund_status) == (BookingStatus.PENDING_PAYMENT, RefundStatus.SUCCEEDED)
    assert (current.payment.paid_amount, current.payment.paid_currency) == (1, "JPY")
    assert current.checkout_url is None  # nothing more can be paid through it
    assert world.provider.refunds == {held.id: (f"pi_{held.payment.checkout_session}", 1)}
    [alert] = [r for r in caplog.records if r.getMessage() == "payment does not match its booking"]
    assert alert.fields["PaymentMismatch"] == 1
    assert alert.fields["_aws"]["CloudWatchMetrics"][0]["Metrics"] == [{"Name": "PaymentMismatch", "Unit": "Count"}]
    assert (alert.fields["expected"], alert.fields["received"]) == ("1250 USD", "1 jpy")
    # The hold still ends as unpaid ones do, and the seat goes back; nothing is refunded twice.
    assert world.sweep(minutes=16) == {"holds_expired": 1}
    assert (world.get(held).status, world.read(event).seats_booked) == (BookingStatus.EXPIRED, 0)
    assert world.provider.refund_calls == [held.id]


@pytest.mark.parametrize(("amount", "currency"), [(1250, "eur"), (1249, "usd"), (None, None)])
def test_a_currency_or_amount_that_differs_at_all_does_not_confirm(world, amount, currency):
    held = world.book(principal(), world.event())
    world.provider.pay(held.payment.checkout_session)
    session = held.payment.checkout_session
    event = ProviderEvent(f"evt_{held.id}", COMPLETED, session, held.id, True, f"pi_{session}", amount, currency)
    settlement.handle_event(world.bookings, world.events, world.terms, event)
    assert world.get(held).status is BookingStatus.PENDING_PAYMENT


def test_a_wrong_amount_found_by_the_sweep_is_refunded_and_the_hold_ends(world):
    event = world.event(capacity=1)
    held = world.book(principal(), event)
    world.provider.pay(held.payment.checkout_session, amount=99)  # and its webhook never comes
    assert world.sweep(minutes=16) == {"holds_expired": 1}
    current = world.get(held)
    assert (current.status, current.refund_status) == (BookingStatus.EXPIRED, RefundStatus.SUCCEEDED)
    assert world.provider.refunds == {held.id: (f"pi_{held.payment.checkout_session}", 99)}


def test_a_payment_completed_after_its_booking_was_cancelled_is_refunded(world):
    event = world.event()
    who = principal()
    held = world.book(who, event)
    world.provider.pay(held.payment.checkout_session)  # paid a moment before the cancellation closed it
    cancelled = world.cancel(who, held)
    assert cancelled.status is BookingStatus.CANCELLED
    current = world.get(held)
    assert (current.status, current.refund_status) == (BookingStatus.CANCELLED, RefundStatus.SUCCEEDED)
    assert world.provider.refunds == {held.id: (f"pi_{held.payment.checkout_session}", 1250)}
    assert world.webhook(COMPLETED, held) is Outcome.IGNORED  # its late webhook changes nothing
    assert world.provider.refund_calls == [held.id]


def test_a_checkout_the_provider_could_not_close_is_closed_by_the_sweep_and_a_payment_then_refunded(world):
    event = world.event()
    who = principal()
    held = world.book(who, event)
    world.provider.failing = True
    world.cancel(who, held)
    world.provider.failing = False
    world.provider.pay(held.payment.checkout_session)  # the customer pays meanwhile; the webhook is lost
    assert world.sweep() == {}  # not yet: a minute later
    assert world.sweep(minutes=2) == {"late_payments_refunded": 1}
    current = world.get(held)
    assert (current.status, current.refund_status) == (BookingStatus.CANCELLED, RefundStatus.SUCCEEDED)
    assert world.sweep(minutes=5) == {}


def test_a_hold_cancelled_by_a_process_that_died_before_closing_its_checkout_is_closed_by_the_sweep(world):
    who = principal()
    held = world.book(who, world.event())
    real = world.provider.expire_checkout

    def dies(session_id):
        raise Crash()

    world.provider.expire_checkout = dies
    with pytest.raises(Crash):
        world.cancel(who, held)  # committed, then killed before the provider was asked
    world.provider.expire_checkout = real
    assert world.get(held).status is BookingStatus.CANCELLED
    assert world.provider.sessions[held.payment.checkout_session]["status"] == "open"
    assert world.sweep() == {}  # the canceller had a minute to do it
    assert world.sweep(minutes=2) == {"checkouts_closed": 1}
    assert world.provider.sessions[held.payment.checkout_session]["status"] == "expired"
    assert world.sweep(minutes=5) == {}


def test_a_checkout_closed_later_and_never_paid_leaves_the_index(world):
    who = principal()
    held = world.book(who, world.event())
    world.provider.failing = True
    world.cancel(who, held)
    assert world.sweep(minutes=2) == {"checkouts_kept": 1}  # still down: tried again later
    world.provider.failing = False
    assert world.sweep(minutes=4) == {"checkouts_closed": 1}
    assert world.provider.sessions[held.payment.checkout_session]["status"] == "expired"
    assert world.sweep(minutes=10) == {}


def test_the_customer_leaving_the_checkout_is_told_apart_from_a_hold_that_ran_out(world):
    event = world.event(capacity=5)
    left, ran_out = world.book(principal(), event), world.book(principal(), event)
    world.webhook(EXPIRED, left)  # the provider's page closed before the hold's end
    world.sweep(minutes=16)
    assert world.get(left).cancel_reason is CancelReason.CHECKOUT_CANCELLED
    assert world.get(ran_out).cancel_reason is CancelReason.HOLD_EXPIRED
    assert {world.get(left).status, world.get(ran_out).status} == {BookingStatus.EXPIRED}


# Refunds by the event's creator or staff.


def test_the_creator_refunds_a_confirmed_seat_which_is_cancelled_and_refunded_in_full(world):
    event = world.event(starts_in_hours=2)
    _, booking = world.paid(event)
    result = bookings.refund(world.bookings, world.events, world.owner, booking.id, terms=world.terms)
    current = result.booking
    assert (current.status, current.refund_status, current.cancel_reason) == (
        BookingStatus.CANCELLED,
        RefundStatus.SUCCEEDED,
        CancelReason.ORGANIZER,
    )
    assert world.read(event).seats_booked == 0 and world.audit.entries == []  # its own event: not a staff action


def test_a_late_cancellation_the_policy_kept_can_still_be_refunded_by_staff_and_is_audited(world):
    event = world.event(starts_in_hours=2)
    owner, booking = world.paid(event)
    assert world.cancel(owner, booking).refund_status is RefundStatus.NOT_REFUNDABLE
    staff = principal(staff=True, username="staffer")
    result = bookings.refund(world.bookings, world.events, staff, booking.id, terms=world.terms)
    assert result.booking.refund_status is RefundStatus.SUCCEEDED
    [entry] = world.audit.entries
    assert (entry.action, entry.object_id, entry.actor.username) == (AuditAction.BOOKING_REFUND, booking.id, "staffer")
    assert entry.changes == {"refund_status": ("not_refundable", "pending")}
    with pytest.raises(Conflict) as again:
        bookings.refund(world.bookings, world.events, staff, booking.id, terms=world.terms)
    assert again.value.code == "nothing_to_refund"
    assert list(world.provider.refunds) == [booking.id]


def test_a_staff_refund_of_someone_elses_confirmed_seat_is_audited_with_the_money(world):
    event = world.event()
    _, booking = world.paid(event)
    staff = principal(staff=True)
    bookings.refund(world.bookings, world.events, staff, booking.id, terms=world.terms)
    [entry] = world.audit.entries
    assert entry.action is AuditAction.BOOKING_REFUND
    assert entry.changes == {"status": ("confirmed", "cancelled"), "refund_status": (None, "pending")}


def test_only_the_events_creator_or_staff_refund_and_only_money_that_was_kept(world):
    event = world.event()
    owner, booking = world.paid(event)
    with pytest.raises(PermissionDenied):
        bookings.refund(world.bookings, world.events, owner, booking.id, terms=world.terms)
    free = world.book(principal(), world.event(price=Decimal("0")))
    held = world.book(principal(), event)
    for unpaid in (free, held):
        with pytest.raises(Conflict) as refused:
            bookings.refund(world.bookings, world.events, world.owner, unpaid.id, terms=world.terms)
        assert refused.value.code == "nothing_to_refund"


# Audit: decided by the booking's owner; nothing for an edit that changes nothing.


def test_staff_who_is_also_the_creator_cancelling_an_attendees_booking_is_audited(world):
    staff_creator = world.owner._replace(is_staff=True)
    event = world.event(price=Decimal("0"))
    booking = world.book(principal(), event)
    world.cancel(staff_creator, booking)
    [entry] = world.audit.entries
    assert (entry.action, entry.object_id) == (AuditAction.BOOKING_CANCEL, booking.id)
    assert world.get(booking).cancel_reason is CancelReason.ORGANIZER


def test_staff_cancelling_their_own_booking_at_someone_elses_event_is_not_audited(world):
    staff = principal(staff=True)
    booking = world.book(staff, world.event(price=Decimal("0")))
    world.cancel(staff, booking)
    assert world.audit.entries == [] and world.get(booking).cancel_reason is CancelReason.OWNER


@pytest.mark.parametrize("who", ["staff", "creator"])
def test_an_edit_that_changes_nothing_writes_nothing(world, who):
    event = world.event(price=Decimal("0"), capacity=10)
    editor = principal(staff=True) if who == "staff" else world.owner
    same = {"title": event.title, "capacity": 10, "price": Decimal("0.00"), "status": "published"}
    after = events.update_event(world.events, editor, event.id, same, media=world.media)
    assert after.version == event.version and world.read(event).version == event.version
    assert world.audit.entries == []
    events.update_event(world.events, editor, event.id, {"title": "Renamed"}, media=world.media)
    assert world.read(event).version == event.version + 1
    assert len(world.audit.entries) == (1 if who == "staff" else 0)


def test_two_sweeps_settling_one_event_at_once_both_end_quietly(world):
    event = world.event(price=Decimal("0"), capacity=3)
    for _ in range(2):
        world.book(principal(), event)
    world.cancel_event(event)
    real_finish = world.events.finish_settlement
    raced = []

    def finished_first_by_the_other_sweep(settled_event, at):
        if not raced:
            raced.append(True)
            real_finish(settled_event, at)  # the other sweep gets there first...
        real_finish(settled_event, at)  # ...and this one finds nothing left to finish

    world.events.finish_settlement = finished_first_by_the_other_sweep
    assert world.sweep() == {"bookings_settled": 2}  # no crash, no repass
    assert world.read(event).settlement.completed_at is not None
