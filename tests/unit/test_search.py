"""The tokenizer, the index terms of an event and the query planner (domain.search), and the token index's
writes (persistence.search.write_index) counted against a DynamoDB transaction's 100 items."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.domain.enums import EventStatus
from chalicelib.domain.events import Event
from chalicelib.domain.search import (
    MAX_INDEX_ITEMS,
    Plan,
    SearchQuery,
    derived_city,
    derived_online,
    fold,
    index_terms,
    matches,
    normalize_tag,
    normalize_tags,
    plan,
    query_words,
    searchable_words,
    word_keys,
    words,
)

T = datetime(2030, 1, 1, tzinfo=UTC)


def _distinct_words(count: int, tail: str, letters: str = "bcdfghjklmnpqrstvwxz") -> str:
    """Words with distinct first three letters (each word two index keys), such as `bcdqq`."""
    n_ = len(letters)
    return " ".join(letters[n // n_**2] + letters[n // n_ % n_] + letters[n % n_] + tail for n in range(count))


def _event(**fields: object) -> Event:
    values: dict[str, object] = {
        "id": "E1",
        "title": "Data modelling for DynamoDB",
        "description": "Access patterns.",
        "creator": "C",
        "creator_username": "c",
        "created_at": T,
        "updated_at": T,
        **fields,
    }
    return Event(**values)  # type: ignore[arg-type]


def test_fold_takes_case_accents_and_width_away():
    assert fold("Ｄｙｎａｍｏ Dýnamo DYNAMO İstanbul Straße ﬁle") == "dynamo dynamo dynamo istanbul strasse file"


def test_words_are_folded_unique_long_enough_and_not_stop_words():
    assert words("The DynamoDB, the dynamodb; an AI for Ünïcode_tests 2027 x9 ٢٠٢٧") == [
        "dynamodb",
        "unicode",
        "tests",
        "2027",
        "٢٠٢٧",
    ]
    assert words("a" * 30) == ["a" * 20]


def test_a_word_has_one_key_of_its_first_three_characters_holding_its_longer_prefixes():
    assert word_keys("dynamodb") == [("q#dyn", frozenset({"dyna", "dynam", "dynamo", "dynamod", "dynamodb"}))]
    assert word_keys("data") == [("q#dat", frozenset({"data"}))]
    assert word_keys("aws") == [("q#aws", frozenset())]


def test_tags_are_normalized_and_at_most_five():
    assert normalize_tag("  Machine  Learning ") == "machine-learning"
    assert normalize_tag("AWS_Lambda") == "aws-lambda"
    assert normalize_tag("--ÁI--2--") == "ai-2"
    for bad in ("", "  ", "a/b", "c++", "x" * 31):
        with pytest.raises(ValueError):
            normalize_tag(bad)
    assert normalize_tags(["AWS", "aws", "Aws "]) == ("aws",)
    with pytest.raises(ValueError, match="at most 5 tags"):
        normalize_tags(["a1", "a2", "a3", "a4", "a5", "a6"])


def test_city_and_online_are_guessed_from_the_location_and_link():
    assert derived_city("12 Main St, 1000 Lisbon") == "Lisbon"
    assert derived_city("Main hall") == ""
    assert derived_city("Hall, 1000") == "Hall"
    assert derived_city("") == ""
    assert derived_online("", "https://meet.example.com/x") is True
    assert derived_online(" Online ", None) is True
    assert derived_online("Main hall", None) is False


def test_only_published_events_have_index_terms():
    assert index_terms(_event(status=EventStatus.DRAFT)) == ({}, [])
    assert index_terms(_event(status=EventStatus.CANCELLED)) == ({}, [])


def test_index_terms_are_facets_then_words_of_title_tags_description():
    event = _event(category="technology", tags=("aws",), city="Lisboa", online=True, price=Decimal("0"))
    terms, covered = index_terms(event)
    assert covered == ["data", "modelling", "dynamodb", "aws", "access", "patterns"]
    assert list(terms)[:6] == ["all", "cat#technology", "tag#aws", "city#lisboa", "online", "free"]
    assert terms["q#dyn"] == frozenset({"dyna", "dynam", "dynamo", "dynamod", "dynamodb"})
    assert terms["q#acc"] == frozenset({"acce", "acces", "access"})
    # Words sharing their first three characters share the item.
    shared = index_terms(_event(title="Data and dates"))[0]
    assert shared["q#dat"] == frozenset({"data", "date", "dates"})
    paid = index_terms(_event(price=Decimal("5.00")))[0]
    assert "free" not in paid and "online" not in paid


def test_a_long_description_is_indexed_up_to_the_budget_title_first():
    description = _distinct_words(200, "qq")
    terms, covered = index_terms(_event(description=description))
    assert len(terms) == MAX_INDEX_ITEMS
    # "all", "free", the 3 title words, then 43 description words (one key each).
    assert covered[:3] == ["data", "modelling", "dynamodb"]
    assert covered[3:] == description.split()[:43]
    # A word that fits under keys already there is still indexed past the budget.
    assert "dynamo" in searchable_words(_event(description=description + " dynamo"))
    assert searchable_words(_event(description=description)) == covered


def test_matches_is_every_filter_and_every_word_as_a_prefix():
    event = _event(category="technology", tags=("aws",), city="Lisboa", starts_at=T)
    assert matches(event, SearchQuery(words=("dyn", "acc")))
    assert not matches(event, SearchQuery(words=("dyn", "xyz")))
    assert matches(event, SearchQuery(category="technology", tag="aws", city="lisboa", free=True, online=False))
    assert not matches(event, SearchQuery(city="porto"))
    assert matches(event, SearchQuery(starts_from=T, starts_to=T))
    assert not matches(_event(), SearchQuery(starts_from=T))  # no start time: outside every period
    assert not matches(_event(status=EventStatus.DRAFT), SearchQuery())


def test_the_plan_reads_the_most_selective_partition():
    assert plan(SearchQuery(words=("dyna", "modelling"))) == Plan("q#mod", "modelling", "created", False)
    assert plan(SearchQuery(words=("dyn",), sort="soonest")) == Plan("q#dyn", None, "start", True)
    assert plan(SearchQuery(words=("dyna",))) == Plan("q#dyn", "dyna", "created", False)
    assert plan(SearchQuery(tag="aws", city="lisboa", category="music")).key == "tag#aws"
    assert plan(SearchQuery(city="lisboa", category="music")).key == "city#lisboa"
    assert plan(SearchQuery(category="music", online=True, free=True)).key == "cat#music"
    assert plan(SearchQuery(online=True, free=True)).key == "online"
    assert plan(SearchQuery(online=False, free=True)).key == "free"
    assert plan(SearchQuery(online=False, free=False)).key == "all"


def test_query_words_keep_the_first_five():
    assert query_words("one two three four five six seven eight") == ("two", "three", "four", "five", "six")


def test_replacing_an_event_entirely_fits_one_transaction():
    """Every old item deleted and every new one put, with the event, an audit entry and an upload's claim."""
    from chalicelib.persistence.search import event_index_change, write_index

    class Counting:
        def __init__(self) -> None:
            self.names: list[str] = []

        def save(self, name: str, item: object, condition: object = None) -> None:
            self.names.append(name)

        def delete(self, name: str, item: object, condition: object = None) -> None:
            self.names.append(name)

    old = _event(description=_distinct_words(100, "aa"), tags=("a1", "a2", "a3", "a4", "a5"))
    new = _event(
        title="Other",
        description=_distinct_words(100, "oo", "aeiouy").upper(),
        tags=("b1", "b2", "b3", "b4", "b5"),
        starts_at=T,
        category="music",
        price=Decimal("5.00"),
    )
    tx = Counting()
    change = event_index_change(old, new)
    assert change is not None
    write_index(tx, change)  # type: ignore[arg-type]
    before, after = index_terms(old)[0], index_terms(new)[0]
    assert len(before) == len(after) == MAX_INDEX_ITEMS
    # Every new item is put, every old key not among them deleted: all but `all`, which every event has.
    assert len(tx.names) == len(after) + len(before.keys() - after.keys()) == 2 * MAX_INDEX_ITEMS - 1
    assert len(tx.names) + 3 <= 100
    assert event_index_change(old, old.with_changes(capacity=5)) is None
