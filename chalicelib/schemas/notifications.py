"""Schemas of the caller's notification preferences."""

from __future__ import annotations

from typing import ClassVar

from pydantic import StrictBool

from chalicelib.schemas.fields import TimeZoneName
from chalicelib.schemas.validation import InputSchema


class NotificationPreferencesIn(InputSchema):
    """PATCH /api/me/notifications/: turn reminders or the creators' daily digest on or off, and set the zone
    e-mails show times in besides the event's own (null: the event's zone only). Transactional messages
    cannot be turned off."""

    read_only_fields: ClassVar[frozenset[str]] = frozenset({"transactional"})
    not_null_fields: ClassVar[frozenset[str]] = frozenset({"reminders", "digest"})
    reminders: StrictBool | None = None
    digest: StrictBool | None = None
    timezone: TimeZoneName | None = None
