"""What a committed change tells whom (services.notifications), and its delivery once per recipient, kind and
subject through the ledger, over the fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain.common import iso
from chalicelib.domain.enums import BookingStatus, CancelReason, EventStatus
from chalicelib.domain.users import NotificationPreferences
from chalicelib.ports.mail import MailUnavailable
from chalicelib.ports.notices import Change
from chalicelib.services import notifications
from chalicelib.services.notifications import CLAIM_SECONDS, Notice, NoticeHeld, Outbox
from tests.contract.builders import T0, at, booking, event, hold, user
from tests.support.fakes import (
    FakeAudit,
    FakeBookings,
    FakeEvents,
    FakeMailer,
    FakeNoticeLedger,
    FakeUploads,
    FakeUsers,
)

C, P, W, X, E = (
    BookingStatus.CONFIRMED,
    BookingStatus.PENDING_PAYMENT,
    BookingStatus.WAITLISTED,
    BookingStatus.CANCELLED,
    BookingStatus.EXPIRED,
)
R = CancelReason


def _kinds(old_status, new_status, reason=None) -> list[str]:
    of = event()
    new = booking(of, new_status, cancel_reason=reason)
    old = None if old_status is None else replace(new, status=old_status, cancel_reason=None)
    return [n.kind for n in notifications.booking_notices(old, new)]


@pytest.mark.parametrize(
    ("old", "new", "reason", "kinds"),
    [
        (None, C, None, ["booking_confirmed"]),
        (None, W, None, ["waitlist_joined"]),
        (None, P, None, []),  # on its way to the checkout: the page shows it
        (W, C, None, ["waitlist_promoted"]),
        (W, P, None, ["waitlist_promoted"]),
        (P, C, None, ["payment_received"]),
        (P, E, R.HOLD_EXPIRED, ["hold_expired"]),
        (P, E, R.CHECKOUT_CANCELLED, []),  # the customer left the checkout themselves
        (C, X, R.OWNER, ["booking_cancelled"]),
        (C, X, R.ORGANIZER, ["booking_cancelled"]),
        (W, X, R.STAFF, ["booking_cancelled"]),
        (C, X, R.EVENT_CANCELLED, ["event_cancelled"]),
        (W, X, R.EVENT_CANCELLED, ["event_cancelled"]),
        (P, X, R.EVENT_CANCELLED, ["event_cancelled"]),
        (C, C, None, []),  # a change of something else (its refund, its checkout link)
        (X, X, R.OWNER, []),
    ],
)
def test_each_booking_transition_tells_its_owner_one_thing_or_nothing(old, new, reason, kinds):
    assert _kinds(old, new, reason) == kinds


def test_a_notice_is_about_the_booking_for_its_owner():
    of = event()
    made = booking(of, C)
    [notice] = notifications.booking_notices(None, made)
    assert notice == Notice("booking_confirmed", made.user_id, made.id, of.id, booking=made)
    assert notice.key == f"{made.user_id}#booking_confirmed#{made.id}"
    assert notifications.booking_notices(made, None) == []  # a deleted item tells nobody


def test_an_event_change_names_when_and_where_only_for_a_published_event():
    old = event(location="Room 1")
    moved = replace(old, starts_at=at(days=11), location="Room 2", title="New title", version=2)
    assert notifications.event_changes(old, moved) == ("starts_at", "location")
    assert notifications.event_changes(old, replace(old, title="Only the title", version=2)) == ()
    assert notifications.event_changes(old, replace(moved, status=EventStatus.DRAFT)) == ()
    assert notifications.event_changes(old, replace(moved, status=EventStatus.CANCELLED)) == ()
    assert notifications.event_changes(None, old) == ()


class World:
    def __init__(self) -> None:
        audit, uploads = FakeAudit(), FakeUploads()
        self.users, self.events = FakeUsers(audit, uploads), FakeEvents(audit, uploads)
        self.bookings = FakeBookings(self.events)
        self.ledger, self.mailer = FakeNoticeLedger(), FakeMailer()
        self.outbox = Outbox(self.users, self.events, self.bookings, self.ledger, self.mailer, "https://app.test")
        self.event = event(title="DynamoDB in depth", timezone="Europe/Paris")
        self.events.add(self.event)

    def member(self, name: str, **fields: object):
        account = user(name, **fields)
        self.users.add(account)
        return account

    def booked(self, name: str, status: BookingStatus = C):
        account = self.member(name)
        made = booking(self.event, status, user_id=account.id)
        self.bookings.by_id[made.id] = made  # as stored: the seat counts are not the subject here
        return account, made


def test_a_notice_is_sent_once_whatever_the_retries():
    world = World()
    alice, made = world.booked("alice")
    [notice] = notifications.booking_notices(None, made)
    assert notifications.deliver(world.outbox, notice, T0) is True
    assert notifications.deliver(world.outbox, notice, T0 + timedelta(hours=1)) is False
    [message] = world.mailer.sent
    assert message.to == alice.email and "DynamoDB in depth" in message.subject
    assert [a.filename.endswith(".ics") for a in message.attachments] == [True]
    assert world.ledger.sent_keys == [notice.key]


def test_a_failed_send_gives_the_claim_back_and_the_retry_sends_it():
    world = World()
    _, made = world.booked("alice")
    [notice] = notifications.booking_notices(None, made)
    world.mailer.failing = True
    with pytest.raises(MailUnavailable):
        notifications.deliver(world.outbox, notice, T0)
    assert world.ledger.by_key == {}
    world.mailer.failing = False
    assert notifications.deliver(world.outbox, notice, T0 + timedelta(seconds=1)) is True
    assert len(world.mailer.sent) == 1


def test_a_notice_held_by_a_sender_that_died_is_retried_and_sent_once_its_claim_ran_out():
    world = World()
    _, made = world.booked("alice")
    [notice] = notifications.booking_notices(None, made)
    # A sender claimed it and died before sending.
    world.ledger.claim(notice.key, notice.recipient, T0, T0 + timedelta(seconds=CLAIM_SECONDS))
    with pytest.raises(NoticeHeld) as held:
        notifications.deliver(world.outbox, notice, T0 + timedelta(seconds=CLAIM_SECONDS))
    assert held.value.until == T0 + timedelta(seconds=CLAIM_SECONDS)
    assert world.mailer.sent == []
    assert notifications.deliver(world.outbox, notice, T0 + timedelta(seconds=CLAIM_SECONDS + 1)) is True
    assert len(world.mailer.sent) == 1


def test_nobody_to_tell_is_recorded_and_nothing_sent():
    world = World()
    gone = world.member("gone", is_active=False)
    made = booking(world.event, C, user_id=gone.id)
    [notice] = notifications.booking_notices(None, made)
    assert notifications.deliver(world.outbox, notice, T0) is False
    assert world.mailer.sent == [] and world.ledger.sent_keys == [notice.key]


def test_an_event_change_tells_every_holder_once_across_pages(monkeypatch):
    monkeypatch.setattr(notifications, "FAN_OUT_PAGE", 2)
    world = World()
    holders = [world.booked(f"holder{i}", status)[0] for i, status in enumerate((C, C, W, C, P))]
    _, left = world.booked("left")
    world.bookings.by_id[left.id] = replace(left, status=X, cancel_reason=R.OWNER)
    moved = replace(world.event, starts_at=at(days=12), version=2)
    world.events.by_id[moved.id] = moved
    change = Change("101", world.event, moved)
    assert notifications.handle(world.outbox, [change], T0) == []
    assert sorted(m.to for m in world.mailer.sent) == sorted(h.email for h in holders)
    assert notifications.handle(world.outbox, [change], T0) == []  # delivered again by a retry: nothing more
    assert len(world.mailer.sent) == len(holders)


def test_a_failed_change_is_reported_and_the_later_ones_still_handled():
    world = World()
    _, first = world.booked("alice")
    _, second = world.booked("bob")
    world.ledger.claim(f"{first.user_id}#booking_confirmed#{first.id}", first.user_id, T0, T0 + timedelta(minutes=1))
    changes = [Change("101", None, first), Change("102", None, second), Change("103", None, hold(world.event))]
    assert notifications.handle(world.outbox, changes, T0) == ["101"]
    assert [m.to for m in world.mailer.sent] == [world.users.get(second.user_id).email]


def test_the_sweep_marks_events_starting_within_a_day_once_per_start_time():
    world = World()
    soon = event(starts_at=T0 + timedelta(hours=23))
    edge = event(starts_at=T0 + timedelta(hours=24))
    later = event(starts_at=T0 + timedelta(hours=25))
    started = event(starts_at=T0 - timedelta(minutes=1))
    for each in (soon, edge, later, started):
        world.events.add(each)
    assert notifications.mark_reminders(world.events, T0) == 2  # the world's own event starts in ten days
    assert {e.id for e in world.events.by_id.values() if e.reminded_for} == {soon.id, edge.id}
    assert notifications.mark_reminders(world.events, T0 + timedelta(minutes=1)) == 0
    moved = world.events.get(soon.id)
    world.events.by_id[soon.id] = replace(moved, starts_at=T0 + timedelta(hours=20), version=moved.version + 1)
    assert notifications.mark_reminders(world.events, T0 + timedelta(minutes=2)) == 1
    assert world.events.get(soon.id).reminded_for == T0 + timedelta(hours=20)


def test_a_mark_reminds_each_confirmed_seat_of_its_start_once_and_a_moved_start_again():
    world = World()
    confirmed, _ = world.booked("confirmed")
    world.booked("waiting", W)
    world.booked("holding", P)
    marked = replace(world.event, reminded_for=world.event.starts_at)
    assert notifications.handle(world.outbox, [Change("101", world.event, marked)], T0) == []
    [message] = world.mailer.sent
    assert message.to == confirmed.email and message.subject.startswith("Reminder: ")
    assert world.ledger.sent_keys == [f"{confirmed.id}#reminder#{world.event.id}@{iso(world.event.starts_at)}"]
    # The seat counts changing afterwards are no news; a mark for a moved start is.
    counted = replace(marked, seats_booked=3)
    assert notifications.handle(world.outbox, [Change("102", marked, counted)], T0) == []
    assert len(world.mailer.sent) == 1
    moved = replace(counted, starts_at=at(days=11), version=2)  # the creator's edit, then the sweep's mark
    remarked = replace(moved, reminded_for=at(days=11))
    world.events.by_id[moved.id] = remarked
    assert notifications.handle(world.outbox, [Change("103", counted, moved), Change("104", moved, remarked)], T0) == []
    # The three holders are told of the change; the confirmed seat is reminded of the new start.
    assert [(m.subject.split(":")[0], m.to) for m in world.mailer.sent[1:]] == [
        *[("Event changed", m.to) for m in world.mailer.sent[1:4]],
        ("Reminder", confirmed.email),
    ]
    assert len(world.mailer.sent) == 5


def test_a_reminder_turned_off_is_not_sent_and_one_sent_says_how_to_turn_it_off():
    world = World()
    links = []
    outbox = replace(
        world.outbox, unsubscribe_link=lambda user_id, kind: links.append((user_id, kind)) or "https://api.test/u"
    )
    quiet, _ = world.booked("quiet")
    world.users.by_id[quiet.id] = replace(quiet, notifications=NotificationPreferences(reminders=False))
    keen, _ = world.booked("keen")
    marked = replace(world.event, reminded_for=world.event.starts_at)
    assert notifications.handle(outbox, [Change("101", world.event, marked)], T0) == []
    [message] = world.mailer.sent
    assert message.to == keen.email and links == [(keen.id, "reminder")]
    assert dict(message.headers)["List-Unsubscribe"] == "<https://api.test/u>"
    assert len(world.ledger.sent_keys) == 2  # the one turned off is done too: not retried
    # Transactional messages are sent whatever the preferences say, and carry no unsubscribe header.
    [notice] = notifications.booking_notices(None, booking(world.event, C, user_id=quiet.id))
    notifications.deliver(outbox, notice, T0)
    assert world.mailer.sent[-1].to == quiet.email and world.mailer.sent[-1].headers == ()
