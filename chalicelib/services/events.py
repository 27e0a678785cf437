"""Events: who may see, create, change and delete them, and the lists the API shows."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.domain.common import Page, iso, utcnow
from chalicelib.domain.enums import Access, AuditAction, BookingStatus, EventStatus, UploadPurpose
from chalicelib.domain.events import Event, Settlement, default_seat_shards
from chalicelib.domain.money import minor_units
from chalicelib.domain.search import derived_city, derived_online
from chalicelib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from chalicelib.ids import is_valid_id, new_id
from chalicelib.ports.common import StaleWrite
from chalicelib.services.audit import diff, entry, on_behalf_of_others

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.domain.access import Principal
    from chalicelib.domain.audit import AuditEntry
    from chalicelib.domain.search import SearchQuery
    from chalicelib.ports.events import EventRepository
    from chalicelib.ports.search import EventSearch
    from chalicelib.ports.uploads import Claim
    from chalicelib.services import uploads

ATTEMPTS = 3
# What an event.delete entry keeps of the event.
LOGGED_ON_DELETE = ("title", "creator", "status", "starts_at")


def _check_times(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if ends_at is not None and starts_at is None:
        raise ValidationFailed({"non_field_errors": ["An event with an end time needs a start time."]})
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise ValidationFailed({"non_field_errors": ["The event must end after it starts."]})


def _check_sales_opening(before: Event | None, after: Event) -> None:
    """The on-sale queue's opening: set in the future, before the start, and fixed once passed."""
    from chalicelib.domain.queue import sales_opening_errors

    opened = before.sales_open_at if before is not None else None
    errors = sales_opening_errors(opened, after.sales_open_at, after.starts_at, utcnow())
    if errors:
        raise ValidationFailed({"sales_open_at": errors})


def _check_price(price: Decimal | str, currency: str) -> None:
    """A paid event's price must be chargeable in its currency (no fraction of a yen)."""
    try:
        minor_units(Decimal(str(price)), currency)
    except ValueError as exc:
        raise ValidationFailed({"price": [str(exc)]}) from None


def create_event(events: EventRepository, principal: Principal, fields: dict[str, Any]) -> Event:
    """Publish (or draft) a new event owned by the caller."""
    if not principal.has(Access.CREATOR):
        raise PermissionDenied()
    _check_times(fields.get("starts_at"), fields.get("ends_at"))
    now = utcnow()
    values = {k: v for k, v in fields.items() if v is not None}
    if "status" in values:
        values["status"] = EventStatus(values["status"])
    values["price"] = Decimal(str(values.get("price", "0.00")))
    _check_price(values["price"], values.get("currency", "USD"))
    location, online_url = values.get("location", ""), values.get("online_url")
    values.setdefault("city", derived_city(location))
    values.setdefault("online", derived_online(location, online_url))
    values.setdefault("seat_shards", default_seat_shards(values.get("capacity")))
    values["booking_parts"] = values["seat_shards"]
    event = Event(
        id=new_id(),
        creator=principal.user_id,
        creator_username=principal.username,
        created_at=now,
        updated_at=now,
        **values,
    )
    _check_sales_opening(None, event)
    events.add(event)
    return event


def visible_event(
    events: EventRepository, event_id: str, viewer: Principal | None
) -> tuple[Event, BookingStatus | None]:
    """The event `viewer` may see (NotFound for a draft unless they manage it) and their seat's status in it."""
    if not is_valid_id(event_id):
        raise NotFound()
    if viewer is None:
        event, seat = events.get(event_id), None
    else:
        event, seat = events.get_with_seat(event_id, viewer.user_id)
    if event is None or not event.visible_to(viewer):
        raise NotFound()
    return event, seat


def get_event(events: EventRepository, event_id: str, viewer: Principal | None) -> Event:
    """One event as `viewer` may see it: a draft exists only for its creator and staff, a paid event's
    online link only for them and those holding a seat."""
    event, seat = visible_event(events, event_id, viewer)
    return event.shown_to(viewer, holds_seat=seat is BookingStatus.CONFIRMED)


def _editable(events: EventRepository, event_id: str, principal: Principal) -> Event:
    event = events.get(event_id) if is_valid_id(event_id) else None
    if event is None or not event.visible_to(principal):
        raise NotFound()
    if not event.managed_by(principal):
        raise PermissionDenied()
    return event


def _changeable(events: EventRepository, event_id: str, principal: Principal) -> Event:
    event = _editable(events, event_id, principal)
    if event.status is EventStatus.CANCELLED:
        raise Conflict("A cancelled event cannot be changed.", "event_cancelled")
    return event


def start_image_upload(
    events: EventRepository,
    media: uploads.Media,
    principal: Principal,
    event_id: str | None,
    content_type: str,
    size: int,
) -> uploads.StartedUpload:
    """An upload of an image for an event its creator (or staff) may still change."""
    from chalicelib.services import uploads  # only image changes need it: the reads never load it

    uploads.check_target(UploadPurpose.EVENT_IMAGE, event_id)
    assert event_id is not None
    _changeable(events, event_id, principal)
    return uploads.start(media, principal, UploadPurpose.EVENT_IMAGE, content_type, size, event_id)


def update_event(
    events: EventRepository, principal: Principal, event_id: str, changes: dict[str, Any], *, media: uploads.Media
) -> Event:
    """Apply a partial update by the event's creator or staff, keeping capacity at or above seats booked. An
    `image` is an upload of the caller's for this event (checked, published and used up in the same write), or
    None to remove it; the replaced image is deleted."""
    from chalicelib.services import uploads  # only image changes need it: the reads never load it

    if "status" in changes:
        changes = {**changes, "status": EventStatus(changes["status"])}
    upload_id = changes.get("image")
    if upload_id is None:
        before, after = _update(events, principal, event_id, changes)
    else:
        _changeable(events, event_id, principal)  # a stranger learns nothing about the upload named
        verified = uploads.verify(media, "image", upload_id, principal.user_id, UploadPurpose.EVENT_IMAGE, event_id)
        with uploads.claiming(media, "image", verified):
            before, after = _update(events, principal, event_id, {**changes, "image": verified.key}, verified.claim)
    uploads.replaced(media, before.image, after.image)
    return after


def _update(
    events: EventRepository, principal: Principal, event_id: str, changes: dict[str, Any], claim: Claim | None = None
) -> tuple[Event, Event]:
    for _ in range(ATTEMPTS):
        event = _changeable(events, event_id, principal)
        if claim is None and not any(getattr(event, name) != value for name, value in changes.items()):
            return event, event  # nothing changes: nothing is written, and nothing audited
        updated = _with_seat_shards(event, _derive(event, event.with_changes(**changes), changes), changes)
        updated = replace(updated, booking_parts=max(updated.booking_parts, updated.seat_shards))
        _check_times(updated.starts_at, updated.ends_at)
        _check_price(updated.price, updated.currency)
        _check_sales_opening(event, updated)
        if updated.capacity is not None and updated.capacity < event.seats_booked:
            raise Conflict("Capacity cannot be lower than the seats already booked.", "capacity_below_booked")
        if updated.status is EventStatus.CANCELLED:
            # Every booking still active is settled after this write commits (services.event_settlement).
            active = event.seats_booked + event.waitlisted
            updated = replace(updated, settlement=Settlement(bookings=active, remaining=active, started_at=utcnow()))
        try:
            events.save(event, updated, _edit_entry(principal, event, updated, changes), claim)
            return event, updated
        except StaleWrite:
            continue  # a booking or another edit came first: re-read and re-check
    raise Conflict("The event changed during the update; try again.", "concurrent_update")


def _with_seat_shards(event: Event, updated: Event, changes: dict[str, Any]) -> Event:
    """`updated` with as many seat counters as its new capacity calls for when the event had the number its
    capacity called for (a number its creator chose is kept), never fewer than it has while it has bookings (a
    counter holding seats cannot go). A creator's smaller number while seats are held: 409 seat_shards_in_use."""
    held = event.seats_booked + event.waitlisted > 0
    if "seat_shards" in changes:
        if held and updated.seat_shards < event.seat_shards:
            raise Conflict("Seat counters cannot be removed while the event has bookings.", "seat_shards_in_use")
        return updated
    if "capacity" not in changes or event.seat_shards != default_seat_shards(event.capacity):
        return updated
    wanted = default_seat_shards(updated.capacity)
    return replace(updated, seat_shards=max(wanted, event.seat_shards) if held else wanted)


def _derive(event: Event, updated: Event, changes: dict[str, Any]) -> Event:
    """`updated` with its city and online flag taken again from its location and link when those changed and
    the event's were still the derived ones (a creator's own choice is kept), and its city when emptied."""
    derived: dict[str, Any] = {}
    if changes.get("city") == "":
        derived["city"] = derived_city(updated.location)  # emptied: taken from the location, as on create
    elif "city" not in changes and "location" in changes and event.city == derived_city(event.location):
        derived["city"] = derived_city(updated.location)
    moved = "location" in changes or "online_url" in changes
    if "online" not in changes and moved and event.online == derived_online(event.location, event.online_url):
        derived["online"] = derived_online(updated.location, updated.online_url)
    return replace(updated, **derived) if derived else updated


def _edit_entry(principal: Principal, event: Event, updated: Event, changes: dict[str, Any]) -> AuditEntry | None:
    """The audit entry of a staff member's edit of someone else's event (None for anyone else's edit)."""
    if not on_behalf_of_others(principal, event.creator):
        return None
    # Only an edit of a live event gets here, so a cancelled result is this edit cancelling it.
    action = AuditAction.EVENT_CANCEL if updated.status is EventStatus.CANCELLED else AuditAction.EVENT_UPDATE
    return entry(principal, action, event.id, diff(event, updated, changes))


def delete_event(events: EventRepository, principal: Principal, event_id: str, *, media: uploads.Media) -> None:
    """Delete an event without active bookings, and its image. With bookings, cancelling it is the way: its
    bookings are then settled (cancelled, refunded), and once that is done and its refunds are issued it may be
    deleted. Deleting never settles anything itself: attendees would lose the event their booking names."""
    from chalicelib.services import uploads  # only image changes need it: the reads never load it

    for _ in range(ATTEMPTS):
        event = _editable(events, event_id, principal)
        if event.seats_booked > 0 or event.waitlisted > 0:
            raise Conflict("An event with active bookings cannot be deleted; cancel it instead.", "event_has_bookings")
        settlement = event.settlement
        if settlement is not None and (settlement.completed_at is None or settlement.refunds_pending):
            raise Conflict(
                "This cancelled event's bookings are still being settled; delete it once that is done.",
                "settlement_in_progress",
            )
        audit = None
        if on_behalf_of_others(principal, event.creator):
            audit = entry(principal, AuditAction.EVENT_DELETE, event.id, diff(event, None, LOGGED_ON_DELETE))
        try:
            events.delete(event, audit)
        except StaleWrite:
            continue
        uploads.discard(media, event.image)
        return
    raise Conflict("The event changed during the delete; try again.", "concurrent_update")


def list_events(
    events: EventRepository, *, limit: int, start: dict[str, str] | None, creator: str | None, upcoming: bool
) -> Page:
    """Published events, newest first; with `upcoming`, those not yet started, soonest first."""
    if creator is not None and not is_valid_id(creator):
        return Page(items=[], next_key=None)
    starts_from = iso(utcnow()) if upcoming else None
    page = events.list_published(limit=limit, start=start, creator=creator, starts_from=starts_from)
    # The public list knows no viewer: paid events' links stay with their detail page.
    return Page(items=[event.shown_to(None) for event in page.items], next_key=page.next_key)


def list_own_events(events: EventRepository, principal: Principal, *, limit: int, start: dict[str, str] | None) -> Page:
    """The caller's events of every status, newest first."""
    return events.list_by_creator(principal.user_id, limit=limit, start=start)


def search_events(search: EventSearch, query: SearchQuery, *, limit: int, start: dict[str, str] | None) -> Page:
    """Published events answering `query`, as anyone may see them (a page may be short while more follow)."""
    page = search.search(query, limit=limit, start=start)
    return Page(items=[event.shown_to(None) for event in page.items], next_key=page.next_key)
