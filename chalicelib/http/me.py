"""The caller's own account and events."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.http import dependencies as deps
from chalicelib.http.contract import PAGINATION
from chalicelib.http.pagination import page_of, page_request
from chalicelib.http.routing import Router
from chalicelib.http.views import event_public, user_public
from chalicelib.schemas.accounts import MeUpdateIn, UserPublic
from chalicelib.schemas.events import EventList
from chalicelib.schemas.validation import validate
from chalicelib.security.access import Access
from chalicelib.services import accounts, events

me_bp = Blueprint(__name__)
routes = Router(me_bp)


@routes.route("/api/me", "GET", Access.SIGNED_IN, summary="The signed-in user", responses={200: UserPublic})
def me() -> dict[str, Any]:
    """The signed-in user."""
    return user_public(accounts.profile(deps.users(), routes.caller().user_id))


@routes.route(
    "/api/me",
    "PATCH",
    Access.SIGNED_IN,
    summary="Change email or avatar",
    body=MeUpdateIn,
    body_required=False,
    responses={200: UserPublic},
    conflicts=True,
)
def update_me() -> dict[str, Any]:
    """Change the caller's email or avatar."""
    data = validate(MeUpdateIn, routes.body())
    changes = data.model_dump(include=data.model_fields_set)
    return user_public(accounts.update_profile(deps.users(), routes.caller().user_id, changes))


@routes.route(
    "/api/me/events",
    "GET",
    Access.CREATOR,
    summary="The caller's events, drafts included",
    query=PAGINATION,
    responses={200: EventList},
)
def my_events() -> dict[str, Any]:
    """The caller's events, drafts and cancelled ones included, newest first."""
    caller = routes.caller()
    scope = f"me-events:{caller.user_id}"
    limit, start = page_request(routes.request, scope)
    page = events.list_own_events(deps.events(), caller, limit=limit, start=start)
    return page_of(routes.request, page, scope, event_public)
