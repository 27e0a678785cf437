"""Factories for principals and users."""

from __future__ import annotations

from chalicelib.domain.access import Principal
from chalicelib.domain.enums import Role
from chalicelib.ids import new_id


def principal(
    role: Role = Role.USER, *, staff: bool = False, user_id: str | None = None, username: str = "someone"
) -> Principal:
    """A verified caller."""
    return Principal(user_id=user_id or new_id(), username=username, role=role, is_staff=staff)


def creator(**kwargs: object) -> Principal:
    """A CREATOR caller."""
    return principal(Role.CREATOR, **kwargs)  # type: ignore[arg-type]
