"""The staff's API: accounts, every event, and the audit log. Staff only: the authorizer's policy keeps
everyone else out before a handler runs (403 signed in, 401 anonymous)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib import bootstrap as deps
from chalicelib.domain.enums import Access, EventStatus, Role
from chalicelib.errors import ValidationFailed
from chalicelib.http.contract import PAGINATION, InputRef, Parameter
from chalicelib.http.pagination import page_of, page_request
from chalicelib.http.requests import boolean_param, choice_param, query_params
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import ADMIN_USER, ADMIN_USER_LIST, AUDIT_LIST, EVENT_LIST

if TYPE_CHECKING:
    from chalicelib.schemas.admin import AdminUserCreateIn, AdminUserUpdateIn

admin_bp = Blueprint(__name__)
routes = Router(admin_bp)
MAX_SEARCH = 254  # the longest e-mail address; no username is longer
BOOLEAN = {"type": "string", "enum": ["true", "false", "1", "0"]}
USER_FILTERS = (
    Parameter(
        "search",
        {"type": "string", "maxLength": MAX_SEARCH},
        "Case-insensitive prefix of the username; of the e-mail address too once the term holds its `@`.",
    ),
    Parameter("role", {"type": "string", "enum": [r.value for r in Role]}, "Only this role."),
    Parameter("is_staff", BOOLEAN, "Only staff (true) or only non-staff (false)."),
    Parameter("is_active", BOOLEAN, "Only active (true) or only deactivated (false) accounts."),
)
EVENT_FILTERS = (
    Parameter("status", {"type": "string", "enum": [s.value for s in EventStatus]}, "Only this status."),
    Parameter("creator", {"type": "string"}, "Only this creator's events (a user id)."),
)
LOG_FILTERS = (
    Parameter("actor", {"type": "string"}, "Only this staff member's actions (a user id)."),
    Parameter("object_id", {"type": "string"}, "Only actions on this object (a user, event or booking id)."),
)


def _scope(name: str, *filters: Any) -> str:
    # A cursor belongs to one list with one set of filters: another set makes it a 400, never a wrong page.
    return f"{name}:{json.dumps(filters, separators=(',', ':'))}"


@routes.route(
    "/api/admin/users",
    "GET",
    Access.STAFF,
    summary="Users (staff)",
    query=(*PAGINATION, *USER_FILTERS),
    responses={200: ADMIN_USER_LIST},
)
def list_users() -> dict[str, Any]:
    """Users sorted by username; search and filters combine."""
    from chalicelib.services import admin

    params = query_params(routes.request)
    search = params.get("search")
    if search is not None and len(search) > MAX_SEARCH:
        raise ValidationFailed({"search": [f"Ensure this field has no more than {MAX_SEARCH} characters."]})
    role = choice_param(params, "role", Role)
    is_staff, is_active = boolean_param(params, "is_staff"), boolean_param(params, "is_active")
    scope = _scope("admin-users", search, role, is_staff, is_active)
    limit, start = page_request(routes.request, scope)
    page = admin.list_users(
        deps.users(), search=search, role=role, is_staff=is_staff, is_active=is_active, limit=limit, start=start
    )
    return page_of(routes.request, page, scope, ADMIN_USER_LIST)


@routes.route(
    "/api/admin/users",
    "POST",
    Access.STAFF,
    summary="Create a user of any role (staff)",
    body=InputRef("admin", "AdminUserCreateIn"),
    responses={201: ADMIN_USER},
    conflicts=True,
)
def create_user(data: AdminUserCreateIn) -> Response:
    """An account made by staff; the password goes through the same validators as at sign-up."""
    from chalicelib.services import admin

    user = admin.create_user(
        deps.users(),
        routes.caller(),
        username=data.username,
        email=data.email,
        password=data.password,
        role=Role(data.role),
        is_staff=data.is_staff,
        rounds=deps.settings().bcrypt_rounds,
    )
    return json_response(ADMIN_USER.render(user), 201)


@routes.route(
    "/api/admin/users/{user_id}", "GET", Access.STAFF, summary="One user (staff)", responses={200: ADMIN_USER}
)
def get_user(user_id: str) -> dict[str, Any]:
    """One account, active or not."""
    from chalicelib.services import admin

    return ADMIN_USER.render(admin.find_user(deps.users(), user_id))


@routes.route(
    "/api/admin/users/{user_id}",
    "PATCH",
    Access.STAFF,
    summary="Change a user's role, staff or active flag, or e-mail (staff)",
    body=InputRef("admin", "AdminUserUpdateIn"),
    body_required=False,
    responses={200: ADMIN_USER},
    conflicts=True,
)
def update_user(user_id: str, data: AdminUserUpdateIn) -> dict[str, Any]:
    """Takes effect at once for sign-in and token refresh, and within one authorizer TTL for access tokens."""
    from chalicelib.services import admin

    changes = data.model_dump(include=data.model_fields_set)
    return ADMIN_USER.render(admin.update_user(deps.users(), routes.caller(), user_id, changes))


@routes.route(
    "/api/admin/events",
    "GET",
    Access.STAFF,
    summary="Every event, drafts and cancelled ones included (staff)",
    query=(*PAGINATION, *EVENT_FILTERS),
    responses={200: EVENT_LIST},
)
def list_events() -> dict[str, Any]:
    """Every event, newest first."""
    from chalicelib.services import admin

    params = query_params(routes.request)
    status = choice_param(params, "status", EventStatus)
    creator = params.get("creator") or None
    scope = _scope("admin-events", status, creator)
    limit, start = page_request(routes.request, scope)
    page = admin.list_events(deps.events(), status=status, creator=creator, limit=limit, start=start)
    return page_of(routes.request, page, scope, EVENT_LIST)


@routes.route(
    "/api/admin/log",
    "GET",
    Access.STAFF,
    summary="The audit log of staff actions, newest first (staff)",
    query=(*PAGINATION, *LOG_FILTERS),
    responses={200: AUDIT_LIST},
)
def list_log() -> dict[str, Any]:
    """Staff writes, newest first."""
    from chalicelib.services import admin

    params = query_params(routes.request)
    actor, object_id = params.get("actor") or None, params.get("object_id") or None
    scope = _scope("admin-log", actor, object_id)
    limit, start = page_request(routes.request, scope)
    page = admin.list_log(deps.audit(), actor=actor, object_id=object_id, limit=limit, start=start)
    return page_of(routes.request, page, scope, AUDIT_LIST)
