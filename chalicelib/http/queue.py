"""The on-sale queue: join an event's queue and ask for one's place (and admission) in it."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib import bootstrap as deps
from chalicelib.domain.enums import Access
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import QUEUE_STATUS

queue_bp = Blueprint(__name__)
routes = Router(queue_bp)


@routes.route(
    "/api/events/{event_id}/queue",
    "POST",
    Access.SIGNED_IN,
    summary="Join an event's on-sale queue (from its publication until it starts); joining again answers the same "
    "place (200); 409 `no_queue` for an event without a sales opening, `event_not_bookable` once it cannot be "
    "booked",
    responses={201: QUEUE_STATUS, 200: QUEUE_STATUS},
    conflicts=True,
)
def join(event_id: str) -> Response:
    """The caller's new place in the queue (201), or the one they already had (200)."""
    status, created = deps.queue().join(routes.caller(), event_id)
    return json_response(QUEUE_STATUS.render(status), 201 if created else 200)


@routes.route(
    "/api/events/{event_id}/queue",
    "GET",
    Access.SIGNED_IN,
    summary="The caller's place in an event's on-sale queue, and their admission once their turn has come; 404 "
    "`not_in_queue` if they never joined",
    responses={200: QUEUE_STATUS},
    conflicts=True,
)
def status(event_id: str) -> Response:
    """The caller's place (and admission) now."""
    return json_response(QUEUE_STATUS.render(deps.queue().status(routes.caller(), event_id)))
