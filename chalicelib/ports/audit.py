"""The audit log of staff writes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.domain.common import Page


class AuditRepository(Protocol):
    """The audit log of staff writes (written by the other repositories, with each change)."""

    def list(self, *, actor: str | None, object_id: str | None, limit: int, start: dict[str, str] | None) -> Page:
        """Entries, newest first; only those by `actor` and/or about `object_id` when given."""
