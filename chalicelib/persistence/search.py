"""Search on DynamoDB: the token index of published events (domain.search says what it holds), written in the
events' own transactions, and read a bounded number of items per page whatever the number of events.

A page is at most MAX_QUERIES Queries of one partition (the plan's key) on one local index, CHUNK + 1 items each,
then one BatchGetItem of the events found. The filters that are not the partition are checked on the items read,
here rather than as a FilterExpression: DynamoDB reads (and bills) the items a filter drops anyway, and checking
them here tells exactly where the page stopped, which is the next page's cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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


def write_index(tx: NamedWrite, before: Event | None, after: Event | None) -> None:
    """Add to `tx` what turns `before`'s index items into `after`'s: items whose values changed are put again
    (their keys do not depend on the values), items of keys no longer there are deleted, the rest untouched."""
    old, new = index_items(before), index_items(after)
    event = after or before
    if event is None:
        return
    for key, values in new.items():
        if old.get(key) != values:
            tx.save(_NAME + key, SearchModel(k=key, id=event.id, **values))
    for key in old.keys() - new.keys():
        tx.delete(_NAME + key, SearchModel(k=key, id=event.id))


def index_changes(before: Event | None, after: Event | None) -> bool:
    """Whether changing `before` into `after` changes the index (a write without it needs no transaction)."""
    return index_items(before) != index_items(after)


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
        route = plan(query)
        index: Any = SearchModel.by_start if route.order == "start" else SearchModel.by_created
        order_attr = "s" if route.order == "start" else "c"
        chunk = max(CHUNK, limit)
        found: list[str] = []
        position = start
        next_key: dict[str, str] | None = None
        with translate_errors():
            for _ in range(MAX_QUERIES):
                window = query_window(chunk, position)
                items = list(index.query(route.key, _range(query, route), scan_index_forward=route.forward, **window))
                more = len(items) > chunk
                items = items[:chunk]
                stop: SearchModel | None = None
                for at, item in enumerate(items):
                    if _passes(item, query, route):
                        found.append(item.id)
                        if len(found) == limit:
                            stop = item if (more or at < len(items) - 1) else None
                            break
                if len(found) == limit:
                    next_key = _key(stop, order_attr) if stop is not None else None
                    break
                if not more:
                    next_key = None
                    break
                position = next_key = _key(items[-1], order_attr)
        events = self._events.get_many(found) if found else {}
        # Checked again on the events themselves: an item may be older than its event (read between an edit's
        # commit and this read, or written before a tokenizer change), and the words after the driving one are
        # known only from the event.
        shown = [events[i] for i in found if i in events and matches(events[i], query)]
        return Page(items=shown, next_key=next_key)


def _key(item: SearchModel, order_attr: str) -> dict[str, str]:
    return {"k": item.k, "id": item.id, order_attr: getattr(item, order_attr)}
