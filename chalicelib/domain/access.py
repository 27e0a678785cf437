"""Who is calling: the verified principal of a request and what it may do."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.enums import Access, Role


@dataclass(frozen=True)
class Principal:
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
