"""Search: finding published events by words and filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from chalicelib.domain.common import Page
    from chalicelib.domain.search import SearchQuery


class EventSearch(Protocol):
    """Published events answering a query (domain.search.matches is the reference), a page at a time.

    The DynamoDB adapter (persistence.search) keeps a token index written with each event; an OpenSearch adapter
    would index the events table's stream and answer the same calls."""

    def search(self, query: SearchQuery, *, limit: int, start: dict[str, str] | None) -> Page:
        """A page of the events answering `query` in its order (`newest`: created, newest first; `soonest`: start,
        soonest first, events without a start last), from `start` (the previous page's `next_key`). A page may
        hold fewer than `limit` events, even none, while `next_key` is set: each page reads a bounded number of
        index items, whatever the number of events; `next_key` is None once nothing is left."""
