"""Audit entries: what a staff member changed, recorded in the same transaction as the change itself."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.domain.common import iso, utcnow
from chalicelib.ids import new_id

if TYPE_CHECKING:
    from collections.abc import Iterable

    from chalicelib.domain.access import Principal
    from chalicelib.domain.audit import AuditEntry
    from chalicelib.domain.enums import AuditAction

Changes = dict[str, tuple[Any, Any]]


def on_behalf_of_others(principal: Principal, owner_id: str) -> bool:
    """Whether a write by `principal` on something `owner_id` owns is a staff action to audit: staff acting on
    what is not theirs (what people do with their own things, staff included, is not audited)."""
    return principal.is_staff and principal.user_id != owner_id


def json_value(value: Any) -> Any:
    """A domain value as the log stores it (JSON: timestamps as ISO strings, amounts as decimal strings)."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, enum.Enum):
        return value.value
    return value


def diff(old: object | None, new: object | None, fields: Iterable[str]) -> Changes:
    """`{field: (old, new)}` for the fields whose value differs (None for a side that does not exist)."""
    changes = {}
    for name in fields:
        before = json_value(getattr(old, name)) if old is not None else None
        after = json_value(getattr(new, name)) if new is not None else None
        if before != after:
            changes[name] = (before, after)
    return changes


def entry(principal: Principal, action: AuditAction, object_id: str, changes: Changes) -> AuditEntry:
    """A new entry for `principal`'s action."""
    # Imported here: every write route imports this module, but only staff acting for others builds an entry.
    from chalicelib.domain.audit import Actor, AuditEntry

    return AuditEntry(
        id=new_id(),
        at=utcnow(),
        actor=Actor(id=principal.user_id, username=principal.username),
        action=action,
        object_id=object_id,
        changes=changes,
    )
