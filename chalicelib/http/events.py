"""Events: the public list and detail, and creation and editing by creators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib import bootstrap as deps
from chalicelib.domain.enums import Access
from chalicelib.http.contract import CALENDAR, PAGINATION, InputRef, Parameter
from chalicelib.http.pagination import page_of, page_request
from chalicelib.http.requests import boolean_param, query_params
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import EVENT, EVENT_LIST

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.schemas.events import EventCreateIn, EventUpdateIn

events_bp = Blueprint(__name__)
routes = Router(events_bp)


def _optional_caller() -> Principal | None:
    # Public routes have no authorizer: a token, when sent, is verified here with the same rules.
    from chalicelib.services.authentication import authenticate

    header = routes.request.headers.get("authorization")
    return authenticate(header, deps.users(), deps.signing_keys(), deps.lifetimes()) if header else None


@routes.route(
    "/api/events",
    "GET",
    summary="Published events",
    query=(
        *PAGINATION,
        Parameter("creator", {"type": "string"}, "Only this creator's events."),
        Parameter(
            "upcoming", {"type": "string", "enum": ["true", "false", "1", "0"]}, "Not yet started, soonest first."
        ),
    ),
    responses={200: EVENT_LIST},
)
def list_events() -> dict[str, Any]:
    """Published events, newest first; `?creator=<id>`, `?upcoming=true` (soonest first)."""
    from chalicelib.services import events

    params = query_params(routes.request)
    upcoming = bool(boolean_param(params, "upcoming"))
    creator = params.get("creator") or None
    scope = f"events:{creator or '*'}:{upcoming}"
    limit, start = page_request(routes.request, scope)
    page = events.list_events(deps.events(), limit=limit, start=start, creator=creator, upcoming=upcoming)
    return page_of(routes.request, page, scope, EVENT_LIST)


@routes.route(
    "/api/events",
    "POST",
    Access.CREATOR,
    summary="Create an event",
    body=InputRef("events", "EventCreateIn"),
    responses={201: EVENT},
)
def create_event(data: EventCreateIn) -> Response:
    """Create an event owned by the caller."""
    from chalicelib.services import events

    event = events.create_event(deps.events(), routes.caller(), data.model_dump())
    return json_response(EVENT.render(event), 201)


@routes.route("/api/events/{event_id}", "GET", summary="One event", responses={200: EVENT}, optional_auth=True)
def get_event(event_id: str) -> dict[str, Any]:
    """One event; drafts only for their creator and staff."""
    from chalicelib.services import events

    return EVENT.render(events.get_event(deps.events(), event_id, _optional_caller()))


@routes.route(
    "/api/events/{event_id}/calendar.ics",
    "GET",
    summary="One event as an iCalendar (RFC 5545) file; its online link only for a confirmed seat's holder and "
    "those who manage it; 409 `event_not_scheduled` while it has no start time",
    responses={200: CALENDAR},
    conflicts=True,
    optional_auth=True,
)
def get_event_calendar(event_id: str) -> Response:
    """The event's `.ics`, seen as get_event sees it (a draft only for its creator and staff)."""
    from chalicelib.domain.common import utcnow
    from chalicelib.services import calendars

    web_app_url = deps.settings().web_app_url
    entry = calendars.calendar_entry(deps.events(), event_id, _optional_caller(), web_app_url=web_app_url)
    body = calendars.event_calendar(entry, now=utcnow())
    headers: dict[str, str | list[str]] = {
        "Content-Type": f"{CALENDAR}; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{calendars.file_name(entry.event)}"',
    }
    return Response(body=body, status_code=200, headers=headers)


@routes.route(
    "/api/events/{event_id}",
    "PATCH",
    Access.CREATOR,
    summary="Edit an event (its creator or staff); `image` is an upload's id, null removes it",
    body=InputRef("events", "EventUpdateIn"),
    body_required=False,
    responses={200: EVENT},
    conflicts=True,
)
def update_event(event_id: str, data: EventUpdateIn) -> dict[str, Any]:
    """Edit an event (its creator or staff)."""
    from chalicelib.services import events

    changes = data.model_dump(include=data.model_fields_set)
    return EVENT.render(events.update_event(deps.events(), routes.caller(), event_id, changes, media=deps.media()))


@routes.route(
    "/api/events/{event_id}",
    "DELETE",
    Access.CREATOR,
    summary="Delete an event without bookings",
    responses={204: None},
    conflicts=True,
)
def delete_event(event_id: str) -> Response:
    """Delete an event without bookings (its creator or staff)."""
    from chalicelib.services import events

    events.delete_event(deps.events(), routes.caller(), event_id, media=deps.media())
    return Response(body="", status_code=204)
