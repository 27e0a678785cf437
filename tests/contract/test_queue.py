"""The queue store's contract, the same for the in-memory fake and the DynamoDB adapter (on moto)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.queue import EARLY, LATE, QueueEntry
from chalicelib.ports.queue import EntryExists
from tests.contract.conftest import IMPLEMENTATIONS, _empty_tables
from tests.support.fakes import FakeQueue

EVENT = "01J00000000000000000000001"
OTHER = "01J00000000000000000000002"
ALICE = "01K00000000000000000000001"
JOINED = datetime(2031, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
KEEP = 1_950_000_000


@pytest.fixture(params=IMPLEMENTATIONS)
def store(request: pytest.FixtureRequest):
    if request.param == "fake":
        return FakeQueue()
    request.getfixturevalue("moto_tables")
    _empty_tables()
    from chalicelib.persistence.queue import DynamoQueue

    return DynamoQueue()


def test_an_entry_is_read_back_as_written_and_only_for_its_user_and_event(store):
    entry = QueueEntry(EVENT, ALICE, JOINED, True, 17, 3)
    assert store.entry(EVENT, ALICE) is None
    store.add(entry, KEEP)
    assert store.entry(EVENT, ALICE) == entry
    assert store.entry(OTHER, ALICE) is None
    assert store.entry(EVENT, "01K00000000000000000000002") is None


def test_a_second_entry_of_the_same_user_is_refused_and_the_first_kept(store):
    first = QueueEntry(EVENT, ALICE, JOINED, True, 17, 3)
    store.add(first, KEEP)
    with pytest.raises(EntryExists):
        store.add(QueueEntry(EVENT, ALICE, JOINED, False, 2, 9), KEEP)
    assert store.entry(EVENT, ALICE) == first


def test_counters_count_per_event_line_and_shard_and_unused_shards_read_zero(store):
    assert [store.increment(EVENT, EARLY, 3, KEEP) for _ in range(3)] == [1, 2, 3]
    assert store.increment(EVENT, EARLY, 0, KEEP) == 1
    assert store.increment(EVENT, LATE, 3, KEEP) == 1
    assert store.increment(OTHER, EARLY, 3, KEEP) == 1
    assert store.counts(EVENT, EARLY, 5) == [1, 0, 0, 3, 0]
    assert store.counts(EVENT, LATE, 4) == [0, 0, 0, 1]
    assert store.counts(OTHER, LATE, 2) == [0, 0]


def test_a_hundred_and_more_shards_are_read_in_one_call(store):
    # BatchGetItem takes 100 keys at a time: the adapter must page.
    for shard in (0, 99, 100, 127):
        store.increment(EVENT, EARLY, shard, KEEP)
    counts = store.counts(EVENT, EARLY, 128)
    assert [i for i, n in enumerate(counts) if n] == [0, 99, 100, 127]
    assert sum(counts) == 4
