"""Events: the public list and detail, and creation and editing by creators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from chalice.app import Blueprint, Response

from chalicelib import bootstrap as deps
from chalicelib.domain.enums import Access
from chalicelib.domain.search import CATEGORIES, SORTS
from chalicelib.errors import ValidationFailed
from chalicelib.http.contract import CALENDAR, PAGINATION, InputRef, Parameter
from chalicelib.http.pagination import page_of, page_request
from chalicelib.http.requests import boolean_param, query_params
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import CATEGORY_LIST, EVENT, EVENT_LIST

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
    from chalicelib.schemas.events import EventCreateIn, EventUpdateIn

BOOLEAN_PARAMETER = {"type": "string", "enum": ["true", "false", "1", "0"]}
events_bp = Blueprint(__name__)
routes = Router(events_bp)


class _Category(NamedTuple):
    slug: str
    name: str


class _Categories(NamedTuple):
    results: tuple[_Category, ...]


CATEGORY_PAGE = _Categories(tuple(_Category(slug, name) for slug, name in CATEGORIES))


def _optional_caller() -> Principal | None:
    # Public routes have no authorizer: a token, when sent, is verified here with the same rules.
    from chalicelib.services.authentication import authenticate

    header = routes.request.headers.get("authorization")
    return authenticate(header, deps.users(), deps.signing_keys(), deps.lifetimes()) if header else None


SEARCH_PARAMETERS = (
    Parameter(
        "q",
        {"type": "string", "maxLength": 200},
        "Words, each the start of a word of the title, tags or description (case, accents and width folded; words "
        "under 3 characters and very common words are left out; at most 5 words count). Every word must match.",
    ),
    Parameter("category", {"type": "string", "enum": [slug for slug, _ in CATEGORIES]}, "Only this category."),
    Parameter("tag", {"type": "string", "maxLength": 60}, "Only events with this tag (normalized as tags are)."),
    Parameter("city", {"type": "string", "maxLength": 80}, "Only events in this city (case and accents folded)."),
    Parameter("online", BOOLEAN_PARAMETER, "Only online events (true) or only in-person ones (false)."),
    Parameter("free", BOOLEAN_PARAMETER, "Only free events (true) or only paid ones (false)."),
    Parameter(
        "from",
        {"type": "string", "examples": ["2027-03-01", "2027-03-01T18:00:00Z"]},
        "Only events starting at or after this date (its start, UTC) or time.",
    ),
    Parameter(
        "to",
        {"type": "string", "examples": ["2027-03-31", "2027-03-31T23:00:00Z"]},
        "Only events starting at or before this date (its end, UTC) or time.",
    ),
    Parameter(
        "sort",
        {"type": "string", "enum": list(SORTS)},
        "`newest` (the default; with `upcoming`, `soonest`): newest first; `soonest`: by start time, soonest "
        "first, events without a start time last.",
    ),
)
SEARCH_NAMES = frozenset(p.name for p in SEARCH_PARAMETERS)


@routes.route(
    "/api/events",
    "GET",
    summary="Published events, and search over them. With any of `q`, `category`, `tag`, `city`, `online`, "
    "`free`, `from`, `to`, `sort`, a page reads a bounded number of index entries: it may hold fewer than `limit` "
    "events, even none, while `next` is set; follow `next` for more",
    query=(
        *PAGINATION,
        Parameter("creator", {"type": "string"}, "Only this creator's events (not with the search parameters)."),
        Parameter(
            "upcoming", BOOLEAN_PARAMETER, "Not yet started, soonest first (with a search: from now, soonest first)."
        ),
        *SEARCH_PARAMETERS,
    ),
    responses={200: EVENT_LIST},
)
def list_events() -> dict[str, Any]:
    """Published events, newest first; `?creator=<id>`, `?upcoming=true` (soonest first); or a search."""
    from chalicelib.services import events

    params = query_params(routes.request)
    upcoming = bool(boolean_param(params, "upcoming"))
    creator = params.get("creator") or None
    if any(params.get(name) for name in SEARCH_NAMES):
        from chalicelib.domain.common import utcnow
        from chalicelib.http.search import search_query

        if creator:
            raise ValidationFailed({"creator": ["Not available with the search parameters."]})
        query, scope = search_query(params, upcoming=upcoming, now=utcnow())
        limit, start = page_request(routes.request, scope)
        page = events.search_events(deps.search(), query, limit=limit, start=start)
        return page_of(routes.request, page, scope, EVENT_LIST)
    scope = f"events:{creator or '*'}:{upcoming}"
    limit, start = page_request(routes.request, scope)
    page = events.list_events(deps.events(), limit=limit, start=start, creator=creator, upcoming=upcoming)
    return page_of(routes.request, page, scope, EVENT_LIST)


@routes.route(
    "/api/categories",
    "GET",
    summary="The categories events belong to (a fixed list)",
    responses={200: CATEGORY_LIST},
    uses_database=False,
    cache_control="public, max-age=3600",
)
def list_categories() -> dict[str, Any]:
    """Every category, with its slug and name."""
    return CATEGORY_LIST.render(CATEGORY_PAGE)


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
