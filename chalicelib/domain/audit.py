"""The audit trail of staff writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.enums import AuditAction


@dataclass(frozen=True)
class Actor:
    """Who did something: the id and the username they had then."""

    id: str
    username: str


@dataclass(frozen=True)
class AuditEntry:
    """One staff write, stored in the same transaction as the change it records. `changes` maps a field to its
    old and new values, as JSON values (None where there was, or is, nothing)."""

    id: str
    at: datetime
    actor: Actor
    action: AuditAction
    object_id: str
    changes: dict[str, tuple[Any, Any]]

    @property
    def object_type(self) -> str:
        """The type of the object acted on."""
        return self.action.object_type
