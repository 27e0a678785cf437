"""Sign-up and simplejwt's token endpoints."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.http import dependencies as deps
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import user_public
from chalicelib.schemas.accounts import (
    AccessToken,
    RegisterIn,
    TokenObtainIn,
    TokenPair,
    TokenRefreshIn,
    TokenVerifyIn,
    UserPublic,
)
from chalicelib.schemas.responses import EmptyObject
from chalicelib.schemas.validation import validate
from chalicelib.services import accounts

accounts_bp = Blueprint(__name__)
routes = Router(accounts_bp)


@routes.route(
    "/api/register",
    "POST",
    summary="Sign up (a USER account)",
    body=RegisterIn,
    responses={201: UserPublic},
    conflicts=True,
)
def register() -> Response:
    """Create a USER account."""
    data = validate(RegisterIn, routes.body())
    user = accounts.register(
        deps.users(),
        username=data.username,
        email=data.email,
        password=data.password,
        rounds=deps.settings().bcrypt_rounds,
    )
    return json_response(user_public(user), 201)


@routes.route(
    "/api/token",
    "POST",
    summary="Obtain a refresh and an access token",
    body=TokenObtainIn,
    responses={200: TokenPair},
    errors=(401,),
)
def obtain_token() -> dict[str, str]:
    """A refresh and an access token for a username and password."""
    data = validate(TokenObtainIn, routes.body())
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
    body=TokenRefreshIn,
    responses={200: AccessToken},
    errors=(401,),
)
def refresh_token() -> dict[str, str]:
    """A new access token for a refresh token."""
    data = validate(TokenRefreshIn, routes.body())
    return accounts.refresh_access(deps.users(), deps.token_policy(), refresh=data.refresh)


@routes.route(
    "/api/token/verify",
    "POST",
    summary="Check a token",
    body=TokenVerifyIn,
    responses={200: EmptyObject},
    errors=(401,),
    uses_database=False,
)
def verify_token() -> dict[str, str]:
    """{} when the token is authentic and unexpired."""
    data = validate(TokenVerifyIn, routes.body())
    accounts.verify(deps.token_policy(), token=data.token)
    return {}
