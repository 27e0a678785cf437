"""The caller's own account (profile, password, signing out everywhere) and events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib import bootstrap as deps
from chalicelib.domain.enums import Access
from chalicelib.http.contract import PAGINATION, InputRef
from chalicelib.http.pagination import page_of, page_request
from chalicelib.http.requests import client_ip
from chalicelib.http.routing import Router
from chalicelib.http.views import EVENT_LIST, ME

if TYPE_CHECKING:
    from chalicelib.schemas.accounts import MeUpdateIn, PasswordChangeIn

me_bp = Blueprint(__name__)
routes = Router(me_bp)


@routes.route("/api/me", "GET", Access.SIGNED_IN, summary="The signed-in user", responses={200: ME})
def me() -> dict[str, Any]:
    """The signed-in user."""
    from chalicelib.services import accounts

    return ME.render(accounts.profile(deps.users(), routes.caller().user_id))


@routes.route(
    "/api/me",
    "PATCH",
    Access.SIGNED_IN,
    summary="Change avatar (an upload's id; null removes it) or ask to change email (with current_password: "
    "confirmed from a link sent to the new address)",
    body=InputRef("accounts", "MeUpdateIn"),
    body_required=False,
    responses={200: ME},
    conflicts=True,
    errors=(429,),
)
def update_me(data: MeUpdateIn) -> dict[str, Any]:
    """Change the caller's avatar; a new email is asked for, proven by the current password, and takes effect
    once confirmed from the new address (the old one is told)."""
    from chalicelib.services import accounts

    caller = routes.caller()
    changes = data.model_dump(include=data.model_fields_set - {"email", "current_password"})
    proven = None
    if data.email is not None:
        from chalicelib.services import credentials

        # Checked before anything is written, so that a PATCH refused for either field changes neither.
        settings = deps.settings()
        proven = credentials.prove_email_change(
            deps.users(),
            deps.guard(),
            caller.user_id,
            email=data.email,
            current_password=data.current_password,
            client_ip=client_ip(routes.request),
            rounds=settings.bcrypt_rounds,
        )
    user = None
    if changes or proven is None:
        user = accounts.update_profile(deps.users(), caller.user_id, changes, media=deps.media())
    if proven is not None:
        user = credentials.request_email_change(
            deps.users(), deps.mailer(), proven, email=str(data.email), web_app_url=deps.settings().web_app_url
        )
    assert user is not None
    return ME.render(user)


@routes.route(
    "/api/me/password",
    "POST",
    Access.SIGNED_IN,
    summary="Change the password (every token of the account is revoked)",
    body=InputRef("accounts", "PasswordChangeIn"),
    responses={204: None},
    conflicts=True,
    errors=(429,),
)
def change_password(data: PasswordChangeIn) -> Response:
    """Set a new password, proven by the old one; every refresh token is refused from now on, and access tokens
    within the authorizer's cache time. Sign in again with the new password."""
    from chalicelib.services import credentials

    credentials.change_password(
        deps.users(),
        deps.guard(),
        routes.caller().user_id,
        old_password=data.old_password,
        new_password=data.new_password,
        client_ip=client_ip(routes.request),
        rounds=deps.settings().bcrypt_rounds,
    )
    return Response(body="", status_code=204)


@routes.route(
    "/api/me/logout-all",
    "POST",
    Access.SIGNED_IN,
    summary="Sign out everywhere (every token of the account is revoked)",
    responses={204: None},
    conflicts=True,
)
def logout_all() -> Response:
    """Revoke every refresh token of the caller, and their access tokens within the authorizer's cache time."""
    from chalicelib.services import accounts

    accounts.sign_out_everywhere(deps.users(), routes.caller().user_id)
    return Response(body="", status_code=204)


@routes.route(
    "/api/me/events",
    "GET",
    Access.CREATOR,
    summary="The caller's events, drafts included",
    query=PAGINATION,
    responses={200: EVENT_LIST},
)
def my_events() -> dict[str, Any]:
    """The caller's events, drafts and cancelled ones included, newest first."""
    from chalicelib.services import events

    caller = routes.caller()
    scope = f"me-events:{caller.user_id}"
    limit, start = page_request(routes.request, scope)
    page = events.list_own_events(deps.events(), caller, limit=limit, start=start)
    return page_of(routes.request, page, scope, EVENT_LIST)
