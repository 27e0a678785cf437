"""Bookings: book a seat, cancel, and the lists of bookings."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib import bootstrap as deps
from chalicelib.domain.enums import Access
from chalicelib.errors import MalformedRequest
from chalicelib.http.contract import IDEMPOTENCY_KEY, PAGINATION, InputRef
from chalicelib.http.pagination import page_of, page_request
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import BOOKING, BOOKING_LIST

if TYPE_CHECKING:
    from chalicelib.domain.bookings import BookingResult
    from chalicelib.schemas.bookings import BookingCancelIn, BookingCreateIn
    from chalicelib.schemas.validation import InputSchema
    from chalicelib.services.bookings import IdempotentRequest

bookings_bp = Blueprint(__name__)
routes = Router(bookings_bp)
KEY_PATTERN = re.compile(r"\A[\x21-\x7e]{1,255}\Z")


def _idempotent(data: InputSchema) -> IdempotentRequest | None:
    from chalicelib.services.bookings import IdempotentRequest

    key = routes.request.headers.get("idempotency-key")
    if key is None:
        return None
    if not KEY_PATTERN.match(key):
        raise MalformedRequest("Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.")
    # Not the admission: a retry carries a newer one (the first may have expired) and is the same request.
    return IdempotentRequest(key=key, payload=data.model_dump(mode="json", exclude={"admission"}))


def _answer(result: BookingResult, status: int) -> Response:
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return json_response(BOOKING.render(result), status, headers)


@routes.route(
    "/api/events/{event_id}/bookings",
    "POST",
    Access.SIGNED_IN,
    summary="Book a seat, or a waitlist place when full",
    body=InputRef("bookings", "BookingCreateIn"),
    body_required=False,
    headers=(IDEMPOTENCY_KEY,),
    responses={201: BOOKING},
    conflicts=True,
    errors=(503,),
)
def book(event_id: str, data: BookingCreateIn) -> Response:
    """Book a seat (201), or a waitlist place with {"waitlist": true} when the event is full."""
    from chalicelib.services import bookings

    result = bookings.book(
        deps.events(),
        deps.bookings(),
        deps.idempotency(),
        routes.caller(),
        event_id,
        waitlist=data.waitlist,
        request=_idempotent(data),
        terms=deps.payment_terms(),
        admission=deps.admission(data.admission),
    )
    return _answer(result, 201)


@routes.route(
    "/api/bookings/{booking_id}/cancel",
    "POST",
    Access.SIGNED_IN,
    summary="Cancel a booking",
    body=InputRef("bookings", "BookingCancelIn"),
    body_required=False,
    headers=(IDEMPOTENCY_KEY,),
    responses={200: BOOKING},
    conflicts=True,
)
def cancel(booking_id: str, data: BookingCancelIn) -> Response:
    """Cancel a booking; the seat goes to the oldest waitlisted booking, if any."""
    from chalicelib.services import bookings

    result = bookings.cancel(
        deps.bookings(),
        deps.events(),
        deps.idempotency(),
        routes.caller(),
        booking_id,
        request=_idempotent(data),
        terms=deps.payment_terms(),
    )
    return _answer(result, 200)


@routes.route(
    "/api/bookings/{booking_id}/refund",
    "POST",
    Access.CREATOR,
    summary="Refund a paid booking in full (the event's creator or staff): a confirmed one is cancelled",
    responses={200: BOOKING},
    conflicts=True,
    errors=(503,),
)
def refund(booking_id: str) -> Response:
    """Refund a paid booking in full without waiting for its owner; a confirmed one is cancelled."""
    from chalicelib.services import bookings

    result = bookings.refund(deps.bookings(), deps.events(), routes.caller(), booking_id, terms=deps.payment_terms())
    return _answer(result, 200)


@routes.route(
    "/api/me/bookings",
    "GET",
    Access.SIGNED_IN,
    summary="The caller's bookings",
    query=PAGINATION,
    responses={200: BOOKING_LIST},
)
def my_bookings() -> dict[str, Any]:
    """The caller's bookings, newest first, each with a summary of its event."""
    from chalicelib.services import bookings

    caller = routes.caller()
    scope = f"me-bookings:{caller.user_id}"
    limit, start = page_request(routes.request, scope)
    page = bookings.my_bookings(
        deps.bookings(), deps.events(), caller, limit=limit, start=start, terms=deps.payment_terms()
    )
    return page_of(routes.request, page, scope, BOOKING_LIST)


@routes.route(
    "/api/events/{event_id}/bookings",
    "GET",
    Access.CREATOR,
    summary="An event's bookings (its creator or staff)",
    query=PAGINATION,
    responses={200: BOOKING_LIST},
)
def event_bookings(event_id: str) -> dict[str, Any]:
    """The event's bookings, newest first (its creator and staff)."""
    from chalicelib.services import bookings

    scope = f"event-bookings:{event_id}"
    limit, start = page_request(routes.request, scope)
    page = bookings.event_bookings(
        deps.bookings(), deps.events(), routes.caller(), event_id, limit=limit, start=start, terms=deps.payment_terms()
    )
    return page_of(routes.request, page, scope, BOOKING_LIST)
