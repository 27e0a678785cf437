"""Who may call what: the access level of every protected route, and the policy the authorizer returns."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from chalicelib.domain import Role


class Access(enum.StrEnum):
    """Access levels, from anyone to staff only."""

    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    CREATOR = "creator"  # creators and staff
    STAFF = "staff"


@dataclass(frozen=True)
class Principal:
    """The verified caller, as the authorizer hands it to the handlers."""

    user_id: str
    username: str
    role: Role
    is_staff: bool

    def has(self, access: Access) -> bool:
        """True when this caller meets `access`."""
        if access is Access.STAFF:
            return self.is_staff
        if access is Access.CREATOR:
            return self.is_staff or self.role is Role.CREATOR
        return True


# (path, method) -> access, filled as the blueprints declare their routes.
_PROTECTED: dict[tuple[str, str], Access] = {}


def declare(path: str, methods: list[str], access: Access) -> None:
    """Record the access level of a protected route (public routes are not recorded)."""
    for method in methods:
        _PROTECTED[(path, method)] = access


def protected_routes() -> dict[tuple[str, str], Access]:
    """Every protected route and its access level."""
    return dict(_PROTECTED)


def policy_routes(principal: Principal) -> list[tuple[str, list[str]]]:
    """(resource pattern, methods) for every route the principal may call.

    API Gateway caches this policy per token and reuses it on every route behind the authorizer, so it must
    list all of them, not only the one being called. Path parameters become `*`; a trailing-slash variant is
    listed too because clients call the original paths with their slash."""
    by_path: dict[str, list[str]] = {}
    for (path, method), access in sorted(_PROTECTED.items()):
        if principal.has(access):
            by_path.setdefault(path, []).append(method)
    routes = []
    for path, methods in by_path.items():
        pattern = re.sub(r"\{[^}]+\}", "*", path)
        routes.append((pattern, methods))
        if not pattern.endswith("*"):
            routes.append((pattern + "/", methods))
    return routes
