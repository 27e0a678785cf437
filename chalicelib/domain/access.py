"""Who is calling: the verified principal of a request and what it may do."""

from __future__ import annotations

from typing import NamedTuple

from chalicelib.domain.enums import Access, Role


class Principal(NamedTuple):
    """The verified caller of a request."""

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
