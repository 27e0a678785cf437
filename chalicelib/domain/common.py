"""Time in the API's one format, and a page of any list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with microseconds and Z, the API's one timestamp format."""
    # isoformat, not strftime: glibc's %Y does not pad years before 1000 to four digits ("29-12-05..."), which
    # is neither a date-time for clients nor one fromisoformat reads back from storage.
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class Page(NamedTuple):
    """One page of a list: the items and the key to continue after them (None on the last page)."""

    items: list[Any]
    next_key: dict[str, str] | None
