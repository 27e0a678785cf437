"""Booking repository: each booking write is one transaction over the booking, its event's seat counters,
the active-booking marker and, when asked, the idempotency record. That is what makes overselling impossible:
the seat count only moves inside a transaction whose condition re-checks it against the capacity."""

from __future__ import annotations

import random
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from chalicelib.domain.bookings import Booking, Payment
from chalicelib.domain.common import Page, iso
from chalicelib.domain.enums import SEAT_STATUSES, BookingStatus, CancelReason, EventStatus, RefundStatus
from chalicelib.errors import Busy
from chalicelib.persistence import seats
from chalicelib.persistence.audit import add_entry
from chalicelib.persistence.common import (
    Stream,
    get_or_none,
    merge_streams,
    page_of,
    parse_time,
    query_window,
    update_if,
)
from chalicelib.persistence.errors import translate_errors
from chalicelib.persistence.markers import booking_key, marker_status
from chalicelib.persistence.models.bookings import BookingModel
from chalicelib.persistence.models.events import EventModel
from chalicelib.persistence.models.idempotency import IdempotencyModel
from chalicelib.persistence.models.seats import SeatModel
from chalicelib.persistence.models.uniques import UniqueModel
from chalicelib.persistence.snapshots import dump_result, load_result
from chalicelib.persistence.transactions import (
    ConditionsFailed,
    NamedWrite,
    pause_after_conflict,
    read_together,
    write_transaction,
)
from chalicelib.ports.bookings import (
    AlreadyBooked,
    EventChanged,
    IdempotentWrite,
    KeyAlreadyUsed,
    Promotion,
    StoredResult,
)
from chalicelib.ports.common import StaleWrite
from chalicelib.ports.payments import EventAlreadyApplied, ProviderEvent

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pynamodb.expressions.update import Action

    from chalicelib.domain.audit import AuditEntry

# Index partitions of payment work due (models.BookingModel.payments_due).
DUE_HOLD = "HOLD"
DUE_REFUND = "REFUND"
DUE_KINDS = {"hold": DUE_HOLD, "refund": DUE_REFUND}
# The transaction item counting a refund on its cancelled event's settlement.
EVENT_COUNT = "event_refunds"
# Stripe retries a webhook for up to three days; its record outlives that.
APPLIED_EVENT_SECONDS = 30 * 86_400


def applied_event_key(event_id: str) -> str:
    """Key of the record of a provider event already applied, in the idempotency table."""
    return f"stripe-event#{event_id}"


def _payment(item: BookingModel) -> Payment | None:
    if item.amount is None or item.currency is None:
        return None
    return Payment(
        amount=int(item.amount),
        currency=item.currency,
        hold_expires_at=parse_time(item.hold_expires_at),
        checkout_session=item.checkout_session,
        checkout_url=item.checkout_url,
        session_expires_at=parse_time(item.session_expires_at),
        payment_intent=item.payment_intent,
        paid_amount=int(item.paid_amount) if item.paid_amount is not None else None,
        paid_currency=item.paid_currency,
        refund_status=RefundStatus(item.refund_status) if item.refund_status else None,
        refund_id=item.refund_id,
    )


def _to_domain(item: BookingModel) -> Booking:
    created = parse_time(item.created_at)
    assert created is not None
    return Booking(
        id=item.id,
        event_id=item.event_id,
        event_creator=item.event_creator,
        user_id=item.user_id,
        username=item.username,
        status=BookingStatus(item.status),
        created_at=created,
        cancelled_at=parse_time(item.cancelled_at),
        payment=_payment(item),
        cancel_reason=CancelReason(item.cancel_reason) if item.cancel_reason else None,
        seat=int(item.seat_shard) if item.seat_shard is not None else None,
    )


def _due(booking: Booking, when: datetime | None = None) -> tuple[str | None, str | None]:
    """The booking's place in the index of payment work due: a hold by its end, an owed refund by `when` it is
    to be tried (now, by default the time it was owed)."""
    payment = booking.payment
    if payment is None:
        return None, None
    if booking.status is BookingStatus.PENDING_PAYMENT and payment.hold_expires_at is not None:
        return DUE_HOLD, f"{iso(payment.hold_expires_at)}#{booking.id}"
    if payment.refund_status is RefundStatus.PENDING:
        owed = when or booking.cancelled_at or booking.created_at
        return DUE_REFUND, f"{iso(owed)}#{booking.id}"
    return None, None


def _payment_values(booking: Booking, due_at: tuple[str, str] | None = None) -> dict[str, Any]:
    payment = booking.payment
    due, due_sk = due_at or _due(booking)
    if payment is None:
        return {}
    return {
        "amount": payment.amount,
        "currency": payment.currency,
        "hold_expires_at": iso(payment.hold_expires_at) if payment.hold_expires_at else None,
        "checkout_session": payment.checkout_session,
        "checkout_url": payment.checkout_url,
        "session_expires_at": iso(payment.session_expires_at) if payment.session_expires_at else None,
        "payment_intent": payment.payment_intent,
        "paid_amount": payment.paid_amount,
        "paid_currency": payment.paid_currency,
        "refund_status": payment.refund_status.value if payment.refund_status else None,
        "refund_id": payment.refund_id,
        "pay_due": due,
        "pay_due_sk": due_sk,
    }


PAYMENT_ATTRIBUTES = (
    "amount",
    "currency",
    "hold_expires_at",
    "checkout_session",
    "checkout_url",
    "session_expires_at",
    "payment_intent",
    "paid_amount",
    "paid_currency",
    "refund_status",
    "refund_id",
    "pay_due",
    "pay_due_sk",
)


def _payment_actions(booking: Booking, due_at: tuple[str, str] | None = None) -> list[Action]:
    """Actions writing every payment attribute of `booking` (removing those it does not have); `due_at` places
    it in the index of work due otherwise than its state says."""
    values = _payment_values(booking, due_at)
    actions: list[Action] = []
    for name in PAYMENT_ATTRIBUTES:
        attribute = getattr(BookingModel, name)
        value = values.get(name)
        actions.append(attribute.set(value) if value is not None else attribute.remove())
    return actions


def event_part(event_id: str, part: int) -> str:
    """The key of part `part` of an event's bookings in the by-event-part index."""
    return f"{event_id}#{part}"


def _to_item(booking: Booking) -> BookingModel:
    created_sk = f"{iso(booking.created_at)}#{booking.id}"
    return BookingModel(
        id=booking.id,
        event_id=booking.event_id,
        event_creator=booking.event_creator,
        user_id=booking.user_id,
        username=booking.username,
        status=booking.status.value,
        created_at=iso(booking.created_at),
        cancelled_at=iso(booking.cancelled_at) if booking.cancelled_at else None,
        cancel_reason=booking.cancel_reason.value if booking.cancel_reason else None,
        created_sk=created_sk,
        wl_event=booking.event_id if booking.status is BookingStatus.WAITLISTED else None,
        seat_shard=booking.seat,
        # Its counter at creation: a waiting booking promoted later into a seat of another counter stays in part 0.
        event_part=event_part(booking.event_id, booking.seat or seats.FIRST),
        **_payment_values(booking),
    )


def _save_applied(tx: NamedWrite, event: ProviderEvent, booking_id: str) -> None:
    """The record that `event` is applied, in the transaction applying it: a second delivery fails on it."""
    item = IdempotencyModel(
        key=applied_event_key(event.id),
        fingerprint=f"{event.type}#{booking_id}",
        expires_at=datetime.fromtimestamp(int(time.time()) + APPLIED_EVENT_SECONDS, tz=UTC),
    )
    tx.save("applied", item, condition=IdempotencyModel.key.does_not_exist())


def _save_record(tx: NamedWrite, record: IdempotentWrite) -> None:
    item = IdempotencyModel(
        key=record.key,
        fingerprint=record.stored.fingerprint,
        result=dump_result(record.stored.result),
        expires_at=datetime.fromtimestamp(record.expires_at, tz=UTC),
    )
    # An expired record may still be readable (TTL deletion lags): it counts as absent, from the second it
    # expires, as for DynamoIdempotencyRepository.get.
    now = datetime.fromtimestamp(record.now, tz=UTC)
    tx.save("record", item, condition=IdempotencyModel.key.does_not_exist() | (IdempotencyModel.expires_at <= now))


class _SeatRefused(Exception):
    """The seat counter tried had no seat left for the booking, or its event is no longer bookable."""


# A booking at an event of several seat counters that collides with another on one counter tries the next
# rather than waiting for this one (write_transaction's retries are for a single counter); at most this many
# transactions in all per counter, then the event is busy (503, Retry-After). 6, not 2: with the queue keeping
# each counter busy about half the time, a 600-seat event of 2 counters (5 tries) refused 41 admitted bookers
# while seats remained in bench/hot_event.py, with 13 tries 0 to 1; each try costs ~15 ms.
ATTEMPTS_PER_COUNTER = 6


def _take_seat(tx: NamedWrite, booking: Booking, shard: int, now: str) -> None:
    """The seat from counter `shard`, if the event is still bookable there and the counter has one left."""
    tx.update(
        seats.name(shard),
        seats.key(booking.event_id, shard),
        actions=[SeatModel.booked.add(1)],
        condition=seats.bookable(now) & seats.room(),
    )


def _join_waitlist(tx: NamedWrite, booking: Booking, shards: int, now: str) -> None:
    """A waiting place, only while every seat counter is full (otherwise the caller should take the seat)."""
    tx.update(
        seats.name(seats.FIRST),
        seats.key(booking.event_id, seats.FIRST),
        actions=[SeatModel.waitlisted.add(1)],
        condition=seats.bookable(now) & seats.full(),
    )
    for shard in range(1, shards):
        seats.check(tx, booking.event_id, shard, seats.full())


class DynamoBookingRepository:
    """Implements ports.BookingRepository."""

    def get(self, booking_id: str) -> Booking | None:
        item = get_or_none(BookingModel, booking_id)
        return _to_domain(item) if item else None

    def active_status(self, event_id: str, user_id: str) -> BookingStatus | None:
        return marker_status(get_or_none(UniqueModel, booking_key(event_id, user_id)))

    def add(self, booking: Booking, *, now: str, record: IdempotentWrite | None, shards: int = 1) -> Booking:
        if booking.status not in SEAT_STATUSES:
            self._add(booking, record, lambda tx: _join_waitlist(tx, booking, shards, now))
            return booking
        # A random counter first, so that bookings spread over them; a full one sends the booking to the counters
        # that the event's counters, read once then, say have room.
        order = seats.shard_order(shards)
        tried: set[int] = set()
        busy: set[int] = set()
        rounds = 0
        reread = False
        for _ in range(ATTEMPTS_PER_COUNTER * shards + 1):
            if not order:
                break
            shard = order.pop(0)
            placed = replace(booking, seat=shard)
            try:
                self._add(placed, record, partial(_take_seat, booking=placed, shard=shard, now=now), solo=shards == 1)
                return placed
            except _SeatRefused:
                tried.add(shard)
                if reread:
                    continue
                reread = True
                current = seats.read(booking.event_id, shards)
                if not current or any(not seats.is_bookable(item, now) for item in current):
                    raise EventChanged() from None
                order = [int(i.shard) for i in current if seats.has_room(i) and int(i.shard) not in tried]
                random.shuffle(order)
            except Busy:
                if shards == 1:
                    raise
                # Another booking holds this counter right now: the next one is likely free; this one later.
                order.append(shard)
                if shard in busy:
                    # Every counter left was busy in turn: wait (full jitter, growing) before the next round, as
                    # write_transaction does for one counter, rather than spend the tries in one burst.
                    busy.clear()
                    rounds += 1
                    pause_after_conflict(rounds)
                busy.add(shard)
        if not order:
            raise EventChanged()
        raise Busy("The event is busy; try again in a moment.")

    def _add(
        self, booking: Booking, record: IdempotentWrite | None, seat: Callable[[NamedWrite], None], solo: bool = True
    ) -> None:
        marker = UniqueModel(
            key=booking_key(booking.event_id, booking.user_id), owner=booking.id, status=booking.status.value
        )
        try:
            with write_transaction() if solo else write_transaction(attempts=1) as tx:
                if record is not None:
                    _save_record(tx, record)
                tx.save("marker", marker, condition=UniqueModel.key.does_not_exist())
                tx.save("booking", _to_item(booking), condition=BookingModel.id.does_not_exist())
                seat(tx)
        except ConditionsFailed as exc:
            # A stored record answers a retry whatever else changed since; then a held seat; then the seats.
            if "record" in exc.names:
                raise KeyAlreadyUsed() from exc
            if "marker" in exc.names:
                raise AlreadyBooked() from exc
            if booking.status not in SEAT_STATUSES:
                raise EventChanged() from exc
            raise _SeatRefused() from exc

    def cancel(
        self,
        booking: Booking,
        cancelled: Booking,
        promote: Promotion | None,
        record: IdempotentWrite | None,
        audit: AuditEntry | None = None,
    ) -> None:
        try:
            with write_transaction() as tx:
                if record is not None:
                    _save_record(tx, record)
                _release_marker(tx, booking)
                _mark_ended(tx, booking, cancelled)
                _settle_seat(tx, booking, promote, owes_event_refund=_counted_on_event(cancelled))
                if audit is not None:
                    add_entry(tx, audit)
        except ConditionsFailed as exc:
            if "record" in exc.names:
                raise KeyAlreadyUsed() from exc
            raise StaleWrite() from exc

    def expire(
        self, booking: Booking, expired: Booking, promote: Promotion | None, applied: ProviderEvent | None
    ) -> None:
        with _applying(applied) as tx:
            if applied is not None:
                _save_applied(tx, applied, booking.id)
            _release_marker(tx, booking)
            _mark_ended(tx, booking, expired)
            _settle_seat(tx, booking, promote)

    def withdraw(self, booking: Booking, promote: Promotion | None, record_key: str | None) -> None:
        try:
            with write_transaction() as tx:
                if record_key is not None:
                    tx.delete("record", IdempotencyModel(key=record_key))
                _release_marker(tx, booking)
                tx.delete(
                    "booking",
                    BookingModel(id=booking.id),
                    condition=BookingModel.status == BookingStatus.PENDING_PAYMENT.value,
                )
                _settle_seat(tx, booking, promote)
        except ConditionsFailed as exc:
            raise StaleWrite() from exc

    def attach_checkout(self, booking: Booking, payment: Payment) -> None:
        assert payment.checkout_session and payment.checkout_url and payment.session_expires_at
        actions = [
            BookingModel.checkout_session.set(payment.checkout_session),
            BookingModel.checkout_url.set(payment.checkout_url),
            BookingModel.session_expires_at.set(iso(payment.session_expires_at)),
        ]
        pending = BookingModel.status == BookingStatus.PENDING_PAYMENT.value
        if not update_if(BookingModel(id=booking.id), actions, pending):
            raise StaleWrite()

    def confirm(self, booking: Booking, confirmed: Booking, applied: ProviderEvent | None) -> None:
        with _applying(applied) as tx:
            if applied is not None:
                _save_applied(tx, applied, booking.id)
            tx.update(
                "booking",
                BookingModel(id=booking.id),
                actions=[BookingModel.status.set(BookingStatus.CONFIRMED.value), *_payment_actions(confirmed)],
                condition=BookingModel.status == BookingStatus.PENDING_PAYMENT.value,
            )
            tx.update(
                "marker",
                UniqueModel(key=booking_key(booking.event_id, booking.user_id)),
                actions=[UniqueModel.status.set(BookingStatus.CONFIRMED.value)],
                condition=UniqueModel.owner == booking.id,
            )

    def owe_refund(self, booking: Booking, owed: Booking, applied: ProviderEvent | None) -> None:
        unchanged = (BookingModel.status == booking.status.value) & BookingModel.payment_intent.does_not_exist()

        def write(tx: NamedWrite, count: bool) -> None:
            if applied is not None:
                _save_applied(tx, applied, booking.id)
            tx.update("booking", BookingModel(id=booking.id), actions=_payment_actions(owed), condition=unchanged)
            if count:
                _count_refund(tx, booking.event_id, EventModel.refunds_pending, 1)

        _with_event_count(owed, write, applied)

    def grant_refund(self, booking: Booking, owed: Booking, audit: AuditEntry | None) -> None:
        not_refunded = BookingModel.refund_status == RefundStatus.NOT_REFUNDABLE.value
        try:
            with write_transaction() as tx:
                tx.update(
                    "booking", BookingModel(id=booking.id), actions=_payment_actions(owed), condition=not_refunded
                )
                if audit is not None:
                    add_entry(tx, audit)
        except ConditionsFailed as exc:
            raise StaleWrite() from exc

    def settle_refund(self, booking: Booking, settled: Booking) -> None:
        pending = BookingModel.refund_status == RefundStatus.PENDING.value
        outcome = settled.refund_status
        if booking.cancel_reason is not CancelReason.EVENT_CANCELLED or outcome is None:
            if not update_if(BookingModel(id=booking.id), _payment_actions(settled), pending):
                raise StaleWrite()
            return
        done = EventModel.refunds_succeeded if outcome is RefundStatus.SUCCEEDED else EventModel.refunds_failed

        def write(tx: NamedWrite, count: bool) -> None:
            tx.update("booking", BookingModel(id=booking.id), actions=_payment_actions(settled), condition=pending)
            if count:
                _count_refund(tx, booking.event_id, EventModel.refunds_pending, -1, also=done)

        _with_event_count(settled, write, None)

    def postpone_refund(self, booking: Booking, attempt_at: str) -> None:
        # Only a refund in the index of refunds: one owed on a hold still running (money of another amount)
        # keeps the hold's place, and is retried once the hold ends.
        pending = (BookingModel.refund_status == RefundStatus.PENDING.value) & (BookingModel.pay_due == DUE_REFUND)
        actions = [BookingModel.pay_due_sk.set(f"{attempt_at}#{booking.id}")]
        if not update_if(BookingModel(id=booking.id), actions, pending):
            raise StaleWrite()

    def recheck_checkout(self, booking: Booking, attempt_at: str) -> None:
        unpaid = (BookingModel.status == booking.status.value) & BookingModel.payment_intent.does_not_exist()
        actions = [BookingModel.pay_due.set(DUE_HOLD), BookingModel.pay_due_sk.set(f"{attempt_at}#{booking.id}")]
        if not update_if(BookingModel(id=booking.id), actions, unpaid):
            raise StaleWrite()

    def checkout_closed(self, booking: Booking) -> None:
        # Only a cancelled hold's: a hold still running keeps its place until it ends.
        unpaid = (
            (BookingModel.status == BookingStatus.CANCELLED.value)
            & BookingModel.payment_intent.does_not_exist()
            & (BookingModel.pay_due == DUE_HOLD)
        )
        if not update_if(
            BookingModel(id=booking.id), [BookingModel.pay_due.remove(), BookingModel.pay_due_sk.remove()], unpaid
        ):
            raise StaleWrite()

    def due(self, kind: str, now: str, limit: int) -> list[Booking]:
        with translate_errors():
            # `<when>#<id>` sorts before `now` exactly when `when` is earlier than now.
            results = BookingModel.payments_due.query(DUE_KINDS[kind], BookingModel.pay_due_sk < now, limit=limit)
            return [_to_domain(item) for item in results]

    def oldest_owed_refund(self) -> datetime | None:
        # Its sort key is the next attempt, not when the refund became owed: every owed refund is read (a few
        # attributes each; there are few, and each is soon issued).
        with translate_errors():
            items = BookingModel.payments_due.query(DUE_REFUND, attributes_to_get=["cancelled_at", "created_at"])
            times = [parse_time(item.cancelled_at or item.created_at) for item in items]
        return min((t for t in times if t is not None), default=None)

    def get_for_event(self, booking_id: str, event_id: str) -> tuple[Booking | None, bool]:
        item, record = read_together((BookingModel, booking_id), (IdempotencyModel, applied_event_key(event_id)))
        return (_to_domain(item) if item is not None else None), record is not None

    def oldest_waitlisted(self, event_id: str) -> Booking | None:
        with translate_errors():
            for item in BookingModel.event_waitlist.query(event_id, scan_index_forward=True, limit=1):
                return _to_domain(item)
        return None

    def list_by_user(self, user_id: str, *, limit: int, start: dict[str, str] | None) -> Page:
        with translate_errors():
            results = BookingModel.by_user.query(user_id, scan_index_forward=False, **query_window(limit, start))
            return page_of(results, limit, ("user_id", "created_sk"), _to_domain)

    def list_by_event(self, event_id: str, *, parts: int, limit: int, start: dict[str, str] | None) -> Page:
        # One Query per part, each of a page and one more, merged: a page is then always full (common.merge_streams).
        after = _position(start)
        count = limit + 1
        streams = []
        with translate_errors():
            for part in range(parts):
                read = [(item.created_sk, _to_domain(item), True) for item in _newest(event_id, part, after, count)]
                streams.append(Stream(read=read, more=len(read) == count))
        shown, pos = merge_streams(streams, limit, descending=True)
        return Page(items=shown, next_key={"pos": pos} if pos is not None else None)

    def list_by_event_part(self, event_id: str, *, parts: int, limit: int, start: dict[str, str] | None) -> Page:
        # A part, then the next, each read on from where the page stopped: a Query per part the page reaches.
        part = int(start["part"]) if start and "part" in start else 0
        after = start.get("pos") if start and "part" in start else None
        found: list[BookingModel] = []
        with translate_errors():
            while part < parts:
                wanted = limit - len(found)
                # Newest first within a part: an event of one counter is read as before the index had parts
                # (a cancelled event's settlement reaches its waiting bookings before the paid ones, for one).
                items = list(_newest(event_id, part, after, wanted + 1))
                found += items[:wanted]
                if len(items) > wanted:
                    next_key = {"part": str(part), "pos": found[-1].created_sk}
                    return Page(items=[_to_domain(item) for item in found], next_key=next_key)
                part, after = part + 1, None
                if len(found) == limit and part < parts:
                    return Page(items=[_to_domain(item) for item in found], next_key={"part": str(part)})
        return Page(items=[_to_domain(item) for item in found], next_key=None)


def _newest(event_id: str, part: int, after: str | None, count: int) -> Iterator[BookingModel]:
    """Up to `count` bookings of one part of an event's bookings, newest first, older than `after` if given (one
    Query)."""
    condition = BookingModel.created_sk < after if after is not None else None
    key = event_part(event_id, part)
    return BookingModel.by_event_part.query(key, condition, scan_index_forward=False, limit=count, page_size=count)


def _position(start: dict[str, str] | None) -> str | None:
    """Where a page of an event's bookings newest first starts: its cursor's sort key (`created_sk` in a cursor
    made before the index had parts, still honoured)."""
    if not start:
        return None
    return start.get("pos") or start.get("created_sk")


def _release_marker(tx: NamedWrite, booking: Booking) -> None:
    """The user may book this event again once the cancellation commits (only this booking's marker goes)."""
    marker = UniqueModel(key=booking_key(booking.event_id, booking.user_id))
    tx.delete("marker", marker, condition=UniqueModel.owner == booking.id)


class _EventGone(Exception):
    """Only the event a refund is counted on failed its condition: it was deleted."""


@contextmanager
def _applying(applied: ProviderEvent | None) -> Iterator[NamedWrite]:
    """A transaction applying a provider event: its record failing means the event was applied before."""
    try:
        with write_transaction() as tx:
            yield tx
    except ConditionsFailed as exc:
        if applied is not None and "applied" in exc.names:
            raise EventAlreadyApplied() from exc
        if exc.names == {EVENT_COUNT}:
            raise _EventGone() from exc
        raise StaleWrite() from exc


# A cancelled hold's checkout is closed by its canceller right after the commit; the sweep does it from this
# long after, should the canceller not have (killed, or the provider unreachable).
CLOSE_CHECKOUT_AFTER_SECONDS = 60


def _mark_ended(tx: NamedWrite, booking: Booking, ended: Booking) -> None:
    """Cancel or expire the booking only if its status is still the one the decision was made on; it leaves
    the waitlist and the index of holds (entering that of refunds if it owes one). A cancelled hold stays in the
    index of holds until its checkout is closed (BookingRepository.checkout_closed): closing it is owed as
    durably as a refund, so that nothing can be paid for a seat given up, whatever dies after this commit."""
    actions: list[Action] = [
        BookingModel.status.set(ended.status.value),
        BookingModel.cancelled_at.set(iso(ended.cancelled_at or ended.created_at)),
        BookingModel.wl_event.remove(),
    ]
    if ended.cancel_reason is not None:
        actions.append(BookingModel.cancel_reason.set(ended.cancel_reason.value))
    if ended.payment is not None:
        closing = (
            booking.status is BookingStatus.PENDING_PAYMENT
            and ended.status is BookingStatus.CANCELLED
            and ended.payment.checkout_session is not None
            and ended.payment.payment_intent is None
        )
        at = (ended.cancelled_at or ended.created_at) + timedelta(seconds=CLOSE_CHECKOUT_AFTER_SECONDS)
        actions += _payment_actions(ended, (DUE_HOLD, f"{iso(at)}#{booking.id}") if closing else None)
    tx.update(
        "booking", BookingModel(id=booking.id), actions=actions, condition=BookingModel.status == booking.status.value
    )


def _settle_seat(tx: NamedWrite, booking: Booking, promote: Promotion | None, owes_event_refund: bool = False) -> None:
    """Adjust the event's seat counters for the booking that stops counting: a waiting place is simply dropped;
    a seat (confirmed or held) passes to `promote` (its counter does not move at all, so no seat is ever free in
    between) or is freed on the counter that held it. A refund owed because the event was cancelled is counted
    on the event."""
    if owes_event_refund:
        tx.update(
            "event",
            EventModel(id=booking.event_id),
            actions=[EventModel.refunds_pending.add(1)],
            condition=EventModel.id.exists(),
        )
    first = seats.key(booking.event_id, seats.FIRST)
    first_name = seats.name(seats.FIRST)
    if booking.status is BookingStatus.WAITLISTED:
        tx.update(first_name, first, actions=[SeatModel.waitlisted.add(-1)], condition=SeatModel.waitlisted > 0)
        return
    if promote is not None:
        waiting, promoted = promote.waiting, promote.promoted
        tx.update(
            "promoted",
            BookingModel(id=waiting.id),
            actions=[
                BookingModel.status.set(promoted.status.value),
                BookingModel.wl_event.remove(),
                BookingModel.seat_shard.set(booking.seat or seats.FIRST),
                *(_payment_actions(promoted) if promoted.payment is not None else []),
            ],
            condition=BookingModel.status == BookingStatus.WAITLISTED.value,
        )
        promoted_marker = UniqueModel(key=booking_key(waiting.event_id, waiting.user_id))
        tx.update(
            "promoted_marker",
            promoted_marker,
            actions=[UniqueModel.status.set(promoted.status.value)],
            condition=UniqueModel.owner == waiting.id,
        )
        # Nobody is promoted into a cancelled event: its waiting bookings are being cancelled too.
        live = (SeatModel.waitlisted > 0) & (SeatModel.status != EventStatus.CANCELLED.value)
        tx.update(first_name, first, actions=[SeatModel.waitlisted.add(-1)], condition=live)
        return
    # Freeing the seat is only right when nobody waits: the waitlist index may lag behind the counter, so a
    # waiting booking we did not see fails this condition and the cancel is retried. At a cancelled event nobody
    # is waiting for the seat any more.
    nobody_waits = (SeatModel.waitlisted == 0) | (SeatModel.status == EventStatus.CANCELLED.value)
    shard = booking.seat or seats.FIRST
    freed = [SeatModel.booked.add(-1)]
    if shard == seats.FIRST:
        tx.update(first_name, first, actions=freed, condition=(SeatModel.booked > 0) & nobody_waits)
        return
    tx.update(seats.name(shard), seats.key(booking.event_id, shard), actions=freed, condition=SeatModel.booked > 0)
    seats.check(tx, booking.event_id, seats.FIRST, nobody_waits)


def _counted_on_event(booking: Booking) -> bool:
    """Whether the refund `booking` owes is one of its cancelled event's settlement, counted on the event."""
    return booking.cancel_reason is CancelReason.EVENT_CANCELLED and booking.refund_status is RefundStatus.PENDING


def _count_refund(tx: NamedWrite, event_id: str, counter: Any, by: int, also: Any = None) -> None:
    """Move a refund counter of the settlement of `event_id` (only if the event still exists: an update would
    otherwise create it)."""
    actions: list[Action] = [counter.add(by)]
    if also is not None:
        actions.append(also.add(1))
    tx.update(EVENT_COUNT, EventModel(id=event_id), actions=actions, condition=EventModel.id.exists())


def _with_event_count(
    booking: Booking, write: Callable[[NamedWrite, bool], None], applied: ProviderEvent | None
) -> None:
    """Run `write` in one transaction, with the event's refund counters when `booking`'s refund is one of its
    cancelled event's; if the event is gone meanwhile, without them."""
    count = booking.cancel_reason is CancelReason.EVENT_CANCELLED
    for counting in (count, False) if count else (False,):
        try:
            with _applying(applied) as tx:
                write(tx, counting)
            return
        except _EventGone:
            continue


class DynamoIdempotencyRepository:
    """Implements ports.IdempotencyRepository."""

    def get(self, key: str, now: int) -> StoredResult | None:
        item = get_or_none(IdempotencyModel, key)
        if item is None or item.expires_at is None or item.expires_at.timestamp() <= now or not item.result:
            return None  # expired: TTL deletes it eventually, the code ignores it now
        return StoredResult(fingerprint=item.fingerprint, result=load_result(item.result))
