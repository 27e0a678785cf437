"""Search (GET /api/events/ with q, category, tag, city, ...): items read by a first page and DynamoDB requests at
1,000 and 20,000 events, and the items (and write capacity) each kind of event write costs the token index."""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.app import _dynamodb_log, _in_process

SIZES = (1_000, 20_000)
PAGE = 20  # the API's default limit, what a first page asks for
# The searches measured. Each reads one partition of the token index (the plan's key), CHUNK + 1 items a Query:
# a word's 3-letter prefix is its own answer, a longer word is checked in its 5-letter prefix's items, a second
# word only on the events read, and a rare combination reads the page's budget of Queries and stops.
SEARCHES = (
    "q=data",
    "q=dyn",
    "q=dynamodb+data",
    "category=technology",
    "tag=python",
    "city=lisbon&sort=soonest",
    "q=data&category=music&free=true",
)
BOUNDED = SEARCHES[-1]  # about 1 in 12 of the events with the word match: fewer than a page within the budget
# Events' fields repeat with this period while their creation times keep increasing: the newest events (what a
# first page reads) look the same at every size, so a figure that changed with the size would be the table's size.
PERIOD = 1_000
CITIES = ("Lisbon", "Porto", "Berlin", "Madrid", "London")
COMMON = (
    "workshop meetup evening session introduction practical beginners advanced hands talk weekly open friendly "
    "night morning together learn share local guided small group bring laptop questions welcome"
).split()
# category: (its words, its tags)
TOPICS: dict[str, tuple[list[str], list[str]]] = {
    "technology": (
        "dynamodb dynamic python serverless cloud api testing design systems analytics pipeline database "
        "dashboards kubernetes".split(),
        ["python", "aws", "dynamodb", "cloud", "web"],
    ),
    "music": (
        "jazz piano guitar concert choir rhythm improvisation vinyl songwriting dynamics standards".split(),
        ["jazz", "live-music", "classical"],
    ),
    "science": (
        "physics astronomy biology climate research experiments telescope genetics dates dating".split(),
        ["astronomy", "climate", "python"],
    ),
    "business": (
        "startup marketing finance pitch strategy sales dashboards leadership date".split(),
        ["startups", "marketing"],
    ),
    "arts": ("painting sketching gallery sculpture photography ceramics design".split(), ["photography", "painting"]),
    "food-drink": ("wine tasting cooking bread coffee cheese dates".split(), ["wine", "cooking"]),
}
# About 2 events in 5 have the word "data".
DATA_SHARE = 0.4
EPOCH = datetime(2031, 1, 1, tzinfo=UTC)
# A typical event as a creator would write it: the write-amplification rows create it through the API.
TYPICAL = {
    "title": "Practical data modelling with DynamoDB for web developers",
    "description": (
        "An evening workshop for developers who build web applications and want to design their tables around "
        "access patterns. We start from a small booking system, list the questions its pages ask, and turn them "
        "into keys, sort orders and indexes. Bring a laptop with Python installed. Expect short talks, exercises "
        "in pairs and time for questions about transactions and costs."
    ),
    "category": "technology",
    "tags": ["aws", "dynamodb"],
    "location": "Rua Augusta 10, 1100 Lisbon",
    "capacity": 40,
    "starts_at": "2031-03-10T18:00:00Z",
}


@dataclass
class PageRead:
    """What one first page of a search read: index items (Query), events (BatchGetItem), requests."""

    index_items: int
    events: int
    requests: tuple[str, ...]
    results: int
    more: bool

    @property
    def total(self) -> int:
        return self.index_items + self.events


@dataclass
class Written:
    """The writes of one API call: items written (of them, search index items), the requests, the write capacity."""

    items: int = 0
    index_items: int = 0
    requests: list[str] = field(default_factory=list)
    wcu: int = 0
    index_wcu: int = 0  # the search table's share: its items and their entries in its two local indexes


def rows() -> list[tuple[str, str, str]]:
    """The search rows of `make bench`."""
    from chalicelib.persistence.search import CHUNK, MAX_QUERIES

    budget = MAX_QUERIES * (CHUNK + 1)
    started = time.perf_counter()
    reads, loaded = first_pages()
    read_seconds = time.perf_counter() - started
    out: list[tuple[str, str, str]] = [
        (
            f"search data: {max(SIZES):,} published events (bulk-loaded), index items per event; seconds: loading, "
            f"all of the page measurements",
            f"{loaded['index_items'] / loaded['events']:.1f}; {loaded['load_seconds']:.0f} / {read_seconds:.0f} s",
            "",
        )
    ]
    for query in SEARCHES:
        by_size = reads[query]
        same = len({(r.index_items, r.events, r.requests, r.results) for r in by_size.values()}) == 1
        target = "same at both sizes"
        if query == BOUNDED:
            same = same and all(r.index_items == budget and r.more for r in by_size.values())
            target += f" (the budget, {budget} index items)"
        for size, read in by_size.items():
            out.append(
                (
                    f"search `{query}`, first page, {size:,} events: items read (index + events); DynamoDB "
                    f"requests; events shown",
                    f"{read.index_items} + {read.events} = {read.total}; {len(read.requests)} "
                    f"({_requests(read.requests)}); {read.results}",
                    _verdict(same, target),
                )
            )
    for name, written in write_amplification().items():
        out.append(
            (
                f"search index, {name}: items written (index items); requests; WCU as billed (the index's)",
                f"{written.items} ({written.index_items}); {_requests(written.requests)}; "
                f"{written.wcu} ({written.index_wcu})",
                "",
            )
        )
    return out


def first_pages(sizes: tuple[int, ...] = SIZES) -> tuple[dict[str, dict[int, PageRead]], dict[str, float]]:
    """For each search, what its first page read at each number of events; and the bulk load's figures."""
    reads: dict[str, dict[int, PageRead]] = {query: {} for query in SEARCHES}
    loaded = {"events": 0.0, "index_items": 0.0, "load_seconds": 0.0}
    with _in_process() as api:
        events: list[Any] = []
        for size in sorted(sizes):
            started = time.perf_counter()
            fresh = [_event(i) for i in range(len(events), size)]
            loaded["index_items"] += _load(fresh)
            loaded["load_seconds"] += time.perf_counter() - started
            loaded["events"] = size
            events += fresh
            for query in SEARCHES:
                with _partition_queries(), _dynamodb_log() as log:
                    reply = api.get(f"/api/events/?{query}")
                assert reply.status == 200, (query, reply.raw[:200])
                shown = [event["id"] for event in reply.json["results"]]
                _check(query, shown, events, more=reply.json["next"] is not None)
                reads[query][size] = PageRead(
                    index_items=sum(n for op, n in log if op == "Query"),
                    events=sum(n for op, n in log if op == "BatchGetItem"),
                    requests=tuple(op for op, _ in log),
                    results=len(shown),
                    more=reply.json["next"] is not None,
                )
    return reads, loaded


def _event(i: int) -> Any:
    """The i-th bulk event: its fields from i's place in the period, its creation i minutes after the first's."""
    from chalicelib.domain.events import Event
    from chalicelib.ids import new_id

    rng = random.Random(i % PERIOD)  # the same fields for the same place in the period
    category = rng.choice(list(TOPICS))
    vocabulary, tag_pool = TOPICS[category]
    title = " ".join([rng.choice(COMMON).capitalize(), *rng.sample(vocabulary, 2), rng.choice(COMMON)])
    said = rng.sample(vocabulary, 3) + rng.sample(COMMON, 5)
    if rng.random() < DATA_SHARE:
        said.insert(rng.randrange(len(said)), "data")
    city = rng.choice(CITIES)
    online = rng.random() < 0.2
    created = EPOCH - timedelta(days=400) + timedelta(minutes=i)
    return Event(
        id=new_id(),
        title=title,
        description=" ".join(said) + ".",
        creator="01BENCHCREATOR000000000000",
        creator_username="bench",
        created_at=created,
        updated_at=created,
        starts_at=EPOCH + timedelta(hours=rng.randrange(365 * 24)),
        capacity=100,
        price=Decimal("0.00") if rng.random() < 0.5 else Decimal("15.00"),
        location="Online" if online else f"Hall {rng.randrange(1, 40)}, {city}",
        online_url="https://meet.example.com/bench" if online else None,
        category=category,
        tags=tuple(rng.sample(tag_pool, rng.randint(1, 2))),
        city="" if online else city,
        online=online,
    )


def _load(events: list[Any]) -> int:
    """Put `events` and their index items (the items each one's transaction would write) straight into moto's
    tables: through BatchWriteItem, moto takes about six minutes on this machine for 20,000 events and their
    index items (botocore's validation and serialization, moto's parsing), a transaction each longer still.
    Returns how many index items were put."""
    import gc

    from chalicelib.persistence.events import _to_item
    from chalicelib.persistence.models.events import EventModel
    from chalicelib.persistence.models.search import SearchModel
    from chalicelib.persistence.search import index_items

    event_table, search_table = _moto_table(EventModel), _moto_table(SearchModel)
    count = 0
    # Hundreds of thousands of moto objects: the cyclic collector scanning them again and again took two thirds
    # of the load's time, and nothing here makes cycles to collect.
    gc.disable()
    try:
        for event in events:
            event_table.put_item(_to_item(event).serialize(), overwrite=True)
            for key, values in index_items(event).items():
                item = _search_item(key, event.id, values)
                if count == 0:
                    # Written by hand (pynamodb's model costs more than moto's put): checked once against it.
                    assert item == _sets_sorted(SearchModel(k=key, id=event.id, **values).serialize()), item
                search_table.put_item(item, overwrite=True)
                count += 1
    finally:
        gc.enable()
    return count


def _moto_table(model: Any) -> Any:
    """moto's table behind a bound pynamodb model."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].get_table(model.Meta.table_name)


@contextmanager
def _partition_queries() -> Iterator[None]:
    """moto's Query of the search table, inside the block, looks at the queried partition only. moto finds a
    Query's items by sorting and walking every item of the table (over half a million at 20,000 events): seconds
    per Query here, past the request's 5-second store budget (chalicelib.budget), so the page would be a 503.
    What a Query returns and counts is unchanged: a local index's partition is the table's partition of that key."""
    from chalicelib.persistence.models.search import SearchModel

    table = _moto_table(SearchModel)
    query = table.query

    def partition_query(hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        if hash_key is None:
            return query(hash_key, *args, **kwargs)
        table.all_items = lambda: list(table.items.get(hash_key, {}).values())
        try:
            return query(hash_key, *args, **kwargs)
        finally:
            del table.all_items

    table.query = partition_query
    try:
        yield
    finally:
        del table.query


def _search_item(key: str, event_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """An index item as DynamoDB JSON, as SearchModel serializes it."""
    item: dict[str, Any] = {"k": {"S": key}, "id": {"S": event_id}}
    for name, value in values.items():
        if isinstance(value, bool):
            item[name] = {"BOOL": value}
        elif isinstance(value, str):
            item[name] = {"S": value}
        elif value is not None:
            item[name] = {"SS": sorted(value)}
    return item


def _sets_sorted(item: dict[str, Any]) -> dict[str, Any]:
    return {name: {"SS": sorted(value["SS"])} if "SS" in value else value for name, value in item.items()}


def _check(query: str, shown: list[str], events: list[Any], *, more: bool) -> None:
    """The page must be the start of what the reference (domain.search.matches) finds, in the query's order, and
    a short page must say there is more: a figure of a search that answers wrongly would measure nothing."""
    from urllib.parse import parse_qs

    from chalicelib.domain.search import SearchQuery, created_key, matches, query_words, start_key

    params = {name: values[0] for name, values in parse_qs(query).items()}
    search = SearchQuery(
        words=query_words(params.get("q", "")),
        category=params.get("category"),
        tag=params.get("tag"),
        city=params.get("city"),
        free=True if params.get("free") == "true" else None,
        sort=params.get("sort", "newest"),
    )
    # Whether an event matches depends only on its place in the period (see _event): asked once per place.
    verdicts = [matches(event, search) for event in events[:PERIOD]]
    found = [event for i, event in enumerate(events) if verdicts[i % PERIOD]]
    if search.sort == "soonest":
        found.sort(key=lambda event: start_key(event.id, event.starts_at))
    else:
        found.sort(key=lambda event: created_key(event.id, event.created_at), reverse=True)
    expected = [event.id for event in found[: len(shown)]]
    assert shown == expected, (query, shown, expected)
    assert more or shown == [event.id for event in found[:PAGE]], (query, len(shown), len(found))


def write_amplification() -> dict[str, Written]:
    """What each kind of write of one event writes, counted from the DynamoDB calls the handler makes: a typical
    published event created, then its capacity, title and start edited, then cancelled; and a booking."""
    password = "vivid-otter-92-lamp"
    result: dict[str, Written] = {}
    with _in_process() as api:
        # Imported once the app is: its logger then writes into the block's captured stdout.
        from chalicelib import bootstrap
        from chalicelib.domain.enums import Role
        from chalicelib.persistence.models.search import SearchModel
        from chalicelib.services import accounts

        users = bootstrap.users()
        accounts.create_user(users, username="host", email="", password=password, rounds=4, role=Role.CREATOR)
        accounts.create_user(users, username="guest", email="g@example.com", password=password, rounds=4)
        host, guest = api.token("host", password), api.token("guest", password)
        store = _Store(SearchModel.Meta.table_name)
        created: dict[str, Any] = {}

        def create() -> Any:
            reply = api.post("/api/events/", TYPICAL, token=host)
            created.update(reply.json)
            return reply

        def edit(body: dict[str, Any]) -> Callable[[], Any]:
            return lambda: api.patch(f"/api/events/{created['id']}/", body, token=host)

        words = len(TYPICAL["description"].split())
        other = api.post("/api/events/", {**TYPICAL, "title": "Bookable"}, token=host).json
        calls: list[tuple[str, Callable[[], Any]]] = [
            (f"create a published event ({words}-word description, 2 tags)", create),
            ("edit its capacity", edit({"capacity": 50})),
            ("edit its title", edit({"title": "Hands-on data modelling with DynamoDB for web teams"})),
            ("edit its start time", edit({"starts_at": "2031-03-17T18:00:00Z"})),
            ("cancel it", edit({"status": "cancelled"})),
            ("book a seat (another event)", lambda: api.post(f"/api/events/{other['id']}/bookings/", token=guest)),
        ]
        for name, call in calls:
            result[name] = store.measure(call)
    return result


class _Store:
    """Every table's items before and after one call (the store holds a handful), and the writes the handler sent
    in between; write capacity as DynamoDB bills it, from the items' sizes."""

    def __init__(self, search_table: str) -> None:
        import boto3

        self._client = boto3.client("dynamodb")
        self._search = search_table
        self._schemas: dict[str, dict[str, Any]] = {}

    def measure(self, call: Callable[[], Any]) -> Written:
        before = self._snapshot()
        with _writes(self.key_of) as sent:
            reply = call()
        assert reply.status < 300, (reply.status, reply.raw[:200])
        after = self._snapshot()
        written = Written(requests=[operation for operation, _ in sent])
        for operation, items in sent:
            for table, key in items:
                old, new = before.get((table, key)), after.get((table, key))
                size = max(_size(old), _size(new))
                # A transaction's items cost twice a standard write's: 2 WCU per KB.
                wcu = max(1, math.ceil(size / 1024)) * (2 if operation == "TransactWriteItems" else 1)
                wcu += self._secondary_wcu(table, old, new)
                written.items += 1
                written.wcu += wcu
                if table == self._search:
                    written.index_items += 1
                    written.index_wcu += wcu
        return written

    def _schema(self, table: str) -> dict[str, Any]:
        if table not in self._schemas:
            self._schemas[table] = self._client.describe_table(TableName=table)["Table"]
        return self._schemas[table]

    def key_of(self, table: str, item: dict[str, Any]) -> str:
        names = [part["AttributeName"] for part in self._schema(table)["KeySchema"]]
        return "|".join(str(item[name]) for name in names)

    def _snapshot(self) -> dict[tuple[str, str], dict[str, Any]]:
        items = {}
        for table in self._client.list_tables()["TableNames"]:
            for page in self._client.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    items[(table, self.key_of(table, item))] = item
        return items

    def _secondary_wcu(self, table: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> int:
        """Writes to the table's secondary indexes by DynamoDB's rules: an entry added or removed is one write, a
        changed index key two (delete and put), a changed projected attribute one; each 1 WCU per KB projected."""
        schema = self._schema(table)
        total = 0
        for index in schema.get("LocalSecondaryIndexes", []) + schema.get("GlobalSecondaryIndexes", []):
            keys = [part["AttributeName"] for part in index["KeySchema"]]
            projection = index["Projection"]["ProjectionType"]
            projected = (lambda item: item) if projection == "ALL" else (lambda item, k=keys: _only(item, k))
            was = projected(old) if old is not None and all(k in old for k in keys) else None
            now = projected(new) if new is not None and all(k in new for k in keys) else None
            if was is None and now is None:
                continue
            if was is None or now is None:
                writes = 1
            elif any(was[k] != now[k] for k in keys):
                writes = 2
            else:
                writes = int(was != now)
            total += writes * max(1, math.ceil(max(_size(was), _size(now)) / 1024))
        return total


def _only(item: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name in names}


def _size(item: dict[str, Any] | None) -> int:
    """An item's size as DynamoDB counts it, roughly: names and values in UTF-8, numbers about a byte per two
    digits, 1 byte for a boolean or null, 3 bytes of overhead per list or map and 1 per element."""
    if item is None:
        return 0
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return len(inner.strip("-").lstrip("0").replace(".", "")) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(element.encode()) for element in inner)
    if kind == "NS":
        return sum(_value_size({"N": element}) for element in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + _value_size(element) for name, element in inner.items())
    return len(inner)


_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


@contextmanager
def _writes(key_of: Callable[[str, dict[str, Any]], str]) -> Iterator[list[tuple[str, list[tuple[str, str]]]]]:
    """(operation, [(table, key)]) of each write request the handler sends inside the block, from botocore's
    public `provide-client-params` event on every client pynamodb makes (bench.app's hooks)."""
    from bench import app

    app._install_hooks()
    sent: list[tuple[str, list[tuple[str, str]]]] = []

    def recorded(operation: str, params: dict[str, Any]) -> None:
        if operation in _WRITES:
            sent.append((operation, _written(operation, params, key_of)))

    app.param_listeners.append(recorded)
    try:
        yield sent
    finally:
        app.param_listeners.remove(recorded)


def _written(
    operation: str, params: dict[str, Any], key_of: Callable[[str, dict[str, Any]], str]
) -> list[tuple[str, str]]:
    """The (table, key) of every item a write request writes (a put's key taken from its item)."""
    if operation == "TransactWriteItems":
        items = []
        for entry in params["TransactItems"]:
            (kind, body), *_ = entry.items()
            if kind == "ConditionCheck":
                continue  # reads an item, writes none
            items.append((body["TableName"], key_of(body["TableName"], body.get("Key") or body["Item"])))
        return items
    if operation == "BatchWriteItem":
        return [
            (table, key_of(table, request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]))
            for table, requests in params["RequestItems"].items()
            for request in requests
        ]
    return [(params["TableName"], key_of(params["TableName"], params.get("Key") or params["Item"]))]


def _requests(operations: Sequence[str]) -> str:
    """`Query x3, BatchGetItem`: each operation once, with how many times it was sent."""
    counts: dict[str, int] = {}
    for operation in operations:
        counts[operation] = counts.get(operation, 0) + 1
    return ", ".join(f"{op} x{n}" if n > 1 else op for op, n in counts.items()) or "none"


def _verdict(ok: bool, target: str) -> str:
    return f"{'met' if ok else 'MISSED'}: {target}"


def main() -> None:
    """`python -m bench.search`: only the search rows."""
    table = rows()
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |")


if __name__ == "__main__":
    main()
