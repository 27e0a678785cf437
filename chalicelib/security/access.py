"""Which protected route needs which access level, and the policy the authorizer returns from it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.domain.enums import Access

# (path, method) -> access, filled as the blueprints declare their routes.
_PROTECTED: dict[tuple[str, str], Access] = {}


def declare(path: str, methods: list[str], access: Access) -> None:
    """Record the access level of a protected route (public routes are not recorded)."""
    for method in methods:
        _PROTECTED[(path, method)] = access


def protected_routes() -> dict[tuple[str, str], Access]:
    """Every protected route and its access level."""
    return dict(_PROTECTED)


def policy_routes() -> list[tuple[str, list[str]]]:
    """(resource pattern, methods) of every protected route: the policy the authorizer returns for every token.

    Every route, whatever the caller's role: API Gateway caches the policy per token for its TTL and answers a
    route the policy leaves out with its own 403, before the app could see that the token has expired since
    (which must be a 401 `token_not_valid`, so that a client refreshes). The app checks the role itself, in one
    place (http.routing), after the token's validity: 401 before 403. Path parameters become `*`; a
    trailing-slash variant is listed too because clients call the original paths with their slash."""
    by_path: dict[str, list[str]] = {}
    for path, method in sorted(_PROTECTED):
        by_path.setdefault(path, []).append(method)
    routes = []
    for path, methods in by_path.items():
        pattern = re.sub(r"\{[^}]+\}", "*", path)
        routes.append((pattern, methods))
        if not pattern.endswith("*"):
            routes.append((pattern + "/", methods))
    return routes
