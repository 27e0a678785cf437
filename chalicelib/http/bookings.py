"""Bookings: book a seat, cancel, and the lists of bookings."""

from __future__ import annotations

import re
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.errors import MalformedRequest
from chalicelib.http import dependencies as deps
from chalicelib.http.contract import IDEMPOTENCY_KEY, PAGINATION
from chalicelib.http.pagination import page_of, page_request
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import booking_public, event_summary
from chalicelib.schemas.bookings import BookingCancelIn, BookingCreateIn, BookingList, BookingPublic, MyBookingList
from chalicelib.schemas.validation import validate
from chalicelib.security.access import Access
from chalicelib.services import bookings
from chalicelib.services.bookings import Idempotency, Outcome, fingerprint

bookings_bp = Blueprint(__name__)
routes = Router(bookings_bp)
KEY_PATTERN = re.compile(r"\A[\x21-\x7e]{1,255}\Z")


def _idempotency(body: Any, status: int) -> Idempotency | None:
    key = routes.request.headers.get("idempotency-key")
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise MalformedRequest("Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.")
    caller = routes.caller()
    request = routes.request
    return Idempotency(
        key=f"{caller.user_id}#{key}",
        fingerprint=fingerprint(caller.user_id, request.method, request.path, body),
        render=booking_public,
        status=status,
    )


def _answer(outcome: Outcome, status: int) -> Response:
    if outcome.replay is not None:
        return Response(
            body=outcome.replay.body,
            status_code=outcome.replay.status,
            headers={"Content-Type": "application/json", "Idempotent-Replayed": "true"},
        )
    assert outcome.booking is not None
    return json_response(booking_public(outcome.booking), status)


@routes.route(
    "/api/events/{event_id}/bookings",
    "POST",
    Access.SIGNED_IN,
    summary="Book a seat, or a waitlist place when full",
    body=BookingCreateIn,
    body_required=False,
    headers=(IDEMPOTENCY_KEY,),
    responses={201: BookingPublic},
    conflicts=True,
)
def book(event_id: str) -> Response:
    """Book a seat (201), or a waitlist place with {"waitlist": true} when the event is full."""
    body = routes.body()
    data = validate(BookingCreateIn, body)
    outcome = bookings.book(
        deps.events(),
        deps.bookings(),
        deps.idempotency(),
        routes.caller(),
        event_id,
        waitlist=data.waitlist,
        idempotency=_idempotency(body, 201),
    )
    return _answer(outcome, 201)


@routes.route(
    "/api/bookings/{booking_id}/cancel",
    "POST",
    Access.SIGNED_IN,
    summary="Cancel a booking",
    body=BookingCancelIn,
    body_required=False,
    headers=(IDEMPOTENCY_KEY,),
    responses={200: BookingPublic},
    conflicts=True,
)
def cancel(booking_id: str) -> Response:
    """Cancel a booking; the seat goes to the oldest waitlisted booking, if any."""
    body = routes.body()
    validate(BookingCancelIn, body)
    outcome = bookings.cancel(
        deps.bookings(), deps.idempotency(), routes.caller(), booking_id, idempotency=_idempotency(body, 200)
    )
    return _answer(outcome, 200)


@routes.route(
    "/api/me/bookings",
    "GET",
    Access.SIGNED_IN,
    summary="The caller's bookings",
    query=PAGINATION,
    responses={200: MyBookingList},
)
def my_bookings() -> dict[str, Any]:
    """The caller's bookings, newest first, each with a summary of its event."""
    caller = routes.caller()
    scope = f"me-bookings:{caller.user_id}"
    limit, start = page_request(routes.request, scope)
    page, events = bookings.my_bookings(deps.bookings(), deps.events(), caller, limit=limit, start=start)
    return page_of(
        routes.request,
        page,
        scope,
        lambda b: {**booking_public(b), "event_summary": event_summary(events.get(b.event_id))},
    )


@routes.route(
    "/api/events/{event_id}/bookings",
    "GET",
    Access.CREATOR,
    summary="An event's bookings (its creator or staff)",
    query=PAGINATION,
    responses={200: BookingList},
)
def event_bookings(event_id: str) -> dict[str, Any]:
    """The event's bookings, newest first (its creator and staff)."""
    scope = f"event-bookings:{event_id}"
    limit, start = page_request(routes.request, scope)
    page = bookings.event_bookings(deps.bookings(), deps.events(), routes.caller(), event_id, limit=limit, start=start)
    return page_of(routes.request, page, scope, booking_public)
