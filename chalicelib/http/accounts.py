"""Sign-up and simplejwt's token endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Blueprint, Response

from chalicelib.http import dependencies as deps
from chalicelib.http.contract import InputRef
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import ACCESS_TOKEN, EMPTY, TOKEN_PAIR, USER
from chalicelib.services import accounts

if TYPE_CHECKING:
    from chalicelib.schemas.accounts import RegisterIn, TokenObtainIn, TokenRefreshIn, TokenVerifyIn

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
)
def register(data: RegisterIn) -> Response:
    """Create a USER account."""
    user = accounts.register(
        deps.users(),
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
    errors=(401,),
    cache_control=NO_STORE,
)
def obtain_token(data: TokenObtainIn) -> dict[str, str]:
    """A refresh and an access token for a username and password."""
    return accounts.obtain_tokens(
        deps.users(),
        deps.token_policy(),
        username=data.username,
        password=data.password,
        rounds=deps.settings().bcrypt_rounds,
    )


@routes.route(
    "/api/token/refresh",
    "POST",
    summary="A new access token",
    body=InputRef("accounts", "TokenRefreshIn"),
    responses={200: ACCESS_TOKEN},
    errors=(401,),
    cache_control=NO_STORE,
)
def refresh_token(data: TokenRefreshIn) -> dict[str, str]:
    """A new access token for a refresh token."""
    return accounts.refresh_access(deps.users(), deps.token_policy(), refresh=data.refresh)


@routes.route(
    "/api/token/verify",
    "POST",
    summary="Check a token",
    body=InputRef("accounts", "TokenVerifyIn"),
    responses={200: EMPTY},
    errors=(401,),
    uses_database=False,
    cache_control=NO_STORE,
)
def verify_token(data: TokenVerifyIn) -> dict[str, str]:
    """{} when the token is authentic and unexpired."""
    accounts.verify(deps.token_policy(), token=data.token)
    return {}
