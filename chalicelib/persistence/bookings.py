"""Booking repository: each booking write is one transaction over the booking, its event's seat counters,
the active-booking marker and, when asked, the idempotency record. That is what makes overselling impossible:
the seat count only moves inside a transaction whose condition re-checks it against the capacity."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain import Booking, BookingStatus, Page, StoredResponse, iso
from chalicelib.persistence.common import get_or_none, page_of, parse_time, query_window
from chalicelib.persistence.connection import get_connection
from chalicelib.persistence.errors import cancellation_codes, translate_errors
from chalicelib.persistence.models import BookingModel, EventModel, IdempotencyModel, UniqueModel
from chalicelib.services.ports import AlreadyBooked, EventChanged, IdempotentWrite, KeyAlreadyUsed, StaleWrite

FAILED = "ConditionalCheckFailed"


def booking_key(event_id: str, user_id: str) -> str:
    """Marker key of a user's active booking for an event: at most one can exist."""
    return f"BOOKING#{event_id}#{user_id}"


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


def _save_record(tx: TransactWrite, record: IdempotentWrite) -> None:
    item = IdempotencyModel(
        key=record.key,
        fingerprint=record.response.fingerprint,
        status_code=record.response.status,
        body=record.response.body,
        expires_at=datetime.fromtimestamp(record.expires_at, tz=UTC),
    )
    # An expired record may still be readable (TTL deletion lags): it counts as absent.
    now = datetime.fromtimestamp(record.now, tz=UTC)
    unused = IdempotencyModel.key.does_not_exist() | (IdempotencyModel.expires_at < now)
    tx.save(item, condition=unused)


class DynamoBookingRepository:
    """Implements services.ports.BookingRepository."""

    def get(self, booking_id: str) -> Booking | None:
        item = get_or_none(BookingModel, booking_id)
        return _to_domain(item) if item else None

    def add(self, booking: Booking, *, now: str, record: IdempotentWrite | None) -> None:
        event = EventModel(id=booking.event_id)
        bookable = (EventModel.status == "published") & (
            EventModel.starts_at.does_not_exist() | (EventModel.starts_at > now)
        )
        if booking.status is BookingStatus.CONFIRMED:
            seat = EventModel.capacity.does_not_exist() | (EventModel.seats_booked < EventModel.capacity)
            counter = EventModel.seats_booked.add(1)
        else:
            # Waiting only makes sense while the event is full; otherwise the caller should take the seat.
            seat = EventModel.capacity.exists() & (EventModel.seats_booked >= EventModel.capacity)
            counter = EventModel.waitlisted.add(1)
        with translate_errors():
            try:
                with TransactWrite(connection=get_connection()) as tx:
                    if record is not None:
                        _save_record(tx, record)
                    tx.save(
                        UniqueModel(key=booking_key(booking.event_id, booking.user_id), owner=booking.id),
                        condition=UniqueModel.key.does_not_exist(),
                    )
                    tx.save(_to_item(booking), condition=BookingModel.id.does_not_exist())
                    tx.update(event, actions=[counter], condition=bookable & seat)
            except TransactWriteError as exc:
                codes = cancellation_codes(exc)
                if record is not None and codes and codes[0] == FAILED:
                    raise KeyAlreadyUsed() from exc
                marker = 1 if record is not None else 0
                if len(codes) > marker and codes[marker] == FAILED:
                    raise AlreadyBooked() from exc
                if codes and codes[-1] == FAILED:
                    raise EventChanged() from exc
                raise

    def cancel(
        self, booking: Booking, cancelled: Booking, promote: Booking | None, record: IdempotentWrite | None
    ) -> None:
        was = booking.status.value
        with translate_errors():
            try:
                with TransactWrite(connection=get_connection()) as tx:
                    tx.delete(
                        UniqueModel(key=booking_key(booking.event_id, booking.user_id)),
                        condition=UniqueModel.owner == booking.id,
                    )
                    if record is not None:
                        _save_record(tx, record)
                    tx.update(
                        BookingModel(id=booking.id),
                        actions=[
                            BookingModel.status.set(BookingStatus.CANCELLED.value),
                            BookingModel.cancelled_at.set(iso(cancelled.cancelled_at or cancelled.created_at)),
                            BookingModel.wl_event.remove(),
                        ],
                        condition=BookingModel.status == was,
                    )
                    event = EventModel(id=booking.event_id)
                    if booking.status is BookingStatus.WAITLISTED:
                        tx.update(event, actions=[EventModel.waitlisted.add(-1)], condition=EventModel.waitlisted > 0)
                    elif promote is not None:
                        # The seat passes to the oldest waiting booking: seats_booked does not move at all.
                        tx.update(
                            BookingModel(id=promote.id),
                            actions=[
                                BookingModel.status.set(BookingStatus.CONFIRMED.value),
                                BookingModel.wl_event.remove(),
                            ],
                            condition=BookingModel.status == BookingStatus.WAITLISTED.value,
                        )
                        tx.update(event, actions=[EventModel.waitlisted.add(-1)], condition=EventModel.waitlisted > 0)
                    else:
                        # Freeing the seat is only right when nobody waits: the waitlist index may lag behind
                        # the counter, so a waiting booking we did not see fails this and we retry.
                        nobody_waits = (EventModel.seats_booked > 0) & (EventModel.waitlisted == 0)
                        tx.update(event, actions=[EventModel.seats_booked.add(-1)], condition=nobody_waits)
            except TransactWriteError as exc:
                codes = cancellation_codes(exc)
                if record is not None and len(codes) > 1 and codes[1] == FAILED:
                    raise KeyAlreadyUsed() from exc
                if FAILED in codes:
                    raise StaleWrite() from exc
                raise

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


class DynamoIdempotencyRepository:
    """Implements services.ports.IdempotencyRepository."""

    def get(self, key: str, now: int) -> StoredResponse | None:
        item = get_or_none(IdempotencyModel, key)
        if item is None or item.expires_at is None or item.expires_at.timestamp() <= now:
            return None  # expired: TTL deletes it eventually, the code ignores it now
        return StoredResponse(fingerprint=item.fingerprint, status=int(item.status_code), body=item.body)
