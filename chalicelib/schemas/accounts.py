"""Schemas of sign-up, tokens, passwords and the caller's own profile."""

from __future__ import annotations

from typing import ClassVar

from chalicelib.schemas.fields import Bio, DisplayName, Email, LinkPart, Password, UploadId, Username
from chalicelib.schemas.validation import InputSchema

USER_READ_ONLY = frozenset({"id", "role", "is_staff", "is_active", "date_joined", "password", "username"})


class RegisterIn(InputSchema):
    """POST /api/register/: a new USER account."""

    read_only_fields: ClassVar[frozenset[str]] = frozenset({"id", "role", "is_staff", "is_active", "date_joined"})
    username: Username
    email: Email
    password: Password


class TokenObtainIn(InputSchema):
    """POST /api/token/."""

    username: Password
    password: Password


class TokenRefreshIn(InputSchema):
    """POST /api/token/refresh/."""

    refresh: Password


class TokenVerifyIn(InputSchema):
    """POST /api/token/verify/."""

    token: Password


class TokenBlacklistIn(InputSchema):
    """POST /api/token/blacklist/."""

    refresh: Password


class PasswordChangeIn(InputSchema):
    """POST /api/me/password/."""

    old_password: Password
    new_password: Password


class PasswordResetIn(InputSchema):
    """POST /api/password/reset/."""

    email: Email


class PasswordResetConfirmIn(InputSchema):
    """POST /api/password/reset/confirm/: the `uid` and `token` of the e-mailed link, and the new password."""

    uid: LinkPart
    token: LinkPart
    new_password: Password


class MeUpdateIn(InputSchema):
    """PATCH /api/me/: only email, avatar, display name and bio are the user's to change; the avatar is an upload's
    id (null removes). A new email needs `current_password`, and is confirmed from the new address before it takes
    effect. An empty display name or bio clears it."""

    read_only_fields: ClassVar[frozenset[str]] = USER_READ_ONLY
    not_null_fields: ClassVar[frozenset[str]] = frozenset({"email", "display_name", "bio"})
    email: Email | None = None
    avatar: UploadId = None
    current_password: Password | None = None
    display_name: DisplayName | None = None
    bio: Bio | None = None


class EmailConfirmIn(InputSchema):
    """POST /api/email/confirm/: the `uid` and `token` of the link e-mailed to the new address."""

    uid: LinkPart
    token: LinkPart
