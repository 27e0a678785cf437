"""The API Gateway authorizer: verifies the access token and returns a policy listing every protected route
(the gateway caches it per token for the configured TTL); the app checks the caller's role itself, after the
token's expiry, so that a token expired while its policy is cached is a 401 on every route, never a 403.

A request without an Authorization header never reaches it: API Gateway answers 401 itself (the
UNAUTHORIZED gateway response, DRF's "not provided" body). A token that is present but unusable (garbage,
expired, wrong type, inactive user) is let through with the reason in the context, and the app answers 401
with simplejwt's precise body (`code: token_not_valid`), which tells a frontend to refresh. An authorizer can
only produce a 401 with a fixed body, so letting the app answer is the one way to say why; the cost, invalid
tokens reaching the function, is bounded by the stage's throttling."""

from __future__ import annotations

import json
import logging
from typing import Any

from chalice.app import AuthRequest, AuthResponse, AuthRoute, Blueprint, ChaliceAuthorizer

from chalicelib import bootstrap
from chalicelib.errors import NotAuthenticated
from chalicelib.http.requests import AUTH_ERROR, AUTH_EXPIRES
from chalicelib.logs import get_logger, lambda_invocation
from chalicelib.security.access import policy_routes
from chalicelib.settings import check_startup, get_settings, running_in_lambda

ANONYMOUS = "anonymous"

authorizer_bp = Blueprint(__name__)
if running_in_lambda():
    check_startup(get_settings())  # this module is the authorizer function's entry point: its cold start


def _routes(routes: list[tuple[str, list[str]]]) -> list[str | AuthRoute]:
    return [AuthRoute(path, methods) for path, methods in routes]


@authorizer_bp.authorizer(name="jwt_authorizer", ttl_seconds=get_settings().authorizer_ttl_seconds)
def jwt_authorizer(auth_request: AuthRequest) -> AuthResponse:
    """Allow every protected route: with the caller's identity, or for an unusable token with the reason."""
    from chalicelib.services.authentication import verify_access  # the app's other functions never need it

    try:
        principal, expires = verify_access(
            auth_request.token, bootstrap.users(), bootstrap.signing_keys(), bootstrap.lifetimes()
        )
    except NotAuthenticated as refusal:
        _log_refusal(refusal)
        body = {"detail": refusal.detail, **({"code": refusal.code} if refusal.code else {}), **refusal.extra}
        return AuthResponse(
            routes=_routes(policy_routes()),
            principal_id=ANONYMOUS,
            context={AUTH_ERROR: json.dumps(body, separators=(",", ":"))},
        )
    return AuthResponse(
        routes=_routes(policy_routes()),
        principal_id=principal.user_id,
        context={
            "role": principal.role.value,
            "is_staff": str(principal.is_staff).lower(),
            "username": principal.username,
            AUTH_EXPIRES: str(expires),
        },
    )


def _log_refusal(refusal: NotAuthenticated) -> None:
    # Why, never the token. An expired token is a client's routine refresh; any other is worth a look.
    messages = refusal.extra.get("messages") or [{}]
    reason = messages[0].get("message") or refusal.detail
    level = logging.INFO if reason == "Token is expired" else logging.WARNING
    get_logger().log(level, "access token refused", extra={"fields": {"code": refusal.code, "reason": reason}})


class _Invoked(ChaliceAuthorizer):
    """The authorizer's Lambda entry: its lines carry the Lambda request id (a TOKEN authorizer's event has no
    API Gateway request id), and an error it lets out is logged before API Gateway answers 500."""

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        with lambda_invocation("jwt_authorizer", context):
            return super().__call__(event, context)


# Chalice builds the authorizer object (and the routes and the template refer to that very object): only its
# class can change.
jwt_authorizer.__class__ = _Invoked
