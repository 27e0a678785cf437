"""Sign-up, simplejwt's token endpoints (with its blacklist app's rotation and sign-out) and password reset."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib import bootstrap as deps
from chalicelib.http.contract import InputRef
from chalicelib.http.requests import client_ip
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import ACCESS_TOKEN, EMPTY, MESSAGE, ROTATED_TOKENS, TOKEN_PAIR, USER
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    from chalicelib.schemas.accounts import (
        EmailConfirmIn,
        PasswordResetConfirmIn,
        PasswordResetIn,
        RegisterIn,
        TokenBlacklistIn,
        TokenObtainIn,
        TokenRefreshIn,
        TokenVerifyIn,
    )

accounts_bp = Blueprint(__name__)
routes = Router(accounts_bp)
# Answers holding tokens must never be stored by a browser or a proxy.
NO_STORE = "no-store"


@routes.route(
    "/api/register",
    "POST",
    summary="Sign up (a USER account)",
    body=InputRef("accounts", "RegisterIn"),
    responses={201: USER},
    conflicts=True,
    errors=(429,),
)
def register(data: RegisterIn) -> Response:
    """Create a USER account (a limited number per client IP)."""
    from chalicelib.services import accounts

    user = accounts.sign_up(
        deps.users(),
        deps.guard(),
        client_ip=client_ip(routes.request),
        username=data.username,
        email=data.email,
        password=data.password,
        rounds=deps.settings().bcrypt_rounds,
    )
    return json_response(USER.render(user), 201)


@routes.route(
    "/api/token",
    "POST",
    summary="Obtain a refresh and an access token",
    body=InputRef("accounts", "TokenObtainIn"),
    responses={200: TOKEN_PAIR},
    errors=(401, 429),
    cache_control=NO_STORE,
)
def obtain_token(data: TokenObtainIn) -> dict[str, str]:
    """A refresh and an access token for a username and password; locked (429) for a username or client IP
    after too many failures, until the window ends."""
    from chalicelib.services import accounts

    return accounts.sign_in(
        deps.users(),
        deps.guard(),
        deps.token_policy(),
        client_ip=client_ip(routes.request),
        username=data.username,
        password=data.password,
        rounds=deps.settings().bcrypt_rounds,
    )


@routes.route(
    "/api/token/refresh",
    "POST",
    summary="New tokens for a refresh token (rotation: the one sent is blacklisted)",
    body=InputRef("accounts", "TokenRefreshIn"),
    # The stage decides whether refresh tokens rotate; the document describes what this stage answers.
    responses={200: ROTATED_TOKENS if get_settings().rotate_refresh_tokens else ACCESS_TOKEN},
    errors=(401,),
    cache_control=NO_STORE,
)
def refresh_token(data: TokenRefreshIn) -> dict[str, str]:
    """A new access token and (with rotation) a new refresh token; an already rotated token revokes its
    family."""
    from chalicelib.services import accounts

    return accounts.refresh(deps.users(), deps.families(), deps.token_policy(), refresh=data.refresh)


@routes.route(
    "/api/token/verify",
    "POST",
    summary="Check a token",
    body=InputRef("accounts", "TokenVerifyIn"),
    responses={200: EMPTY},
    errors=(401,),
    cache_control=NO_STORE,
)
def verify_token(data: TokenVerifyIn) -> dict[str, str]:
    """{} when the token is authentic, unexpired and not revoked."""
    from chalicelib.services import accounts

    accounts.verify(deps.users(), deps.families(), deps.token_policy(), token=data.token)
    return {}


@routes.route(
    "/api/token/blacklist",
    "POST",
    summary="Sign out: revoke a refresh token",
    body=InputRef("accounts", "TokenBlacklistIn"),
    responses={200: EMPTY},
    errors=(401,),
    cache_control=NO_STORE,
)
def blacklist_token(data: TokenBlacklistIn) -> dict[str, str]:
    """{} once the refresh token (and every token rotated from its sign-in) is revoked."""
    from chalicelib.services import accounts

    accounts.blacklist(deps.families(), deps.token_policy(), refresh=data.refresh)
    return {}


@routes.route(
    "/api/password/reset",
    "POST",
    summary="E-mail a password-reset link (the answer never tells whether the address has an account)",
    body=InputRef("accounts", "PasswordResetIn"),
    responses={200: MESSAGE},
    errors=(429,),
)
def password_reset(data: PasswordResetIn) -> dict[str, str]:
    """The same answer for every address; an active account's address gets a link to the web app's reset
    page."""
    from chalicelib.services import credentials

    settings = deps.settings()
    detail = credentials.request_reset(
        deps.users(),
        deps.resets(),
        deps.mailer(),
        deps.guard(),
        email=data.email,
        client_ip=client_ip(routes.request),
        web_app_url=settings.web_app_url,
        min_seconds=settings.password_reset_min_seconds,
    )
    return {"detail": detail}


@routes.route(
    "/api/password/reset/confirm",
    "POST",
    summary="Set a new password with the e-mailed uid and token (single use, one hour)",
    body=InputRef("accounts", "PasswordResetConfirmIn"),
    responses={200: MESSAGE},
    conflicts=True,
)
def password_reset_confirm(data: PasswordResetConfirmIn) -> dict[str, str]:
    """Set the new password and revoke every token of the account."""
    from chalicelib.services import credentials

    detail = credentials.confirm_reset(
        deps.users(),
        deps.resets(),
        uid=data.uid,
        token=data.token,
        new_password=data.new_password,
        rounds=deps.settings().bcrypt_rounds,
    )
    return {"detail": detail}


@routes.route(
    "/api/email/confirm",
    "POST",
    summary="Confirm a new e-mail address with the uid and token e-mailed to it (single use, one hour)",
    body=InputRef("accounts", "EmailConfirmIn"),
    responses={200: MESSAGE},
    conflicts=True,
)
def email_confirm(data: EmailConfirmIn) -> dict[str, str]:
    """Change the account's address to the one the link was sent to."""
    from chalicelib.services import credentials

    return {"detail": credentials.confirm_email_change(deps.users(), uid=data.uid, token=data.token)}
