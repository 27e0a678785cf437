"""Organizer pages: a creator's public profile with their upcoming and past events, and further pages of each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote

from chalice.app import Blueprint

from chalicelib import bootstrap as deps
from chalicelib.http.contract import DEFAULT_LIMIT, PAGINATION, Parameter
from chalicelib.http.pagination import Listed, listed, page_of, page_request
from chalicelib.http.requests import called_path, query_params
from chalicelib.http.routing import Router
from chalicelib.http.views import ORGANIZER, ORGANIZER_EVENT_LIST

if TYPE_CHECKING:
    from chalicelib.domain.common import Page
    from chalicelib.domain.users import User
    from chalicelib.services.creators import When

creators_bp = Blueprint(__name__)
routes = Router(creators_bp)

WHEN = Parameter(
    "when",
    {"type": "string", "enum": ["upcoming", "past"]},
    "`upcoming`: not yet started, soonest first; `past`: already started, most recent first.",
    required=True,
)


class _Shown(NamedTuple):
    user: User
    upcoming: Listed
    past: Listed


def _username(raw: str) -> str:
    # A username never holds `%`: one here is a percent-escape the gateway left in the path.
    return unquote(raw) if "%" in raw else raw


def _scope(user: User, when: When) -> str:
    # Bound to the creator and the list: a cursor of one list is refused by the other.
    return f"creator-events:{user.id}:{when.value}"


@routes.route(
    "/api/creators/{username}",
    "GET",
    summary="An organizer's page: a creator's name, picture, bio, and the first page of their upcoming and past "
    "published events (404 alike for an unknown name, a non-creator and an inactive account)",
    responses={200: ORGANIZER},
)
def organizer(username: str) -> dict[str, Any]:
    """The organizer page of an active creator, found by username in any case; the same for every reader."""
    from chalicelib.domain.common import utcnow
    from chalicelib.services import creators

    found = creators.organizer(deps.users(), deps.events(), _username(username), now=utcnow(), limit=DEFAULT_LIMIT)
    # Further pages are the events route's, beside this one.
    events_path = called_path(routes.request).rstrip("/") + "/events/"

    def first(page: Page, when: When) -> Listed:
        params = {"when": when.value}
        return listed(routes.request, page, _scope(found.user, when), path=events_path, params=params)

    upcoming = first(found.upcoming, creators.When.UPCOMING)
    return ORGANIZER.render(_Shown(found.user, upcoming, first(found.past, creators.When.PAST)))


@routes.route(
    "/api/creators/{username}/events",
    "GET",
    summary="A page of an organizer's published events: `when=upcoming` (soonest first) or `past` (most recent first)",
    query=(WHEN, *PAGINATION),
    responses={200: ORGANIZER_EVENT_LIST},
)
def organizer_events(username: str) -> dict[str, Any]:
    """One page of one of an organizer's lists, continuing the organizer page's `next` links."""
    from chalicelib.domain.common import utcnow
    from chalicelib.errors import ValidationFailed
    from chalicelib.http.requests import choice_param
    from chalicelib.services import creators

    when = choice_param(query_params(routes.request), "when", creators.When)
    if when is None:
        raise ValidationFailed({"when": ["This field is required."]})
    user = creators.find_organizer(deps.users(), _username(username))
    scope = _scope(user, when)
    limit, start = page_request(routes.request, scope)
    page = creators.organizer_events(deps.events(), user, when, now=utcnow(), limit=limit, start=start)
    return page_of(routes.request, page, scope, ORGANIZER_EVENT_LIST)
