"""bench.hot_event's stand-in and clock: DynamoDB's limits as the simulation applies them, in simulated time."""

from __future__ import annotations

import time
from typing import Any

from bench.hot_event_clock import Scheduler, simulated_time
from bench.hot_event_store import Limits, StandIn, TableSchema, TokenBucket, item_size

EVENTS = "events"
SCHEMAS = {
    EVENTS: TableSchema("id", None, (("pub-by-created", "pub", "created_sk"), ("by-creator", "creator", "created_sk"))),
    "bookings": TableSchema("id"),
}
# No jitter: a transaction takes exactly its 15 ms median.
LIMITS = Limits(jitter=0.0)


def _stand_in(images: dict[tuple[str, str], Any] | None = None) -> StandIn:
    stored = images or {}
    return StandIn(SCHEMAS, lambda table, key: stored.get((table, key["id"]["S"])), LIMITS)


def _update(table: str, key: str) -> dict[str, Any]:
    return {"Update": {"TableName": table, "Key": {"id": {"S": key}}, "UpdateExpression": "ADD #n :v"}}


def _transaction(*items: dict[str, Any]) -> dict[str, Any]:
    return {"TransactItems": list(items)}


def test_a_token_bucket_refuses_the_1001st_unit_of_a_second() -> None:
    bucket = TokenBucket(1000.0)
    taken = [bucket.take(0.5, 1.0) for _ in range(1001)]
    assert taken.count(True) == 1000
    assert taken[-1] is False
    assert bucket.take(0.501, 1.0) is True  # a millisecond later, one more unit has come back


def test_the_1001st_write_unit_on_one_item_within_a_second_is_throttled() -> None:
    stand_in = _stand_in()
    answers = [stand_in.decide("UpdateItem", _update(EVENTS, "e1")["Update"], 0.0).code for _ in range(1001)]
    assert answers[:1000] == [None] * 1000
    assert answers[1000] == "ProvisionedThroughputExceededException"
    assert stand_in.decide("UpdateItem", _update(EVENTS, "e2")["Update"], 0.0).code is None  # another partition
    assert (stand_in.throttles, stand_in.write_units) == (1, 1001.0)


def test_a_transactional_write_costs_2_units_per_kb_and_each_index_copy_1_on_its_key_value() -> None:
    item = {"id": {"S": "e1"}, "pub": {"S": "PUBLISHED"}, "creator": {"S": "c1"}, "created_sk": {"S": "x" * 1500}}
    size = item_size(item)
    assert size == 2 + 2 + 3 + 9 + 7 + 2 + 10 + 1500  # names and values: 2 KB
    images = {(EVENTS, "e1"): (size, {k: next(iter(v.values())) for k, v in item.items()})}
    stand_in = _stand_in(images)
    decision = stand_in.decide("TransactWriteItems", _transaction(_update(EVENTS, "e1")), 0.0)
    assert (decision.code, decision.units) == (None, 2 * 2 + 2 + 2)
    # The index partition "PUBLISHED" has its own 1,000 units a second: with 999 of them taken, the copy (2)
    # does not fit and the base write is cancelled for it, though the event's own partition has room.
    assert stand_in.take_writes([((EVENTS, "pub-by-created", "PUBLISHED"), 999.0)], 1.0)
    refused = stand_in.decide("TransactWriteItems", _transaction(_update("bookings", "b"), _update(EVENTS, "e1")), 1.0)
    assert (refused.code, refused.reasons) == ("TransactionCanceledException", ["None", "ThrottlingError"])
    assert dict(stand_in.throttled) == {f"TransactWriteItems {EVENTS}/pub-by-created": 1}
    assert (stand_in.throttles, stand_in.write_units) == (1, 8.0)
    assert stand_in.decide("TransactWriteItems", _transaction(_update(EVENTS, "e1")), 1.001).code is None


def test_a_transaction_over_an_item_another_holds_is_cancelled_with_transaction_conflict() -> None:
    stand_in = _stand_in()
    first = stand_in.decide("TransactWriteItems", _transaction(_update(EVENTS, "e1")), 0.0)
    assert (first.code, first.latency) == (None, 0.015)
    second = stand_in.decide(
        "TransactWriteItems", _transaction(_update("bookings", "b1"), _update(EVENTS, "e1")), 0.010
    )
    assert (second.code, second.reasons) == ("TransactionCanceledException", ["None", "TransactionConflict"])
    single = stand_in.decide("UpdateItem", _update(EVENTS, "e1")["Update"], 0.014)
    assert single.code == "TransactionConflictException"
    read = stand_in.decide(
        "TransactGetItems", {"TransactItems": [{"Get": {"TableName": EVENTS, "Key": {"id": {"S": "e1"}}}}]}, 0.012
    )
    assert (read.code, read.reasons) == ("TransactionCanceledException", ["TransactionConflict"])
    plain = stand_in.decide("GetItem", {"TableName": EVENTS, "Key": {"id": {"S": "e1"}}, "ConsistentRead": True}, 0.012)
    assert plain.code is None  # a plain read is never blocked by a transaction
    assert stand_in.conflicts == 3


def test_a_transaction_that_does_not_overlap_the_holder_goes_through() -> None:
    stand_in = _stand_in()
    assert stand_in.decide("TransactWriteItems", _transaction(_update(EVENTS, "e1")), 0.0).code is None
    after = stand_in.decide("TransactWriteItems", _transaction(_update(EVENTS, "e1")), 0.015)
    other_item = stand_in.decide("TransactWriteItems", _transaction(_update(EVENTS, "e2")), 0.001)
    assert (after.code, other_item.code, stand_in.conflicts) == (None, None, 0)


def test_the_scheduler_runs_one_worker_at_a_time_in_order_of_simulated_wake_up() -> None:
    scheduler = Scheduler()
    seen: list[tuple[str, float]] = []

    def worker(name: str, pauses: list[float]) -> str:
        for pause in pauses:
            seen.append((name, scheduler.now))
            time.sleep(pause)  # simulated: the test takes no real second
        return name

    finished: list[tuple[str, float]] = []
    with simulated_time(scheduler):
        for name, pauses in (("a", [0.5, 0.5]), ("b", [0.2, 1.0]), ("c", [0.7])):
            scheduler.spawn(lambda n=name, p=pauses: worker(n, p), lambda r, e: finished.append((r, scheduler.now)))
        started = time.perf_counter()
        assert scheduler.run() is True
    assert time.perf_counter() - started < 1.0
    assert seen == [("a", 0.0), ("b", 0.0), ("c", 0.0), ("b", 0.2), ("a", 0.5)]
    assert finished == [("c", 0.7), ("a", 1.0), ("b", 1.2)]
    assert scheduler.workers == 3


def test_the_scheduler_stops_at_its_horizon_and_reuses_idle_workers() -> None:
    scheduler = Scheduler()
    order: list[int] = []
    with simulated_time(scheduler):
        for i in range(3):
            scheduler.at(i * 1.0, lambda i=i: scheduler.spawn(lambda i=i: order.append(i), lambda r, e: None))
        assert scheduler.run(until=1.5) is False
        assert (order, scheduler.now) == ([0, 1], 1.5)
        assert scheduler.run() is True
    assert order == [0, 1, 2]
    assert scheduler.workers == 1  # each job ended before the next began


def test_items_sharing_a_partition_key_share_its_units_unless_each_item_is_a_partition() -> None:
    seats = {"seats": TableSchema("event_id", "shard")}

    def shard(n: int) -> dict[str, Any]:
        key = {"event_id": {"S": "e1"}, "shard": {"N": str(n)}}
        return {"TableName": "seats", "Key": key, "UpdateExpression": "ADD #b :one"}

    together = StandIn(seats, lambda table, key: None, LIMITS)
    answers = [together.decide("UpdateItem", shard(n % 20), 0.0).code for n in range(1001)]
    assert answers.count(None) == 1000  # twenty shards, one partition: 1,000 units between them
    apart = StandIn(seats, lambda table, key: None, Limits(jitter=0.0, per_item=True))
    assert [apart.decide("UpdateItem", shard(n % 20), 0.0).code for n in range(1001)].count(None) == 1001


def test_a_batch_get_leaves_the_keys_of_a_partition_out_of_units_unprocessed() -> None:
    stand_in = _stand_in()
    assert stand_in.take_reads([((EVENTS, "", "e1"), 3000.0)], 0.0)

    def batch(*ids: str) -> dict[str, Any]:
        return {"RequestItems": {EVENTS: {"Keys": [{"id": {"S": i}} for i in ids], "ConsistentRead": True}}}

    partial = stand_in.decide("BatchGetItem", batch("e1", "e2"), 0.0)
    assert (partial.code, partial.unprocessed) == (None, {EVENTS: [{"id": {"S": "e1"}}]})
    assert stand_in.decide("BatchGetItem", batch("e1"), 0.0).code == "ProvisionedThroughputExceededException"
    assert stand_in.decide("BatchGetItem", batch("e1"), 0.001).unprocessed is None  # 3 units back a ms later
    assert (stand_in.throttles, dict(stand_in.throttled)) == (1, {f"BatchGetItem {EVENTS}": 2})


def test_a_fast_read_answers_from_the_tables_and_returns_the_unprocessed_keys() -> None:
    from bench.hot_event import _fast_read

    class Item:
        def __init__(self, key: str) -> None:
            self.key = key

        def to_json(self) -> dict[str, Any]:
            return {"Attributes": {"id": {"S": self.key}}}

    class Backend:
        def get_item(self, table: str, key: dict[str, Any]) -> Item | None:
            return Item(key["id"]["S"]) if key["id"]["S"] != "gone" else None

    keys = [{"id": {"S": i}} for i in ("a", "gone", "b")]
    body = {"RequestItems": {EVENTS: {"Keys": keys, "ConsistentRead": False}}}
    answer = _fast_read(Backend(), "BatchGetItem", body, {EVENTS: [keys[2]]})
    assert answer == {
        "Responses": {EVENTS: [{"id": {"S": "a"}}]},
        "UnprocessedKeys": {EVENTS: {"Keys": [keys[2]], "ConsistentRead": False}},
    }
    assert _fast_read(Backend(), "GetItem", {"TableName": EVENTS, "Key": keys[0]}) == {"Item": {"id": {"S": "a"}}}
    assert _fast_read(Backend(), "GetItem", {"TableName": EVENTS, "Key": keys[1]}) == {}
    projected = {"TableName": EVENTS, "Key": keys[0], "ProjectionExpression": "id"}
    assert _fast_read(Backend(), "GetItem", projected) is None  # moto answers what it projects
