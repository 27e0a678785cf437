"""Schemas of the staff's writes to accounts."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import StrictBool

from chalicelib.schemas.fields import OptionalEmail, Password, Username
from chalicelib.schemas.validation import InputSchema

RoleName = Literal["USER", "CREATOR"]


class AdminUserCreateIn(InputSchema):
    """POST /api/admin/users/: an account of any role, staff or not; the e-mail may be blank."""

    read_only_fields: ClassVar[frozenset[str]] = frozenset({"id", "is_active", "date_joined", "last_login", "avatar"})
    username: Username
    email: OptionalEmail = ""
    password: Password
    role: RoleName = "USER"
    is_staff: StrictBool = False


class AdminUserUpdateIn(InputSchema):
    """PATCH /api/admin/users/<id>/: role, active and staff flags, e-mail (blank removes it)."""

    read_only_fields: ClassVar[frozenset[str]] = frozenset(
        {"id", "username", "password", "avatar", "date_joined", "last_login"}
    )
    not_null_fields: ClassVar[frozenset[str]] = frozenset({"role", "is_active", "is_staff", "email"})
    role: RoleName | None = None
    is_active: StrictBool | None = None
    is_staff: StrictBool | None = None
    email: OptionalEmail | None = None
