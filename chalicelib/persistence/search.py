"""Search on DynamoDB: the token index of published events (domain.search says what it holds), written in the
events' own transactions, and read a bounded number of items per page whatever the number of events.

A page is at most MAX_QUERIES Queries of one partition (the plan's key) on one local index, CHUNK + 1 items each,
then one BatchGetItem of the events found. The filters that are not the partition are checked on the items read,
here rather than as a FilterExpression: DynamoDB reads (and bills) the items a filter drops anyway, and checking
them here tells exactly where the page stopped, which is the next page's cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from chalicelib.domain.common import Page, iso
from chalicelib.domain.search import city_key, created_key, index_terms, matches, plan, start_key
from chalicelib.persistence.common import query_window
from chalicelib.persistence.errors import translate_errors
from chalicelib.persistence.models.search import SearchModel

if TYPE_CHECKING:
    from chalicelib.domain.events import Event
    from chalicelib.domain.search import Plan, SearchQuery
    from chalicelib.persistence.transactions import NamedWrite

# Index items read per Query, and Queries per page: a page reads at most MAX_QUERIES * (chunk + 1) index items.
CHUNK = 40
MAX_QUERIES = 3
_NAME = "search:"  # the transaction names of index items (`search:<key>`)


def _attributes(event: Event, prefixes: frozenset[str]) -> dict[str, Any]:
    return {
        "s": start_key(event.id, event.starts_at),
        "c": created_key(event.id, event.created_at),
        "st": iso(event.starts_at) if event.starts_at else None,
        "cat": event.category,
        "city": city_key(event.city) or None,
        "tags": set(event.tags) or None,
        "online": event.online,
        "free": not event.paid,
        "p": set(prefixes) or None,
    }


def index_items(event: Event | None) -> dict[str, dict[str, Any]]:
    """The index items of `event` by key (none unless it is published), as attribute values."""
    if event is None:
        return {}
    terms, _ = index_terms(event)
    return {key: _attributes(event, prefixes) for key, prefixes in terms.items()}


class IndexChange(NamedTuple):
    """What turns an event's index items into others: the items to put (by key: new or changed values; their keys
    do not depend on the values) and the keys to delete; the items that stay as they are are not named."""

    event_id: str
    puts: dict[str, dict[str, Any]]
    deletes: frozenset[str]


def index_change(event_id: str, old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> IndexChange | None:
    """The change from items `old` to `new` (as index_items gives them), None when there is none."""
    puts = {key: values for key, values in new.items() if old.get(key) != values}
    deletes = frozenset(old.keys() - new.keys())
    return IndexChange(event_id, puts, deletes) if puts or deletes else None


def event_index_change(before: Event | None, after: Event | None) -> IndexChange | None:
    """The change of the index that changing `before` into `after` makes (None: a write without it needs no
    transaction)."""
    event = after or before
    return None if event is None else index_change(event.id, index_items(before), index_items(after))


def write_index(tx: NamedWrite, change: IndexChange) -> None:
    """Add `change` to the transaction `tx`."""
    for key, values in change.puts.items():
        tx.save(_NAME + key, SearchModel(k=key, id=change.event_id, **values))
    for key in change.deletes:
        tx.delete(_NAME + key, SearchModel(k=key, id=change.event_id))


def _passes(item: SearchModel, query: SearchQuery, route: Plan) -> bool:
    """The query's filters that its plan's partition does not already hold, checked on one index item."""
    if route.prefix is not None and route.prefix not in (item.p or ()):
        return False
    if query.category is not None and item.cat != query.category:
        return False
    if query.tag is not None and query.tag not in (item.tags or ()):
        return False
    if query.city is not None and item.city != query.city:
        return False
    if query.online is not None and bool(item.online) != query.online:
        return False
    if query.free is not None and bool(item.free) != query.free:
        return False
    if route.order == "created" and (query.starts_from is not None or query.starts_to is not None):
        if item.st is None:
            return False
        if query.starts_from is not None and item.st < iso(query.starts_from):
            return False
        if query.starts_to is not None and item.st > iso(query.starts_to):
            return False
    return True


def _range(query: SearchQuery, route: Plan) -> Any:
    """The key condition on the start order's sort key (`<start>#<id>`) for the query's dates, if any."""
    if route.order != "start" or (query.starts_from is None and query.starts_to is None):
        return None
    # "9999" sorts after every ISO time and before "~" (events without a start); "#~" after every id.
    low = iso(query.starts_from) if query.starts_from else "0"
    high = (iso(query.starts_to) if query.starts_to else "9999") + "#~"
    return SearchModel.s.between(low, high)


class DynamoEventSearch:
    """Implements ports.search.EventSearch over the search table, reading the events it finds from `events`."""

    def __init__(self, events: Any) -> None:
        self._events = events

    def search(self, query: SearchQuery, *, limit: int, start: dict[str, str] | None) -> Page:
        found, next_key = _found(query, limit, start)
        events = self._events.get_many(found) if found else {}
        # Checked again on the events themselves: an item may be older than its event (read between an edit's
        # commit and this read, or written before a tokenizer change), and the words after the driving one are
        # known only from the event.
        shown = [events[i] for i in found if i in events and matches(events[i], query)]
        return Page(items=shown, next_key=next_key)


def _found(query: SearchQuery, limit: int, start: dict[str, str] | None) -> tuple[list[str], dict[str, str] | None]:
    """The ids of up to `limit` index items that pass the query's filters, from `start`, and where the next page
    starts (None when nothing is left), reading at most MAX_QUERIES Queries of the plan's partition."""
    route = plan(query)
    index: Any = SearchModel.by_start if route.order == "start" else SearchModel.by_created
    order_attr = "s" if route.order == "start" else "c"
    chunk = max(CHUNK, limit)
    found: list[str] = []
    position = start
    with translate_errors():
        for _ in range(MAX_QUERIES):
            window = query_window(chunk, position)
            items = list(index.query(route.key, _range(query, route), scan_index_forward=route.forward, **window))
            more = len(items) > chunk
            items = items[:chunk]
            for at, item in enumerate(items):
                if _passes(item, query, route):
                    found.append(item.id)
                    if len(found) == limit:
                        rest = more or at < len(items) - 1
                        return found, _key(item, order_attr) if rest else None
            if not more:
                return found, None
            position = _key(items[-1], order_attr)
    return found, position


def _key(item: SearchModel, order_attr: str) -> dict[str, str]:
    return {"k": item.k, "id": item.id, order_attr: getattr(item, order_attr)}
