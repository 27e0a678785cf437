"""The API Gateway authorizer: verifies the access token and returns a policy listing every route the
caller's role may use (the gateway caches it per token for the configured TTL)."""

from __future__ import annotations

import os

from chalice.app import AuthRequest, AuthResponse, AuthRoute, Blueprint

from chalicelib.errors import NotAuthenticated
from chalicelib.http import dependencies
from chalicelib.security.access import policy_routes
from chalicelib.security.authentication import authenticate

# The gateway answers 401 only when the authorizer raises with exactly this message.
UNAUTHORIZED = "Unauthorized"

authorizer_bp = Blueprint(__name__)


def _ttl() -> int:
    # Read here rather than from the full settings: the TTL is fixed when routes are declared, at import.
    return int(os.environ.get("AUTHORIZER_TTL_SECONDS", "300"))


@authorizer_bp.authorizer(name="jwt_authorizer", ttl_seconds=_ttl())
def jwt_authorizer(auth_request: AuthRequest) -> AuthResponse:
    """Allow the caller's routes, or raise `Unauthorized` so the gateway answers 401."""
    try:
        principal = authenticate(auth_request.token, dependencies.users(), dependencies.signing_key())
    except NotAuthenticated:
        raise Exception(UNAUTHORIZED) from None  # noqa: TRY002 - the gateway matches this exact message
    routes: list[str | AuthRoute] = [AuthRoute(path, methods) for path, methods in policy_routes(principal)]
    return AuthResponse(
        routes=routes,
        principal_id=principal.user_id,
        context={
            "role": principal.role.value,
            "is_staff": str(principal.is_staff).lower(),
            "username": principal.username,
        },
    )
