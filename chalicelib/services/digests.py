"""The creators' daily digest: each creator is told, once a day, of the previous UTC day's new seats and
cancellations on their events.

Recorded from the bookings' stream (services.notifications.handle calls record_change), so only committed changes
count, and each booking id is kept in a set (ports.DigestBook): a change delivered twice is counted once. Sent by
send_digests (hourly deployed, every minute locally, `manage.py send-digests`): from DIGEST_HOUR UTC, day D's
digest goes to every creator with activity on D, through the notifications' ledger (services.notifications.
deliver), so a run that stops or dies part way resumes with the creators not yet told; the day is marked done once
every creator was handled, and later runs read only that mark."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.bookings import Booking
from chalicelib.domain.enums import BookingStatus, CancelReason
from chalicelib.ports.digests import BOOKED, CANCELLED
from chalicelib.services.messages import DigestLine
from chalicelib.services.notifications import Notice, deliver

if TYPE_CHECKING:
    from collections.abc import Callable

    from chalicelib.ports.digests import DigestBook
    from chalicelib.ports.events import EventRepository
    from chalicelib.ports.notices import Change
    from chalicelib.services.notifications import Outbox

# Day D's digests go out from this hour (UTC) of D + 1: late changes of D, retried by the stream for a few hours
# after midnight, are in by then.
DIGEST_HOUR = 7
# What a seat becomes confirmed from: nothing (a free seat), the waitlist, or a held seat that was paid.
SEATED_FROM = (None, BookingStatus.WAITLISTED, BookingStatus.PENDING_PAYMENT)


@dataclass(frozen=True)
class Activity:
    """One booking's change as the digest counts it."""

    day: date
    creator: str
    event_id: str
    what: str  # BOOKED or CANCELLED
    booking_id: str


def utc_day(moment: datetime) -> date:
    """The UTC day of `moment` (a naive time is UTC already)."""
    return moment.astimezone(UTC).date() if moment.tzinfo is not None else moment.date()


def activity_of(change: Change, now: datetime) -> Activity | None:
    """What a committed change of a booking counts for in its creator's digest: a new seat (confirmed from
    SEATED_FROM), or a seat cancelled other than by the event's cancellation (the creator did that). A hold, a
    waitlist place and their end count for nothing. Its day is the booking's own time of the change when it has
    one, else the stream's time of the commit, else `now`: the first two are the same on every delivery."""
    new = change.new if isinstance(change.new, Booking) else None
    old = change.old if isinstance(change.old, Booking) else None
    before = old.status if old is not None else None
    if new is None or before is new.status:
        return None
    if new.status is BookingStatus.CONFIRMED and before in SEATED_FROM:
        what, at = BOOKED, new.created_at if before is None else None
    elif (
        before is BookingStatus.CONFIRMED
        and new.status is BookingStatus.CANCELLED
        and new.cancel_reason is not CancelReason.EVENT_CANCELLED
    ):
        what, at = CANCELLED, new.cancelled_at
    else:
        return None
    moment = at or change.at or now
    return Activity(utc_day(moment), new.event_creator, new.event_id, what, new.id)


def record_change(book: DigestBook, change: Change, now: datetime) -> Activity | None:
    """Record what `change` counts for (harmless to do again); returns it."""
    activity = activity_of(change, now)
    if activity is not None:
        book.record(activity.day, activity.creator, activity.event_id, activity.what, activity.booking_id)
    return activity


def due_day(now: datetime) -> date:
    """The day whose digests are due at `now`: yesterday from DIGEST_HOUR on, the day before until then (so a
    day that every run of its morning failed is still sent after midnight, until the next one is due)."""
    return utc_day(now - timedelta(hours=DIGEST_HOUR)) - timedelta(days=1)


def digest_notice(events: EventRepository, book: DigestBook, day: date, creator: str) -> Notice | None:
    """The digest of `creator` for `day`, its lines in event order; None when none of its events is left."""
    lines = []
    for tally in book.lines(day, creator):
        event = events.get(tally.event_id)
        if event is None:
            continue  # deleted since: nothing to show or link to
        lines.append(DigestLine(event, tally.booked, tally.cancelled))
    if not lines:
        return None
    return Notice("digest", creator, f"digest#{day.isoformat()}", lines[0].event.id, digest=tuple(lines))


@dataclass
class DigestRun:
    """What one run did: `sent` messages; `not_sent` creators (sent before, turned off, inactive, no address,
    nothing left to show); `failed` ones (tried again next run); `stopped` at the time budget; `done` when the
    day is marked (now or earlier: then nothing else was read)."""

    day: str
    sent: int = 0
    not_sent: int = 0
    failed: int = 0
    stopped: bool = False
    done: bool = False


def send_digests(
    outbox: Outbox,
    book: DigestBook,
    now: datetime,
    budget_seconds: float,
    clock: Callable[[], float] = time.monotonic,
) -> DigestRun:
    """Send the digests due at `now` (due_day) unless its day is done, until `budget_seconds` of `clock` are
    spent; a creator whose digest fails is logged and left for the next run, which also picks up where a
    stopped one ended (the ledger skips those sent). The messages' time is `now` plus the time spent."""
    from chalicelib.logs import get_logger

    day = due_day(now)
    run = DigestRun(day.isoformat())
    if book.done(day):
        run.done = True
        return run
    started = clock()
    for creator in book.creators(day):
        spent = clock() - started
        if spent >= budget_seconds:
            run.stopped = True
            return run
        try:
            notice = digest_notice(outbox.events, book, day, creator)
            if notice is not None and deliver(outbox, notice, now + timedelta(seconds=spent)):
                run.sent += 1
            else:
                run.not_sent += 1
        except Exception as exc:  # noqa: BLE001 - the day stays open: the next run tries this creator again
            get_logger().warning(
                "digest failed", extra={"fields": {"day": run.day, "creator": creator, "error": type(exc).__name__}}
            )
            run.failed += 1
    if not run.failed:
        book.mark_done(day)
        run.done = True
    return run
