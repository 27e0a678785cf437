"""The on-sale queue over the in-memory store, on a clock the tests move: places, serving, admissions, caches."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import cycle

import pytest

from chalicelib.domain import queue as rules
from chalicelib.domain.enums import EventStatus
from chalicelib.domain.events import Event
from chalicelib.domain.queue import EARLY, EARLY_SHARDS, LATE, LATE_SHARDS, SETTLE_SECONDS, QueueEntry
from chalicelib.errors import Conflict, NotFound, NotInQueue, PermissionDenied
from chalicelib.security.admission import verify_admission
from chalicelib.services.queue import Queue
from tests.support.factories import creator, principal
from tests.support.fakes import FakeEvents, FakeQueue

KEY = b"k" * 32
T0 = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
OPENS = T0 + timedelta(hours=1)
SETTLED = OPENS + timedelta(seconds=SETTLE_SECONDS)
RATE = 10.0  # the cap below the per-shard rate: ten admissions a second


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class CountingEvents(FakeEvents):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, event_id: str) -> Event | None:
        self.reads += 1
        return super().get(event_id)


class CountingQueue(FakeQueue):
    def __init__(self) -> None:
        super().__init__()
        self.count_reads = 0

    def counts(self, event_id: str, line: str, shards: int) -> list[int]:
        self.count_reads += 1
        return super().counts(event_id, line, shards)


class World:
    def __init__(self, *, jitter: float = 0.5, late_shards: list[int] | None = None) -> None:
        self.clock = Clock(T0)
        self.events = CountingEvents()
        self.store = CountingQueue()
        late = cycle(late_shards or range(LATE_SHARDS))
        self.queue = Queue(
            self.store,
            self.events,
            KEY,
            max_rate=RATE,
            admission_seconds=120,
            clock=self.clock,
            jitter=lambda: jitter,
            late_shard=lambda: next(late),
        )
        self.owner = creator()

    def event(self, **fields: object) -> Event:
        values: dict[str, object] = {
            "id": f"01J{len(self.events.by_id):023d}",
            "title": "Launch",
            "description": "D",
            "creator": self.owner.user_id,
            "creator_username": "c",
            "created_at": T0,
            "updated_at": T0,
            "starts_at": T0 + timedelta(days=1),
            "capacity": 100,
            "sales_open_at": OPENS,
            **fields,
        }
        event = Event(**values)  # type: ignore[arg-type]
        self.events.add(event)
        return event


def _users(n: int) -> list:
    return [principal(user_id=f"01K{i:023d}") for i in range(n)]


@pytest.fixture
def world() -> World:
    return World()


def test_those_who_join_before_the_opening_are_numbered_1_to_n_without_a_collision_in_a_random_order(world):
    event, users = world.event(), _users(500)
    for user in users:
        world.queue.join(user, event.id)
    world.clock.now = SETTLED
    places = [world.queue.status(user, event.id).position for user in users]
    assert sorted(places) == list(range(1, 501))
    # Not the order they came in: arrival order only counts inside one of the 64 shards.
    assert places != sorted(places)
    assert sum(world.store.counts(event.id, EARLY, EARLY_SHARDS)) == 500


def test_an_early_place_is_its_shard_after_the_shards_before_it_then_arrival_inside_the_shard(world):
    event, users = world.event(), _users(40)
    for user in users:
        world.queue.join(user, event.id)
    world.clock.now = SETTLED
    entries = [world.store.entries[(event.id, u.user_id)] for u in users]
    by_draw = sorted(entries, key=lambda e: (e.shard, e.joined_at, e.number))
    expected = {e.user_id: place for place, e in enumerate(by_draw, start=1)}
    assert {u.user_id: world.queue.status(u, event.id).position for u in users} == expected
    # The shard is the HMAC draw, the same however often (and whenever) the user joins.
    for entry in entries:
        secret = world.queue._rank_secret()
        assert entry.shard == rules.early_shard(rules.rank(secret, event.id, entry.user_id))


def test_joining_again_answers_the_same_place_and_writes_nothing(world):
    event, (alice, bob) = world.event(), _users(2)
    _, created = world.queue.join(alice, event.id)
    entry = world.store.entries[(event.id, alice.user_id)]
    world.queue.join(bob, event.id)
    world.clock.now += timedelta(seconds=1)  # the process's counts are a second old at most
    again, created_again = world.queue.join(alice, event.id)
    assert again == world.queue.status(alice, event.id)
    world.clock.now = OPENS + timedelta(minutes=5)  # after the opening: still the same (early) entry
    later, created_later = world.queue.join(alice, event.id)
    assert (created, created_again, created_later) == (True, False, False)
    assert later.position == again.position  # its place may only grow before the opening, as others join
    assert world.store.entries[(event.id, alice.user_id)] == entry
    assert len(world.store.entries) == 2
    assert sum(world.store.counts(event.id, EARLY, EARLY_SHARDS)) == 2
    assert world.store.counts(event.id, LATE, LATE_SHARDS) == [0] * LATE_SHARDS


def test_those_who_join_after_the_opening_come_after_every_early_one_in_arrival_order():
    world = World()
    event = world.event()
    early, late = _users(3), [principal(user_id=f"01M{i:023d}") for i in range(40)]
    for user in early:
        world.queue.join(user, event.id)
    world.clock.now = OPENS + timedelta(microseconds=1)
    places = []
    for user in late:
        status, _ = world.queue.join(user, event.id)
        places.append(status.position)
    # Shards taken in turn (the store's numbering: (count - 1) * 16 + shard + 1): exactly the arrival order.
    assert places == list(range(4, 44))


def test_late_shards_counting_unevenly_leave_gaps_but_never_a_shared_place():
    world = World(late_shards=[0, 0, 0, 5])
    event = world.event()
    world.clock.now = OPENS
    places = [world.queue.join(user, event.id)[0].position for user in _users(4)]
    assert places == [1, 17, 33, 6]


def test_a_place_is_admitted_once_the_serving_counter_reaches_it_and_the_wait_says_when(world):
    event, users = world.event(), _users(30)
    world.clock.now = OPENS
    for user in users:
        world.queue.join(user, event.id)  # after the opening: places 1..30 in arrival order
    world.clock.now = OPENS + timedelta(seconds=0.35)  # served: floor(10/s * 0.35 s) = 3
    statuses = [world.queue.status(user, event.id) for user in users]
    assert [s.admitted for s in statuses] == [True] * 3 + [False] * 27
    assert [s.ahead for s in statuses[:6]] == [0, 0, 0, 0, 1, 2]
    assert [s.expected_wait_seconds for s in statuses[:5]] == [0, 0, 0, 1, 1]
    assert statuses[19].expected_wait_seconds == 2  # place 20 at 2.0 s: 1.65 s from now
    assert [s.admission is None for s in statuses[2:4]] == [False, True]
    world.clock.now = OPENS + timedelta(seconds=2)
    assert world.queue.status(users[19], event.id).admitted is True
    assert world.queue.status(users[20], event.id).admitted is False


def test_before_the_opening_nobody_is_admitted_and_the_wait_runs_to_the_opening_and_through_the_queue(world):
    event, (alice,) = world.event(), _users(1)
    world.clock.now = OPENS - timedelta(seconds=100)
    status, _ = world.queue.join(alice, event.id)
    assert (status.position, status.ahead, status.admitted, status.admission) == (1, 0, False, None)
    assert (status.opens_at, status.expected_wait_seconds) == (OPENS, 101)  # 100 s, then 0.1 s of serving


def test_an_admission_names_the_user_and_the_event_and_lives_120_seconds(world):
    event, (alice,) = world.event(), _users(1)
    world.queue.join(alice, event.id)
    world.clock.now = OPENS + timedelta(seconds=10)
    status = world.queue.status(alice, event.id)
    assert status.admission_expires_at == OPENS + timedelta(seconds=130)
    claims = verify_admission(status.admission, KEY, 120, (OPENS + timedelta(seconds=10)).timestamp())
    assert (claims.user_id, claims.event_id, claims.expires_at) == (
        alice.user_id,
        event.id,
        int((OPENS + timedelta(seconds=130)).timestamp()),
    )


def test_the_rate_is_35_a_second_per_seat_shard_up_to_the_cap():
    event = World().event()
    assert rules.admission_rate(event, 1120.0) == 35.0
    assert rules.admission_rate(replace(event, seat_shards=4), 1120.0) == 140.0
    assert rules.admission_rate(replace(event, seat_shards=32), 1120.0) == 1120.0
    assert rules.admission_rate(replace(event, seat_shards=32), 2000.0) == 1120.0
    assert rules.admission_rate(replace(event, seat_shards=32), 500.0) == 500.0


def test_sold_out_once_every_seat_is_taken(world):
    event, (alice,) = world.event(capacity=2, seats_booked=1), _users(1)
    assert world.queue.join(alice, event.id)[0].sold_out is False
    world.events.by_id[event.id] = replace(event, seats_booked=2)
    world.clock.now += timedelta(seconds=1)  # the process's copy of the event is a second old at most
    assert world.queue.status(alice, event.id).sold_out is True


@pytest.mark.parametrize(
    ("wait", "jitter", "poll"),
    [(101, 0.5, 3.8), (101, 0.0, 5.0), (101, 0.9, 2.8), (2, 0.5, 1.5), (0, 0.5, 0.8), (3, 0.0, 3.0), (3, 0.99, 1.5)],
)
def test_polls_wait_at_most_5_seconds_and_never_beyond_the_wait_spread_over_its_second_half(wait, jitter, poll):
    assert rules.poll_after(wait, jitter) == poll


def test_two_callers_with_the_same_wait_are_told_different_intervals():
    answers = set()
    for jitter in (0.1, 0.7):
        world = World(jitter=jitter)
        event, (alice,) = world.event(), _users(1)
        answers.add(world.queue.join(alice, event.id)[0].poll_after_seconds)
    assert answers == {4.8, 3.2}


def test_the_event_is_read_once_a_second_and_the_early_counts_for_good_once_the_opening_settled(world):
    event, users = world.event(), _users(200)
    for user in users:
        world.queue.join(user, event.id)
    reads = world.events.reads
    assert reads == 1  # 200 joins within the same instant
    outsider = next(u for u in users if world.store.entries[(event.id, u.user_id)].shard > 0)
    world.clock.now = SETTLED
    before = world.store.count_reads
    first = world.queue.status(outsider, event.id).position
    world.clock.now = SETTLED + timedelta(hours=1)
    # A counter moved after the opening settled (it cannot, but if it did) changes nobody's place any more.
    world.store.counters[(event.id, EARLY, 0)] += 5
    assert world.queue.status(outsider, event.id).position == first
    assert world.store.count_reads == before + 1
    assert world.events.reads == reads + 2


def test_before_the_opening_the_counts_are_read_again_after_a_second(world):
    event, users = world.event(), _users(200)
    outsider = next(u for u in users if rules.early_shard(rules.rank(world.queue._rank_secret(), event.id, u.user_id)))
    world.queue.join(outsider, event.id)
    first = world.queue.status(outsider, event.id).position
    world.store.counters[(event.id, EARLY, 0)] = world.store.counters.get((event.id, EARLY, 0), 0) + 7
    assert world.queue.status(outsider, event.id).position == first  # the same instant: cached
    world.clock.now += timedelta(seconds=1)
    assert world.queue.status(outsider, event.id).position == first + 7


def test_a_status_of_someone_who_never_joined_is_not_in_queue(world):
    event, (alice,) = world.event(), _users(1)
    with pytest.raises(NotInQueue) as caught:
        world.queue.status(alice, event.id)
    assert (caught.value.code, caught.value.detail) == ("not_in_queue", "You are not in this event's queue.")


def test_joining_is_refused_without_a_queue_for_ones_own_event_once_started_and_for_hidden_events(world):
    (alice,) = _users(1)
    with pytest.raises(Conflict) as no_queue:
        world.queue.join(alice, world.event(sales_open_at=None).id)
    with pytest.raises(PermissionDenied):
        world.queue.join(world.owner, world.event().id)
    world.clock.now = T0 + timedelta(days=1)
    with pytest.raises(Conflict) as started:
        world.queue.join(alice, world.event().id)
    with pytest.raises(NotFound):
        world.queue.join(alice, world.event(status=EventStatus.DRAFT).id)
    with pytest.raises(NotFound):
        world.queue.join(alice, "not-an-id")
    assert (no_queue.value.code, started.value.code) == ("no_queue", "event_not_bookable")
    assert world.store.entries == {}


def test_a_concurrent_join_of_the_same_user_keeps_the_first_entry(world):
    event, (alice,) = world.event(), _users(1)
    first = QueueEntry(event.id, alice.user_id, T0, True, 0, 1)
    original_entry = world.store.entry
    calls = []

    def entry_written_meanwhile(event_id: str, user_id: str):
        calls.append(user_id)
        if len(calls) == 1:
            world.store.entries[(event_id, user_id)] = first  # after the join looked, before it wrote
            return None
        return original_entry(event_id, user_id)

    world.store.entry = entry_written_meanwhile  # type: ignore[method-assign]
    status, created = world.queue.join(alice, event.id)
    assert (created, status.position, world.store.entries[(event.id, alice.user_id)]) == (False, 1, first)


def test_queue_items_are_kept_until_30_days_after_the_event_starts(world):
    event, (alice,) = world.event(), _users(1)
    world.queue.join(alice, event.id)
    keep = int((T0 + timedelta(days=31)).timestamp())
    assert set(world.store.expiries.values()) == {keep}


@pytest.mark.parametrize(
    ("before", "after", "errors"),
    [
        (None, T0 + timedelta(hours=1), []),
        (None, T0, ["The sales opening must be in the future."]),
        (None, T0 + timedelta(days=2), ["Sales must open before the event starts."]),
        (
            T0 - timedelta(seconds=1),
            T0 + timedelta(hours=1),
            ["Sales have opened: the opening can no longer be changed."],
        ),
        (T0 - timedelta(seconds=1), None, ["Sales have opened: the opening can no longer be changed."]),
        (T0 - timedelta(seconds=1), T0 - timedelta(seconds=1), []),
        (T0 + timedelta(seconds=1), None, []),
        (T0 + timedelta(seconds=1), T0 + timedelta(hours=2), []),
    ],
)
def test_the_sales_opening_is_set_in_the_future_before_the_start_and_fixed_once_passed(before, after, errors):
    assert rules.sales_opening_errors(before, after, T0 + timedelta(days=1), T0) == errors
