"""Notifications: what a committed change of a booking or an event tells whom, and its delivery, once each.

The changes come from the tables' streams (DynamoDB Streams to the Notifier function deployed, a poller in the
local stack), so a notification exists only for a write that committed, and a rolled-back one tells nobody
anything. Each notification is sent at most once per (recipient, kind, subject) through the ledger: claimed
before sending, recorded as sent after. A sender that dies between the two leaves a claim that runs out
(CLAIM_SECONDS), and the retry sends it then: a message is never lost, and is sent twice only if the sender died
in the instant after the mail service took it and before the ledger recorded it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.common import iso
from chalicelib.domain.enums import BookingStatus, CancelReason, EventStatus
from chalicelib.domain.notifications import OPTIONAL

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from chalicelib.domain.bookings import Booking
    from chalicelib.domain.events import Event
    from chalicelib.ports.bookings import BookingRepository
    from chalicelib.ports.events import EventRepository
    from chalicelib.ports.mail import Mailer, MailMessage
    from chalicelib.ports.notices import Change, NoticeLedger
    from chalicelib.ports.users import UserRepository
    from chalicelib.services.messages import DigestLine

# Longer than the Notifier function may run (its timeout, 30 s), so a live sender's claim is never taken over;
# short enough that a dead sender's message still goes out within a minute or two.
CLAIM_SECONDS = 60
# What an event's holders are told about when it changes: when and where it takes place.
WATCHED = ("starts_at", "ends_at", "location", "online_url")
# Who is told of an event's change: everyone with a booking that still counts or waits.
HOLDING = (BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT, BookingStatus.WAITLISTED)
FAN_OUT_PAGE = 100
# Holders are reminded this long before the start (by the sweep, which runs every minute).
REMINDER_AHEAD = timedelta(hours=24)
REMINDER_PAGE = 25


@dataclass(frozen=True)
class Notice:
    """One message to one user: `kind` (domain.notifications.KINDS) about `subject` (a booking's id, or an
    event's id and version for a change of the event); a digest carries its lines (services.digests)."""

    kind: str
    recipient: str
    subject: str
    event_id: str
    booking: Booking | None = None
    changes: tuple[str, ...] = ()
    digest: tuple[DigestLine, ...] = ()

    @property
    def key(self) -> str:
        """What makes it unique: one message per recipient, kind and subject."""
        return f"{self.recipient}#{self.kind}#{self.subject}"


def booking_notices(old: Booking | None, new: Booking | None) -> list[Notice]:
    """What a booking's change tells its owner (nothing for a deleted item or a change of something else)."""
    if new is None or (old is not None and old.status is new.status):
        return []
    before = old.status if old is not None else None
    kind = _booking_kind(before, new)
    if kind is None:
        return []
    return [Notice(kind, new.user_id, new.id, new.event_id, booking=new)]


def _booking_kind(before: BookingStatus | None, new: Booking) -> str | None:
    after = new.status
    if after is BookingStatus.CONFIRMED:
        if before is BookingStatus.PENDING_PAYMENT:
            return "payment_received"
        return "waitlist_promoted" if before is BookingStatus.WAITLISTED else "booking_confirmed"
    if after is BookingStatus.WAITLISTED and before is None:
        return "waitlist_joined"
    if after is BookingStatus.PENDING_PAYMENT and before is BookingStatus.WAITLISTED:
        return "waitlist_promoted"  # a seat held for payment: the message carries the link and the time left
    if after in (BookingStatus.CANCELLED, BookingStatus.EXPIRED) and before is not None:
        if new.cancel_reason is CancelReason.EVENT_CANCELLED:
            return "event_cancelled"
        if new.cancel_reason is CancelReason.HOLD_EXPIRED:
            return "hold_expired"
        if new.cancel_reason is CancelReason.CHECKOUT_CANCELLED:
            return None  # the customer left the checkout themselves: the page told them
        return "booking_cancelled"
    return None  # a new hold on its way to the checkout: the page is showing it


def event_changes(old: Event | None, new: Event | None) -> tuple[str, ...]:
    """Which of the watched fields an event's change touched, for an event its holders can see (a draft has
    none; a cancellation is told booking by booking)."""
    if old is None or new is None or new.status is not EventStatus.PUBLISHED:
        return ()
    return tuple(name for name in WATCHED if getattr(old, name) != getattr(new, name))


def _holders(event: Event, statuses: tuple[BookingStatus, ...], bookings: BookingRepository) -> Iterator[Booking]:
    """The event's bookings in `statuses`, read page by page, part after part of its bookings (in no order that
    matters: a Query per part a page reaches)."""
    start: dict[str, str] | None = None
    while True:
        page = bookings.list_by_event_part(event.id, parts=event.booking_parts, limit=FAN_OUT_PAGE, start=start)
        yield from (booking for booking in page.items if booking.status in statuses)
        if page.next_key is None:
            return
        start = page.next_key


def event_notices(new: Event, changes: tuple[str, ...], bookings: BookingRepository) -> Iterator[Notice]:
    """One notice per holder of `new` (confirmed, held or waitlisted)."""
    subject = f"{new.id}@v{new.version}"
    for booking in _holders(new, HOLDING, bookings):
        yield Notice("event_changed", booking.user_id, subject, new.id, booking=booking, changes=changes)


def reminder_due(old: Event | None, new: Event | None) -> bool:
    """Whether this change is the sweep marking the event reminded of its current start (mark_reminders)."""
    return (
        new is not None
        and new.starts_at is not None
        and new.reminded_for == new.starts_at
        and (old is None or old.reminded_for != new.reminded_for)
    )


def reminder_notices(new: Event, bookings: BookingRepository) -> Iterator[Notice]:
    """One reminder per confirmed seat of `new`, about its current start: moved, it is reminded again."""
    assert new.starts_at is not None
    subject = f"{new.id}@{iso(new.starts_at)}"
    for booking in _holders(new, (BookingStatus.CONFIRMED,), bookings):
        yield Notice("reminder", booking.user_id, subject, new.id, booking=booking)


def mark_reminders(events: EventRepository, now: datetime, limit: int = REMINDER_PAGE) -> int:
    """Mark the published events starting within REMINDER_AHEAD and not yet reminded of that start (the sweep,
    every minute); the notifier sends the reminders from each mark. Returns how many were marked; at most
    `limit` events are read in one call, soonest first, so a busy hour is caught up over a few sweeps."""
    page = events.list_published(limit=limit, start=None, creator=None, starts_from=iso(now))
    marked = 0
    for event in page.items:
        if event.starts_at is None or event.starts_at > now + REMINDER_AHEAD:
            break
        if event.reminded_for != event.starts_at and events.mark_reminded(event):
            marked += 1
    return marked


def notices_of(change: Change, bookings: BookingRepository) -> Iterable[Notice]:
    """Every notice one committed change gives."""
    from chalicelib.domain.bookings import Booking
    from chalicelib.domain.events import Event

    if isinstance(change.new, Booking) or isinstance(change.old, Booking):
        old = change.old if isinstance(change.old, Booking) else None
        new = change.new if isinstance(change.new, Booking) else None
        return booking_notices(old, new)
    old_event = change.old if isinstance(change.old, Event) else None
    new_event = change.new if isinstance(change.new, Event) else None
    if new_event is None:
        return []
    if reminder_due(old_event, new_event):
        return reminder_notices(new_event, bookings)
    changes = event_changes(old_event, new_event)
    return event_notices(new_event, changes, bookings) if changes else []


@dataclass(frozen=True)
class Outbox:
    """What delivering needs: the stores to read the message's facts from, the ledger and the mailer."""

    users: UserRepository
    events: EventRepository
    bookings: BookingRepository
    ledger: NoticeLedger
    mailer: Mailer
    web_app_url: str
    # The signed one-click link that turns an optional kind off, by (user id, kind): reminders and digests.
    unsubscribe_link: Callable[[str, str], str] | None = None
    # What handle also does with each change, before its messages: record it for the creators' digests
    # (services.digests.record_change, bound to the book by the composition root); None does nothing.
    record: Callable[[Change, datetime], object] | None = None


class NoticeHeld(Exception):
    """Another sender holds the notice's claim until `until` (it may have died: then it is sent after that)."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until.isoformat())
        self.until = until


def deliver(outbox: Outbox, notice: Notice, now: datetime) -> bool:
    """Send `notice` unless it was sent; True when this call sent it. Raises NoticeHeld while another sender
    holds it, and whatever failed after giving the claim back: the caller retries either."""
    claimed = outbox.ledger.claim(notice.key, notice.recipient, now, now + timedelta(seconds=CLAIM_SECONDS))
    if claimed.sent:
        return False
    if not claimed.taken:
        raise NoticeHeld(claimed.until or now)
    try:
        message = compose(outbox, notice, now)
        if message is not None:
            outbox.mailer.send(message)
    except BaseException:
        outbox.ledger.release(notice.key)
        raise
    outbox.ledger.sent(notice.key, now)
    return message is not None


def compose(outbox: Outbox, notice: Notice, now: datetime) -> MailMessage | None:
    """The message of `notice` as its facts stand (None when its recipient or event is gone, or the recipient
    is inactive or has no address: nobody to tell)."""
    from chalicelib.services.calendars import CalendarEntry, event_calendar
    from chalicelib.services.messages import MessageContext, render

    user = outbox.users.get(notice.recipient)
    # A digest's events were read as its lines were made.
    event = notice.digest[0].event if notice.digest else outbox.events.get(notice.event_id)
    if user is None or event is None or not user.is_active or not user.email:
        return None
    if not user.notifications.allows(notice.kind):
        return None  # turned off in the profile or by the link in an earlier message
    ics = None
    if notice.kind in ("booking_confirmed", "payment_received", "waitlist_promoted") and (
        notice.booking is not None and notice.booking.status is BookingStatus.CONFIRMED and event.starts_at
    ):
        page = f"{outbox.web_app_url}/events/{event.id}"
        ics = event_calendar(CalendarEntry(event=event, page_url=page, online_url=event.online_url), now=now)
    optional = notice.kind in OPTIONAL and outbox.unsubscribe_link is not None
    context = MessageContext(
        kind=notice.kind,
        recipient=user,
        event=event,
        booking=notice.booking,
        web_app_url=outbox.web_app_url,
        now=now,
        recipient_timezone=user.notifications.timezone,
        ics=ics,
        unsubscribe_url=outbox.unsubscribe_link(user.id, notice.kind) if optional and outbox.unsubscribe_link else None,
        changes=notice.changes,
        digest=notice.digest,
    )
    return render(context)


def handle(outbox: Outbox, changes: Iterable[Change], now: datetime) -> list[str]:
    """Deliver what each change tells, in order; returns the positions of the changes that failed (a notice of
    theirs could not be sent, or the seat counts they moved could not be copied for the lists), for the caller
    to retry. Changes after a failed one are still handled: each notice is sent once whatever the retries. A
    booking's change is also recorded for its creator's digest."""
    from chalicelib.logs import get_logger
    from chalicelib.services import seat_copies

    changes = list(changes)
    failed = []
    for change in changes:
        try:
            if outbox.record is not None:
                outbox.record(change, now)
            for notice in notices_of(change, outbox.bookings):
                deliver(outbox, notice, now)
        except Exception as exc:  # noqa: BLE001 - any failure is retried, and parked after the last attempt
            get_logger().warning(
                "notification failed",
                extra={"fields": {"position": change.position, "error": type(exc).__name__}},
            )
            failed.append(change.position)
    # The lists' seat counts follow the bookings (services.seat_copies); the first failed position is where
    # the caller retries from, so the positions stay in the batch's order.
    failed_too = set(failed) | set(seat_copies.copy(outbox.events, changes, now))
    return [change.position for change in changes if change.position in failed_too]
