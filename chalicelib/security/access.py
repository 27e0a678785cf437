"""Which protected route needs which access level, and the policy the authorizer returns from it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.domain.access import Principal
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


def policy_routes(principal: Principal | None) -> list[tuple[str, list[str]]]:
    """(resource pattern, methods) for every route the principal may call; with no principal (a token the
    app must refuse itself, with the precise answer), every protected route.

    API Gateway caches this policy per token and reuses it on every route behind the authorizer, so it must
    list all of them, not only the one being called. Path parameters become `*`; a trailing-slash variant is
    listed too because clients call the original paths with their slash."""
    by_path: dict[str, list[str]] = {}
    for (path, method), access in sorted(_PROTECTED.items()):
        if principal is None or principal.has(access):
            by_path.setdefault(path, []).append(method)
    routes = []
    for path, methods in by_path.items():
        pattern = re.sub(r"\{[^}]+\}", "*", path)
        routes.append((pattern, methods))
        if not pattern.endswith("*"):
            routes.append((pattern + "/", methods))
    return routes
