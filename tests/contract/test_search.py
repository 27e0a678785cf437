"""EventSearch (ports.search): the fake and the token index on DynamoDB find the same events in the same order,
through edits, cancellation and deletion; the DynamoDB side reads a bounded number of index items per page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.enums import EventStatus
from chalicelib.domain.search import SearchQuery, fold
from tests.contract.builders import T0, at, audit_entry, event, every_page


def _all(world, query: SearchQuery, limit: int = 2) -> list[str]:
    pages = every_page(lambda limit, start: world.search.search(query, limit=limit, start=start), limit)
    return [event_id for page in pages for event_id in page]


@pytest.fixture
def shelf(world):
    """Five events, created a minute apart in this order; one draft."""
    made = {}
    specs = {
        "dynamo": dict(
            title="Data modelling for DynamoDB",
            category="technology",
            tags=("aws",),
            city="Lisboa",
            starts_at=at(days=12),
        ),
        "jazz": dict(title="Jazz night", category="music", city="Lisboa", price=Decimal("10.00"), starts_at=at(days=5)),
        "python": dict(
            title="Python",
            description="Notebooks and DynamoDB",
            category="technology",
            online=True,
            starts_at=None,
        ),
        "draft": dict(title="Dynamo draft", status=EventStatus.DRAFT),
        "walk": dict(title="City walk", tags=("outdoors", "aws"), city="Porto", starts_at=at(days=30)),
    }
    for n, (name, fields) in enumerate(specs.items()):
        made[name] = event(created_at=T0 + timedelta(minutes=n), **fields)
        world.events.add(made[name])
    return made


def test_words_filters_and_orders_agree(world, shelf):
    ids = {name: e.id for name, e in shelf.items()}
    assert _all(world, SearchQuery(words=("dyn",))) == [ids["python"], ids["dynamo"]]
    assert _all(world, SearchQuery(words=("dynamodb", "note"))) == [ids["python"]]
    assert _all(world, SearchQuery(words=("model",), category="technology")) == [ids["dynamo"]]
    assert _all(world, SearchQuery(tag="aws")) == [ids["walk"], ids["dynamo"]]
    assert _all(world, SearchQuery(city=fold("LISBOA"), free=True)) == [ids["dynamo"]]
    assert _all(world, SearchQuery(online=False, category="technology")) == [ids["dynamo"]]
    assert _all(world, SearchQuery(sort="soonest")) == [ids["jazz"], ids["dynamo"], ids["walk"], ids["python"]]
    window = SearchQuery(starts_from=at(days=6), starts_to=at(days=30), sort="soonest")
    assert _all(world, window) == [ids["dynamo"], ids["walk"]]
    assert _all(world, window._replace(sort="newest")) == [ids["walk"], ids["dynamo"]]
    assert _all(world, SearchQuery(words=("draft",))) == []


def test_the_index_follows_edits_and_deletion(world, shelf):
    dynamo, walk = shelf["dynamo"], shelf["walk"]
    edited = dynamo.with_changes(title="Graphs", tags=(), category="science", price=Decimal("5.00"))
    world.events.save(dynamo, edited)
    assert _all(world, SearchQuery(words=("graph",))) == [dynamo.id]
    assert _all(world, SearchQuery(words=("dynamodb",))) == [shelf["python"].id]
    assert _all(world, SearchQuery(tag="aws")) == [walk.id]
    assert _all(world, SearchQuery(free=False, category="science")) == [dynamo.id]
    cancelled = edited.with_changes(status=EventStatus.CANCELLED)
    world.events.save(edited, cancelled)
    assert _all(world, SearchQuery(words=("graph",))) == []
    draft = shelf["draft"]
    world.events.save(draft, draft.with_changes(status=EventStatus.PUBLISHED))
    assert _all(world, SearchQuery(words=("draft",))) == [draft.id]
    world.events.delete(walk)
    assert _all(world, SearchQuery(city="porto")) == []


def test_a_page_reads_a_bounded_number_of_index_items(world, monkeypatch):
    """120 events in one partition and the two that pass the filter at its far end: every event is found by
    following `next`, and no page reads more than MAX_QUERIES * (CHUNK + 1) index items."""
    if world.kind != "dynamo":
        pytest.skip("the fake reads no index")
    from chalicelib.persistence import search
    from chalicelib.persistence.models.search import SearchModel

    monkeypatch.setattr(search, "CHUNK", 10)
    wanted = []
    for n in range(60):
        paid = n not in (0, 1)
        made = event(created_at=T0 + timedelta(minutes=n), category="music", price=Decimal("3.00" if paid else "0"))
        world.events.add(made)
        if not paid:
            wanted.append(made.id)
    read: list[int] = []
    original = SearchModel.by_created.query

    def counting(*args, **kwargs):
        items = list(original(*args, **kwargs))
        read[-1] += len(items)
        return iter(items)

    monkeypatch.setattr(SearchModel.by_created, "query", counting)
    found, start, pages = [], None, 0
    while True:
        read.append(0)
        page = world.search.search(SearchQuery(category="music", free=True), limit=5, start=start)
        found += [e.id for e in page.items]
        pages += 1
        assert read[-1] <= search.MAX_QUERIES * (10 + 1)
        if page.next_key is None:
            break
        start = page.next_key
    assert found == list(reversed(wanted))
    assert pages == 2  # 58 paid events newest first, read 33 per page, before the two free ones
    assert read[0] == 33


def test_a_stale_index_item_never_shows_an_event_that_does_not_match(world, shelf):
    """An item read between an edit's commit and the page's read of the event is checked on the event."""
    if world.kind != "dynamo":
        pytest.skip("the fake reads no index")
    from chalicelib.persistence.models.search import SearchModel

    jazz = shelf["jazz"]
    # The event changes under an index item that still says `music`.
    world.events.save(jazz, jazz.with_changes(category="arts"))
    SearchModel(k="cat#music", id=jazz.id, s="x", c="2999", free=False).save()
    assert _all(world, SearchQuery(category="music")) == []


def test_an_edit_that_replaces_every_index_item_commits_with_its_audit_entry(world):
    """The largest index change (every item of a full index replaced) fits the event's transaction."""
    first = " ".join(f"{a}{b}{c}qq" for a in "bcdfg" for b in "hjklm" for c in "npqrs")
    second = " ".join(f"{a}{b}{c}oo" for a in "aeiou" for b in "aeiou" for c in "aeiou")
    old = event(description=first, tags=("t1", "t2", "t3", "t4", "t5"))
    world.events.add(old)
    new = old.with_changes(title="New", description=second, tags=("u1", "u2"), price=Decimal("9.00"), starts_at=None)
    world.events.save(old, new, audit_entry(old.id))
    assert _all(world, SearchQuery(words=("bhnqq",))) == []
    assert _all(world, SearchQuery(words=("aaaoo",))) == [old.id]
    logged = world.audit.list(actor=None, object_id=old.id, limit=5, start=None).items
    assert [entry.object_id for entry in logged] == [old.id]
