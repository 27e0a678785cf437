"""Which protected route needs which access level (security.route_table), and the policy the authorizer returns
from it."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from chalicelib.security.route_table import PROTECTED

if TYPE_CHECKING:
    from chalicelib.domain.enums import Access


class UndeclaredRoute(Exception):
    """A protected route that the route table does not list (or lists with another access level)."""


def declare(path: str, methods: list[str], access: Access) -> None:
    """Check a protected route against the route table as the blueprints declare it: the authorizer's policy
    comes from the table alone, so a route it does not know would be refused by the gateway."""
    for method in methods:
        if PROTECTED.get((path, method)) is not access:
            raise UndeclaredRoute(f"{method} {path} ({access.value}) is not in chalicelib/security/route_table.py")


def protected_routes() -> dict[tuple[str, str], Access]:
    """Every protected route and its access level."""
    return dict(PROTECTED)


@cache
def policy_routes() -> list[tuple[str, list[str]]]:
    """(resource pattern, methods) of every protected route: the policy the authorizer returns for every token.

    Every route, whatever the caller's role: API Gateway caches the policy per token for its TTL and answers a
    route the policy leaves out with its own 403, before the app could see that the token has expired since
    (which must be a 401 `token_not_valid`, so that a client refreshes). The app checks the role itself, in one
    place (http.routing), after the token's validity: 401 before 403. Path parameters become `*`; a
    trailing-slash variant is listed too because clients call the original paths with their slash."""
    by_path: dict[str, list[str]] = {}
    for path, method in sorted(PROTECTED):
        by_path.setdefault(path, []).append(method)
    routes = []
    for path, methods in by_path.items():
        pattern = re.sub(r"\{[^}]+\}", "*", path)
        routes.append((pattern, methods))
        if not pattern.endswith("*"):
            routes.append((pattern + "/", methods))
    return routes
