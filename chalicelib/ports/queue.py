"""The on-sale queue's store: one entry per (event, user) and the events' sharded counters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.domain.queue import QueueEntry


class EntryExists(Exception):
    """The user already has an entry in the event's queue (a concurrent join wrote it first)."""


class QueueRepository(Protocol):
    """Entries and counters; every call may raise ServiceUnavailable when the store cannot be reached.

    On DynamoDB (persistence.queue): an entry is its own item and a counter is one item per shard, so a crowd
    joining one event writes many items at a modest rate each, never one hot item."""

    def entry(self, event_id: str, user_id: str) -> QueueEntry | None:
        """The user's entry in the event's queue, if they joined."""
        ...

    def add(self, entry: QueueEntry, expires_at: int) -> None:
        """Write a new entry (deleted by the store after `expires_at`, a Unix time); EntryExists when the user
        already has one, which is left as it was."""
        ...

    def increment(self, event_id: str, line: str, shard: int, expires_at: int) -> int:
        """Add one to a shard counter of the event's `line` (domain.queue EARLY or LATE) and return its count
        after this increment (1 the first time)."""
        ...

    def counts(self, event_id: str, line: str, shards: int) -> list[int]:
        """The counts of the line's shards 0..shards-1 (0 for a shard never incremented), read eventually
        consistently: a count may lag an increment by a moment."""
        ...
