"""The bookings and events tables' streams, read as domain changes: a record's old and new images (DynamoDB's
own JSON, the same from Lambda's event and from the Streams API) become the Booking or Event they store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.ports.notices import Change

if TYPE_CHECKING:
    from chalicelib.domain.bookings import Booking
    from chalicelib.domain.events import Event


def _booking(image: dict[str, Any] | None) -> Booking | None:
    from chalicelib.persistence.bookings import _to_domain
    from chalicelib.persistence.models.bookings import BookingModel

    return None if not image else _to_domain(BookingModel.from_raw_data(image))


def _event(image: dict[str, Any] | None) -> Event | None:
    from chalicelib.persistence.events import _to_domain
    from chalicelib.persistence.models.events import EventModel

    return None if not image else _to_domain(EventModel.from_raw_data(image))


BOOKINGS, EVENTS = "bookings", "events"


def table_of(source_arn: str) -> str | None:
    """Which of the two tables a stream's ARN (`arn:...:table/<name>/stream/<label>`) belongs to, by the
    stage's table names; None for another table."""
    from chalicelib.settings import get_settings

    name = source_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]
    names = get_settings().tables
    return {names.bookings: BOOKINGS, names.events: EVENTS}.get(name)


def _committed_at(value: Any) -> datetime | None:
    """ApproximateCreationDateTime: epoch seconds in Lambda's event, a datetime from the Streams API (boto3)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def change_of(record: dict[str, Any], table: str) -> Change:
    """The change a stream record of `table` (BOOKINGS or EVENTS) carries."""
    data = record.get("dynamodb", {})
    position = str(data.get("SequenceNumber", ""))
    old, new = data.get("OldImage"), data.get("NewImage")
    at = _committed_at(data.get("ApproximateCreationDateTime"))
    if table == BOOKINGS:
        return Change(position, _booking(old), _booking(new), at)
    return Change(position, _event(old), _event(new), at)
