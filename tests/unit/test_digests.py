"""The creators' daily digest (services.digests) over the fakes: what a booking's change counts for and on which
day, its recording by the notifier, and the sending: from 07:00 UTC, once per creator and day, resumed after a
stop."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest

from chalicelib.domain.enums import BookingStatus, CancelReason
from chalicelib.domain.users import NotificationPreferences
from chalicelib.ports.digests import BOOKED, CANCELLED, Tally
from chalicelib.ports.notices import Change
from chalicelib.services import digests, notifications
from chalicelib.services.digests import Activity, DigestRun, record_change
from chalicelib.services.notifications import Outbox
from tests.contract.builders import booking, event, user
from tests.support.fakes import (
    FakeAudit,
    FakeBookings,
    FakeDigestBook,
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
DAY = date(2031, 3, 3)
MORNING = datetime(2031, 3, 4, 7, 0, tzinfo=UTC)  # the next day's 07:00 UTC: DAY's digests are due
LATE = datetime(2031, 3, 3, 23, 59, 59, 999999, tzinfo=UTC)


def _change(old_status, new_status, reason=None, *, created=LATE, cancelled=None, at=None) -> Change:
    new = booking(event(), new_status, cancel_reason=reason, created_at=created, cancelled_at=cancelled)
    old = None if old_status is None else replace(new, status=old_status, cancel_reason=None, cancelled_at=None)
    return Change("101", old, new, at)


@pytest.mark.parametrize(
    ("old", "new", "reason", "what"),
    [
        (None, C, None, BOOKED),  # a free seat
        (W, C, None, BOOKED),  # promoted from the waitlist
        (P, C, None, BOOKED),  # a held seat paid
        (None, P, None, None),  # a hold: not a seat until paid
        (None, W, None, None),
        (W, P, None, None),
        (P, E, R.HOLD_EXPIRED, None),
        (P, X, R.OWNER, None),  # a hold given up was never a seat
        (W, X, R.OWNER, None),
        (C, X, R.OWNER, CANCELLED),
        (C, X, R.ORGANIZER, CANCELLED),
        (C, X, R.STAFF, CANCELLED),
        (C, X, None, CANCELLED),  # ended before reasons were recorded
        (C, X, R.EVENT_CANCELLED, None),  # the creator cancelled the event: no news to them
        (C, C, None, None),  # a change of something else (its refund)
        (X, X, R.OWNER, None),
    ],
)
def test_a_new_seat_or_a_cancelled_seat_counts_and_nothing_else(old, new, reason, what):
    change = _change(old, new, reason, cancelled=LATE if new is X else None, at=LATE)
    activity = digests.activity_of(change, MORNING)
    assert (activity.what if activity else None) == what
    if activity is not None:
        booked = change.new
        assert activity == Activity(DAY, booked.event_creator, booked.event_id, what, booked.id)


def test_a_deleted_booking_and_an_events_change_count_for_nothing():
    made = booking(event(), C)
    assert digests.activity_of(Change("101", made, None), MORNING) is None
    changed = event()
    assert digests.activity_of(Change("102", changed, replace(changed, title="New", version=2)), MORNING) is None


def test_the_day_is_the_bookings_own_time_else_the_commits_else_now():
    midnight = datetime(2031, 3, 4, tzinfo=UTC)
    # A new seat: its creation, whenever the change is read.
    assert digests.activity_of(_change(None, C, created=LATE, at=midnight), MORNING).day == DAY
    assert digests.activity_of(_change(None, C, created=midnight, at=LATE), MORNING).day == date(2031, 3, 4)
    # A cancellation: its own time.
    cancel = _change(C, X, R.OWNER, created=datetime(2031, 1, 1, tzinfo=UTC), cancelled=LATE, at=midnight)
    assert digests.activity_of(cancel, MORNING).day == DAY
    # A promotion or a payment has no time of its own: the stream's time of the commit, else now.
    assert digests.activity_of(_change(W, C, created=datetime(2031, 1, 1, tzinfo=UTC), at=LATE), MORNING).day == DAY
    assert digests.activity_of(_change(P, C, at=None), midnight).day == date(2031, 3, 4)
    assert digests.activity_of(_change(P, C, at=None), LATE).day == DAY


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (datetime(2031, 3, 4, 6, 59, 59, 999999, tzinfo=UTC), date(2031, 3, 2)),
        (MORNING, DAY),
        (datetime(2031, 3, 4, 23, 59, tzinfo=UTC), DAY),
        (datetime(2031, 3, 5, 6, 59, tzinfo=UTC), DAY),  # every run of that morning failed: still DAY's
        (datetime(2031, 3, 5, 7, 0, tzinfo=UTC), date(2031, 3, 4)),
    ],
)
def test_a_days_digests_are_due_from_seven_utc_the_next_morning_for_a_day(now, due):
    assert digests.due_day(now) == due


class World:
    def __init__(self) -> None:
        audit, uploads = FakeAudit(), FakeUploads()
        self.users, self.events = FakeUsers(audit, uploads), FakeEvents(audit, uploads)
        self.bookings = FakeBookings(self.events)
        self.ledger, self.mailer, self.book = FakeNoticeLedger(), FakeMailer(), FakeDigestBook()
        self.links: list[tuple[str, str]] = []
        self.outbox = Outbox(
            self.users,
            self.events,
            self.bookings,
            self.ledger,
            self.mailer,
            "https://app.test",
            lambda user_id, kind: self.links.append((user_id, kind)) or f"https://api.test/u/{user_id}",
            partial(record_change, self.book),
        )

    def creator(self, name: str, **fields: object):
        account = user(name, **fields)
        self.users.add(account)
        return account

    def event_of(self, creator, **fields: object):
        made = event(creator=creator.id, creator_username=creator.username, **fields)
        self.events.add(made)
        return made

    def activity(self, of, booked: int = 0, cancelled: int = 0, day: date = DAY) -> None:
        for n in range(booked):
            self.book.record(day, of.creator, of.id, BOOKED, f"{of.id}-b{n}")
        for n in range(cancelled):
            self.book.record(day, of.creator, of.id, CANCELLED, f"{of.id}-c{n}")

    def send(self, now: datetime = MORNING, budget: float = 60.0, clock=lambda: 0.0) -> DigestRun:
        return digests.send_digests(self.outbox, self.book, now, budget, clock)


def test_the_notifier_records_each_seat_once_however_often_its_change_is_delivered():
    world = World()
    creator = world.creator("maker")
    of = world.event_of(creator)
    seat = booking(of, C, created_at=LATE)
    left = replace(seat, status=X, cancelled_at=LATE, cancel_reason=R.OWNER)
    held = booking(of, P, created_at=LATE)
    changes = [Change("101", None, seat), Change("102", seat, left), Change("103", None, held)]
    assert notifications.handle(world.outbox, changes, MORNING) == []
    assert notifications.handle(world.outbox, changes[:2], MORNING) == []  # a retried batch
    assert world.book.lines(DAY, creator.id) == [Tally(of.id, 1, 1)]
    assert list(world.book.creators(DAY)) == [creator.id]


def test_a_change_that_cannot_be_recorded_is_reported_for_a_retry():
    world = World()
    of = world.event_of(world.creator("maker"))
    world.book.failing = True
    assert notifications.handle(world.outbox, [Change("101", None, booking(of, C))], MORNING) == ["101"]


def test_a_creator_gets_one_digest_of_the_day_with_a_line_per_event():
    world = World()
    creator = world.creator("maker")
    first = world.event_of(creator, title="DynamoDB in depth", capacity=10, seats_booked=4)
    second = world.event_of(creator, title="Streams", capacity=None, seats_booked=1)
    world.activity(first, booked=2, cancelled=1)
    world.activity(second, cancelled=1)
    world.activity(first, booked=5, day=DAY + timedelta(days=1))  # the next day's: not in this one
    run = world.send()
    assert run == DigestRun(day="2031-03-03", sent=1, done=True)
    [message] = world.mailer.sent
    assert (message.to, message.subject) == ("maker@example.com", "Your daily digest: 2 new bookings, 2 cancellations")
    lines = {
        first.id: f"- DynamoDB in depth <https://app.test/dashboard/events/{first.id}/attendees>: +2 booked, "
        "\u22121 cancelled (4 of 10 seats booked)",
        second.id: f"- Streams <https://app.test/dashboard/events/{second.id}/attendees>: +0 booked, "
        "\u22121 cancelled (1 seat booked)",
    }
    assert "\n".join(lines[key] for key in sorted(lines)) in message.text
    assert dict(message.headers)["List-Unsubscribe"] == f"<https://api.test/u/{creator.id}>"
    assert world.links == [(creator.id, "digest")]
    assert world.ledger.sent_keys == [f"{creator.id}#digest#digest#2031-03-03"]
    assert world.book.done(DAY) is True


def test_nothing_is_sent_before_seven_and_a_day_without_activity_sends_nothing():
    world = World()
    of = world.event_of(world.creator("maker"))
    world.activity(of, booked=1)
    early = world.send(MORNING - timedelta(microseconds=1))
    assert early == DigestRun(day="2031-03-02", done=True)  # the day before: nobody had anything
    assert world.mailer.sent == [] and world.book.done(DAY) is False
    assert world.send().sent == 1


def test_a_day_done_is_not_read_again_and_a_digest_is_never_sent_twice():
    world = World()
    of = world.event_of(world.creator("maker"))
    world.activity(of, booked=1)
    assert world.send().sent == 1
    assert world.send(MORNING + timedelta(hours=1)) == DigestRun(day="2031-03-03", done=True)
    world.book.finished.clear()  # the mark lost: the ledger still says it was sent
    assert world.send(MORNING + timedelta(hours=2)) == DigestRun(day="2031-03-03", not_sent=1, done=True)
    assert len(world.mailer.sent) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"notifications": NotificationPreferences(digest=False)},
        {"is_active": False},
        {"email": ""},
    ],
)
def test_a_creator_with_digests_off_inactive_or_without_an_address_gets_none(fields):
    world = World()
    quiet = world.creator("quiet", **fields)
    keen = world.creator("keen")
    world.activity(world.event_of(quiet), booked=1)
    world.activity(world.event_of(keen), booked=1)
    run = world.send()
    assert (run.sent, run.not_sent, run.done) == (1, 1, True)
    assert [m.to for m in world.mailer.sent] == ["keen@example.com"]
    assert len(world.ledger.sent_keys) == 2  # recorded as done: not tried again


def test_deleted_events_are_left_out_and_a_digest_left_without_any_is_not_sent():
    world = World()
    creator, other = world.creator("maker"), world.creator("other")
    kept, gone = world.event_of(creator, title="Kept"), world.event_of(creator, title="Gone")
    world.activity(kept, booked=1)
    world.activity(gone, booked=3)
    only = world.event_of(other)
    world.activity(only, booked=1)
    del world.events.by_id[gone.id]
    del world.events.by_id[only.id]
    run = world.send()
    assert (run.sent, run.not_sent, run.done) == (1, 1, True)
    [message] = world.mailer.sent
    assert message.subject == "Your daily digest: 1 new booking, 0 cancellations"
    assert "Kept" in message.text and "Gone" not in message.text


def test_a_run_stops_at_its_budget_and_the_next_resumes_without_sending_twice():
    world = World()
    makers = [world.creator(f"maker{n}") for n in range(3)]
    for maker in makers:
        world.activity(world.event_of(maker), booked=1)
    ticks = iter([100.0, 105.0, 120.0])  # the start, then before each creator
    run = world.send(budget=15.0, clock=lambda: next(ticks))
    assert run == DigestRun(day="2031-03-03", sent=1, stopped=True)
    assert world.book.done(DAY) is False
    first = sorted(makers, key=lambda m: m.id)[0]
    assert [m.to for m in world.mailer.sent] == [first.email]
    # The message's time is the run's `now` and the time spent: its claim runs from then.
    assert world.ledger.by_key[f"{first.id}#digest#digest#2031-03-03"] == ("sent", MORNING + timedelta(seconds=5))
    resumed = world.send(MORNING + timedelta(hours=1))
    assert resumed == DigestRun(day="2031-03-03", sent=2, not_sent=1, done=True)
    assert sorted(m.to for m in world.mailer.sent) == sorted(m.email for m in makers)


def test_a_failed_digest_leaves_the_day_open_for_the_next_run():
    world = World()
    world.activity(world.event_of(world.creator("maker")), booked=1)
    world.mailer.failing = True
    assert world.send() == DigestRun(day="2031-03-03", failed=1)
    assert world.book.done(DAY) is False and world.ledger.by_key == {}
    world.mailer.failing = False
    assert world.send(MORNING + timedelta(hours=1)) == DigestRun(day="2031-03-03", sent=1, done=True)


def test_the_local_notifier_runs_the_digests_between_polls_at_most_once_a_minute(capsys):
    import threading

    from devstack import notifier

    now, calls, stop = [0.0], [], threading.Event()

    class Poller:
        polls = 0

        def poll(self) -> int:
            self.polls += 1
            now[0] += 25.0
            if self.polls == 6:
                stop.set()
            return 1

    def run_digests() -> None:
        calls.append(now[0])
        if len(calls) == 1:
            raise RuntimeError("the local AWS is restarting")

    notifier.poll_forever(Poller(), 0.0, stop, run_digests, clock=lambda: now[0])
    assert calls == [25.0, 100.0]  # a failed run is tried again a minute later, not at the next poll
    assert '"message": "digests failed"' in capsys.readouterr().out
