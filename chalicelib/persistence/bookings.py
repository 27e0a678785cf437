"""Booking repository: each booking write is one transaction over the booking, its event's seat counters,
the active-booking marker and, when asked, the idempotency record. That is what makes overselling impossible:
the seat count only moves inside a transaction whose condition re-checks it against the capacity."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from chalicelib.domain import Booking, BookingStatus, Page, iso
from chalicelib.persistence.common import get_or_none, page_of, parse_time, query_window
from chalicelib.persistence.errors import translate_errors
from chalicelib.persistence.models import BookingModel, EventModel, IdempotencyModel, UniqueModel
from chalicelib.persistence.snapshots import dump_result, load_result
from chalicelib.persistence.transactions import ConditionsFailed, NamedWrite, write_transaction
from chalicelib.ports import AlreadyBooked, EventChanged, IdempotentWrite, KeyAlreadyUsed, StaleWrite, StoredResult


def booking_key(event_id: str, user_id: str) -> str:
    """Marker key of a user's active booking for an event: at most one can exist."""
    return f"BOOKING#{event_id}#{user_id}"


def marker_status(marker: UniqueModel | None) -> BookingStatus | None:
    """The status a booking marker records (None without a marker)."""
    if marker is None:
        return None
    # Markers written before they carried a status are of confirmed or waitlisted bookings: the cautious
    # reading is "waiting", which never reveals a paid event's link to someone without a seat.
    return BookingStatus(marker.status) if marker.status else BookingStatus.WAITLISTED


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
    )


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
        created_sk=created_sk,
        wl_event=booking.event_id if booking.status is BookingStatus.WAITLISTED else None,
    )


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


def _seat_condition(status: BookingStatus, now: str) -> tuple[Condition, Action]:
    """What the event must satisfy for a booking of `status`, and the counter that booking moves."""
    bookable = (EventModel.status == "published") & (
        EventModel.starts_at.does_not_exist() | (EventModel.starts_at > now)
    )
    if status is BookingStatus.CONFIRMED:
        seat = EventModel.capacity.does_not_exist() | (EventModel.seats_booked < EventModel.capacity)
        return bookable & seat, EventModel.seats_booked.add(1)
    # Waiting only makes sense while the event is full; otherwise the caller should take the seat.
    full = EventModel.capacity.exists() & (EventModel.seats_booked >= EventModel.capacity)
    return bookable & full, EventModel.waitlisted.add(1)


class DynamoBookingRepository:
    """Implements ports.BookingRepository."""

    def get(self, booking_id: str) -> Booking | None:
        item = get_or_none(BookingModel, booking_id)
        return _to_domain(item) if item else None

    def active_status(self, event_id: str, user_id: str) -> BookingStatus | None:
        return marker_status(get_or_none(UniqueModel, booking_key(event_id, user_id)))

    def add(self, booking: Booking, *, now: str, record: IdempotentWrite | None) -> None:
        condition, counter = _seat_condition(booking.status, now)
        marker = UniqueModel(
            key=booking_key(booking.event_id, booking.user_id), owner=booking.id, status=booking.status.value
        )
        try:
            with write_transaction() as tx:
                if record is not None:
                    _save_record(tx, record)
                tx.save("marker", marker, condition=UniqueModel.key.does_not_exist())
                tx.save("booking", _to_item(booking), condition=BookingModel.id.does_not_exist())
                tx.update("event", EventModel(id=booking.event_id), actions=[counter], condition=condition)
        except ConditionsFailed as exc:
            # A stored record answers a retry whatever else changed since; then a held seat; then the event.
            if "record" in exc.names:
                raise KeyAlreadyUsed() from exc
            if "marker" in exc.names:
                raise AlreadyBooked() from exc
            if "event" in exc.names:
                raise EventChanged() from exc
            raise

    def cancel(
        self, booking: Booking, cancelled: Booking, promote: Booking | None, record: IdempotentWrite | None
    ) -> None:
        try:
            with write_transaction() as tx:
                if record is not None:
                    _save_record(tx, record)
                _release_marker(tx, booking)
                _mark_cancelled(tx, booking, cancelled)
                _settle_seat(tx, booking, promote)
        except ConditionsFailed as exc:
            if "record" in exc.names:
                raise KeyAlreadyUsed() from exc
            raise StaleWrite() from exc

    def oldest_waitlisted(self, event_id: str) -> Booking | None:
        with translate_errors():
            for item in BookingModel.event_waitlist.query(event_id, scan_index_forward=True, limit=1):
                return _to_domain(item)
        return None

    def list_by_user(self, user_id: str, *, limit: int, start: dict[str, str] | None) -> Page:
        with translate_errors():
            results = BookingModel.by_user.query(user_id, scan_index_forward=False, **query_window(limit, start))
            return page_of(results, limit, ("user_id", "created_sk"), _to_domain)

    def list_by_event(self, event_id: str, *, limit: int, start: dict[str, str] | None) -> Page:
        with translate_errors():
            results = BookingModel.by_event.query(event_id, scan_index_forward=False, **query_window(limit, start))
            return page_of(results, limit, ("event_id", "created_sk"), _to_domain)


def _release_marker(tx: NamedWrite, booking: Booking) -> None:
    """The user may book this event again once the cancellation commits (only this booking's marker goes)."""
    marker = UniqueModel(key=booking_key(booking.event_id, booking.user_id))
    tx.delete("marker", marker, condition=UniqueModel.owner == booking.id)


def _mark_cancelled(tx: NamedWrite, booking: Booking, cancelled: Booking) -> None:
    """Cancel the booking only if its status is still the one the decision was made on."""
    actions = [
        BookingModel.status.set(BookingStatus.CANCELLED.value),
        BookingModel.cancelled_at.set(iso(cancelled.cancelled_at or cancelled.created_at)),
        BookingModel.wl_event.remove(),
    ]
    tx.update(
        "booking", BookingModel(id=booking.id), actions=actions, condition=BookingModel.status == booking.status.value
    )


def _settle_seat(tx: NamedWrite, booking: Booking, promote: Booking | None) -> None:
    """Adjust the event's counters for the cancelled booking: a waiting place is simply dropped; a seat passes
    to `promote` (seats_booked does not move at all, so no seat is ever free in between) or is freed."""
    event = EventModel(id=booking.event_id)
    if booking.status is BookingStatus.WAITLISTED:
        tx.update("event", event, actions=[EventModel.waitlisted.add(-1)], condition=EventModel.waitlisted > 0)
        return
    if promote is not None:
        tx.update(
            "promoted",
            BookingModel(id=promote.id),
            actions=[BookingModel.status.set(BookingStatus.CONFIRMED.value), BookingModel.wl_event.remove()],
            condition=BookingModel.status == BookingStatus.WAITLISTED.value,
        )
        promoted_marker = UniqueModel(key=booking_key(promote.event_id, promote.user_id))
        tx.update(
            "promoted_marker",
            promoted_marker,
            actions=[UniqueModel.status.set(BookingStatus.CONFIRMED.value)],
            condition=UniqueModel.owner == promote.id,
        )
        tx.update("event", event, actions=[EventModel.waitlisted.add(-1)], condition=EventModel.waitlisted > 0)
        return
    # Freeing the seat is only right when nobody waits: the waitlist index may lag behind the counter, so a
    # waiting booking we did not see fails this condition and the cancel is retried.
    nobody_waits = (EventModel.seats_booked > 0) & (EventModel.waitlisted == 0)
    tx.update("event", event, actions=[EventModel.seats_booked.add(-1)], condition=nobody_waits)


class DynamoIdempotencyRepository:
    """Implements ports.IdempotencyRepository."""

    def get(self, key: str, now: int) -> StoredResult | None:
        item = get_or_none(IdempotencyModel, key)
        if item is None or item.expires_at is None or item.expires_at.timestamp() <= now or not item.result:
            return None  # expired: TTL deletes it eventually, the code ignores it now
        return StoredResult(fingerprint=item.fingerprint, result=load_result(item.result))
