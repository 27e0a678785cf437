"""`python -m bench.hot_event`: one popular event's on-sale, the real booking code against DynamoDB's limits.

100,000 people arrive over 20 simulated seconds around the opening for 10,000 seats of one free event (the
issue's scale and the default; 3.5 to 4 minutes on 2 cores). Each booking runs chalicelib's
services.bookings.book through the real persistence layer, pynamodb and botocore, and every DynamoDB request
meets bench.hot_event_store's stand-in before moto: per-partition token buckets (writes and index copies 1,000
WCU/s, reads 3,000 RCU/s), items held by in-flight transactions (TransactionConflict), throttling answers
(which botocore retries as it would on AWS) and latencies, all in simulated time (bench.hot_event_clock).

Two designs side by side, each in its own process, both at once:
- "queue": the working tree's code. The event is created with `sales_open_at` and its default seat counters;
  everyone joins through services.queue (join, then status after each `poll_after_seconds`, as the web app
  does) over an in-memory queue store whose units are charged to the stand-in, and books with the admission
  the queue gives, at the code's admission_rate (QUEUE_MAX_ADMISSIONS_PER_SECOND raised for the run, said in
  the output). Told "sold out", a person leaves.
- "today": the code of commit TODAY_COMMIT, no queue: everyone books the moment they arrive (those who came
  early at the opening, within a second). Its retry storm costs real time, so it runs TODAY_ARRIVALS people for
  TODAY_SECONDS of sale and its time to sell out is extrapolated from the rate it sustained.
A person presses book again after the Retry-After of a 429, a 503 or a 409 that carries one, and stops at any
other answer.

Prints a table and, last, `hot event: <N> bookings/s sustained, oversold 0, p99 <ms> ms, refused while seats
left <k>`. The targets are verdicts in the table, never a test's assertion (docs/benchmarks.md, "A popular
event")."""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TODAY_COMMIT = "c221899"
# Figures of the "today" design from a run of this module (seed 1), printed when git or the commit is not
# at hand.
RECORDED_TODAY: dict[str, Any] = {
    "config": {"design": "today", "arrivals": 10000, "seats": 10000, "seed": 1, "opening": 5.0},
    "sold": 248,
    "sold_out": False,
    "simulated_seconds": 9.0,
    "time_to_sell_out": None,
    "extrapolated_sell_out": 161.3,
    "per_second": 62.0,
    "oversold": 0,
    "booking_p50_ms": 1145.8,
    "booking_p99_ms": 3335.4,
    "refused_while_left": 8045,
    "retried_then_booked": 126,
    "statuses": {"201": 248, "409 conflict": 8045},
    "conflicts": 33382,
    "throttles": 0,
    "wcu_per_booking": 18.1,
    "real_seconds": 67.5,
}
RECORDED_TODAY_DATE = "2026-12-04"

# Today's design pays real seconds for each simulated one and each person present (its retry storm): it runs
# fewer arrivals, still many times what it can serve, for a few seconds of sale (see the module's docstring).
TODAY_ARRIVALS = 10_000
TODAY_SECONDS = 4.0
# The queue's cap for the run (settings allow 1 to 10,000): high enough that the rate is the code's per counter.
QUEUE_CAP = 10_000.0
# The scale, and the default: a run takes 3.5 to 4 minutes on 2 cores (both designs at once).
FULL_ARRIVALS = 100_000
FULL_SEATS = 10_000
TARGET_SELL_OUT_SECONDS = 60.0
TARGET_PER_SECOND = 1000.0
TARGET_P99_MS = 1000.0
SIGNING_KEY = "hot-event-signing-key-that-is-long-enough-0123"
READS = frozenset({"GetItem", "BatchGetItem", "Query", "TransactGetItems"})


@dataclass(frozen=True)
class Config:
    """One simulated on-sale (seconds are simulated)."""

    design: str = "queue"  # "queue" or "today"
    arrivals: int = FULL_ARRIVALS
    seats: int = FULL_SEATS
    seed: int = 1
    window: float = 20.0  # arrivals spread evenly at random over [0, window)
    opening: float = 5.0  # sales open at this instant
    # settings.queue_max_admissions_per_second for the run (QUEUE_MAX_ADMISSIONS_PER_SECOND): the admission rate
    # is domain.queue.admission_rate(event, this); set above the default (1,120) so that the cap hides nothing.
    queue_cap: float = QUEUE_CAP
    horizon: float = 600.0  # stop here, whatever is left
    seat_shards: int | None = None  # the event's seat_shards when set (else its default for the capacity)
    per_item: bool = False  # each item a partition of its own (bench.hot_event_store.Limits.per_item)


@dataclass
class Person:
    """One arrival: its own user, its own Idempotency-Key (kept over its retries, as the web app does)."""

    index: int
    arrival: float
    first_request: float | None = None
    attempts: int = 0
    admission: str | None = None

    @property
    def principal(self) -> Any:
        from chalicelib.domain.access import Principal
        from chalicelib.domain.enums import Role

        return Principal(f"user-{self.index:06d}", f"user{self.index}", Role.USER, False)


@dataclass
class Tally:
    """What the simulation counts."""

    sold: int = 0
    sale_times: list[float] = field(default_factory=list)
    booking_latencies: list[float] = field(default_factory=list)  # first request -> 201, per person
    request_latencies: list[float] = field(default_factory=list)  # per booking request
    statuses: dict[str, int] = field(default_factory=dict)
    refused_while_left: int = 0
    refused_by_queue: int = 0
    retried_then_booked: int = 0  # people refused while seats were left (counted there) who then got a seat
    queue_calls: int = 0
    queue_refusals: int = 0
    errors: list[str] = field(default_factory=list)
    admitted: int = 0
    first_admission: float | None = None

    def answer(self, label: str) -> None:
        self.statuses[label] = self.statuses.get(label, 0) + 1


# -- the simulation (in its own process: moto's state, the hooks and the code on sys.path are its own) ---------


def simulate(config: Config) -> dict[str, Any]:
    """Run one design; its figures as a dict (json-able)."""
    import random

    random.seed(config.seed)  # the app's jitter and botocore's backoff draw from the global generator
    os.environ["LOG_LEVEL"] = "WARNING"  # a JSON line per booking would only cost time here
    from devstack.inprocess import configure_environment

    configure_environment(
        SIGNING_KEY,
        MAIL_DIR=tempfile.mkdtemp(prefix="hot-event-mail-"),
        QUEUE_MAX_ADMISSIONS_PER_SECOND=str(config.queue_cap),
    )
    from moto import mock_aws

    with mock_aws():
        return _Run(config).run()


class _MeteredQueue:
    """ports.QueueRepository in memory, each call's DynamoDB units charged to the stand-in as
    persistence.queue's requests would be: the counters' partitions have token buckets (a crowd's joins share
    16 or 64 of them), an entry's partition (one item a user, a few requests each) only adds its units. A
    counter out of units is a 503, as translate_errors answers botocore's throttling error."""

    TABLE = "queue"

    def __init__(self, run: _Run) -> None:
        self.run = run
        self.entries: dict[tuple[str, str], Any] = {}
        self.counters: dict[tuple[str, str, int], int] = {}

    def _write(self, partition: str | None, units: float = 1.0) -> None:
        from chalicelib.errors import ServiceUnavailable

        stand_in = self.run.stand_in
        stand_in.calls["queue writes"] += 1
        if partition is not None and not stand_in.take_writes([((self.TABLE, "", partition), units)], self._now()):
            stand_in.throttles += 1
            raise ServiceUnavailable()
        stand_in.write_units += units

    def _read(self, units: float) -> None:
        self.run.stand_in.calls["queue reads"] += 1
        self.run.stand_in.read_units += units

    def _now(self) -> float:
        return self.run.scheduler.now

    def entry(self, event_id: str, user_id: str) -> Any:
        self._read(1.0)  # a strongly consistent GetItem of a small item
        return self.entries.get((event_id, user_id))

    def add(self, entry: Any, expires_at: int) -> None:
        from chalicelib.ports.queue import EntryExists

        key = (entry.event_id, entry.user_id)
        self._write(None)
        if key in self.entries:
            raise EntryExists()
        self.entries[key] = entry

    def increment(self, event_id: str, line: str, shard: int, expires_at: int) -> int:
        self._write(f"c#{event_id}#{line}#{shard}")
        key = (event_id, line, shard)
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    def counts(self, event_id: str, line: str, shards: int) -> list[int]:
        self._read(0.5 * shards)  # one eventually consistent BatchGetItem
        return [self.counters.get((event_id, line, shard), 0) for shard in range(shards)]


class _Run:
    def __init__(self, config: Config) -> None:
        import random

        from bench.hot_event_clock import Scheduler

        self.config = config
        self.rng = random.Random(config.seed)
        self.scheduler = Scheduler()
        self.tally = Tally()
        self.arrived = 0
        self.queue: Any = None
        self.rate: float | None = None

    # -- set-up ------------------------------------------------------------------------------------------------

    def _setup(self) -> None:
        import inspect
        from datetime import timedelta

        from chalicelib import bootstrap
        from chalicelib.domain.access import Principal
        from chalicelib.domain.enums import Role
        from chalicelib.persistence.admin import create_tables
        from chalicelib.services import bookings as booking_service
        from chalicelib.services import events as event_service

        bootstrap.tables()
        create_tables(wait=False)
        self.stand_in = _stand_in(self.rng, self.config.per_item)
        _wire(self.stand_in)
        creator = Principal("creator-0", "creator", Role.CREATOR, False)
        fields: dict[str, Any] = {
            "title": "The popular one",
            "description": "One on-sale for everyone at once.",
            "capacity": self.config.seats,
            "starts_at": self.t0 + timedelta(days=30),
        }
        if self.config.seat_shards is not None:
            fields["seat_shards"] = self.config.seat_shards
        if self.config.design == "queue":
            fields["sales_open_at"] = self.t0 + timedelta(seconds=self.config.opening)
        self.event = event_service.create_event(bootstrap.events(), creator, fields)
        self.book = booking_service.book
        # Today's code has no admission; the queue design's booking needs one once the sales have opened.
        self.admission = "admission" in inspect.signature(booking_service.book).parameters
        self.events, self.bookings, self.records = bootstrap.events(), bootstrap.bookings(), bootstrap.idempotency()
        self.terms = bootstrap.payment_terms()
        if self.config.design == "queue":
            from chalicelib.domain.queue import LATE_SHARDS, admission_rate
            from chalicelib.services.queue import Queue

            settings = bootstrap.settings()
            self.admissions = bootstrap.admission
            # The real service over the metered store, one process's caches (a fleet of Lambda instances would
            # each read the event once a second: a few hundred eventually consistent reads a second at most).
            self.queue = Queue(
                _MeteredQueue(self),
                self.events,
                bootstrap.signing_keys(),
                max_rate=settings.queue_max_admissions_per_second,
                admission_seconds=settings.admission_seconds,
                clock=self._clock,
                jitter=self.rng.random,
                late_shard=lambda: self.rng.randrange(LATE_SHARDS),
            )
            self.rate = admission_rate(self.event, settings.queue_max_admissions_per_second)

    def _clock(self) -> Any:
        """The simulated instant as the app's clock (common.utcnow during the run)."""
        from datetime import timedelta

        return self.t0 + timedelta(seconds=self.scheduler.now)

    # -- one request (on a worker: the real code, simulated time) ----------------------------------------------

    def _book_once(self, person: Person) -> tuple[int, str | None, float | None]:
        from chalicelib.budget import request_budget
        from chalicelib.errors import DomainError
        from chalicelib.http.responses import error_response
        from chalicelib.services.bookings import IdempotentRequest

        request = IdempotentRequest(key=f"key-{person.index:06d}", payload={"waitlist": False})
        extra: dict[str, Any] = {}
        if self.admission:
            extra["admission"] = self.admissions(person.admission) if self.queue is not None else None
        with request_budget():
            try:
                self.book(
                    self.events,
                    self.bookings,
                    self.records,
                    person.principal,
                    self.event.id,
                    waitlist=False,
                    request=request,
                    terms=self.terms,
                    **extra,
                )
                return 201, None, None
            except DomainError as exc:
                response = error_response(exc)
                body = json.loads(response.body)
                wait = response.headers.get("Retry-After")
                # A 503 says no code: its kind (Busy, contention; ServiceUnavailable, throttling) is the label.
                code = body.get("code") or (type(exc).__name__ if response.status_code == 503 else None)
                return response.status_code, code, float(wait) if wait is not None else None

    # -- people ------------------------------------------------------------------------------------------------

    def _arrive(self, person: Person) -> None:
        self.arrived += 1
        if self.config.design == "today":
            start = person.arrival
            if start < self.config.opening:
                start = self.config.opening + self.rng.random()  # they press book when it opens
            self.scheduler.at(start, lambda: self._attempt(person))
            return
        self._ask_queue(person, join=True)

    def _ask_queue(self, person: Person, *, join: bool) -> None:
        """A join or a status poll through services.queue, and what the web app does with the answer: book once
        admitted (unless sold out), ask again after `poll_after_seconds`, leave when told it is sold out."""
        from chalicelib.errors import DomainError

        tally = self.tally
        tally.queue_calls += 1
        try:
            if join:
                status, _ = self.queue.join(person.principal, self.event.id)
            else:
                status = self.queue.status(person.principal, self.event.id)
        except DomainError:
            # web/app/queue.js: a transient failure waits at least RETRY_MS (5 s) before the next poll.
            tally.queue_refusals += 1
            self.scheduler.after(5.0, lambda: self._ask_queue(person, join=join))
            return
        if status.sold_out:
            tally.refused_by_queue += 1
            return
        if status.admitted:
            person.admission = status.admission
            if person.first_request is None:
                tally.admitted += 1
                if tally.first_admission is None:
                    tally.first_admission = self.scheduler.now
            self._attempt(person)
            return
        self.scheduler.after(status.poll_after_seconds, lambda: self._ask_queue(person, join=False))

    def _attempt(self, person: Person) -> None:
        now = self.scheduler.now
        if person.first_request is None:
            person.first_request = now
        person.attempts += 1
        self.scheduler.spawn(
            lambda: self._book_once(person), lambda result, error: self._answered(person, now, result, error)
        )

    def _answered(self, person: Person, started: float, result: Any, error: BaseException | None) -> None:
        now = self.scheduler.now
        tally = self.tally
        tally.request_latencies.append(now - started)
        if error is not None:
            tally.answer("500")
            if len(tally.errors) < 3:
                tally.errors.append(f"{type(error).__name__}: {error}")
            return
        status, code, wait = result
        tally.answer(f"{status} {code}" if code else str(status))
        if status == 201:
            tally.sold += 1
            tally.sale_times.append(now)
            if person.attempts > 1:
                tally.retried_then_booked += 1
            assert person.first_request is not None
            tally.booking_latencies.append(now - person.first_request)
            return
        if tally.sold < self.config.seats:
            tally.refused_while_left += 1
        if code == "admission_required" and self.queue is not None:
            self._ask_queue(person, join=False)  # web/app/pages/event.js: book again with a fresh admission
        elif status in (429, 503) or (status == 409 and wait is not None):
            self.scheduler.after(wait if wait is not None else 1.0, lambda: self._attempt(person))

    # -- the run -----------------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        import contextlib
        import io
        from datetime import UTC, datetime

        from bench.hot_event_clock import simulated_time

        config = self.config
        started = self.started = time.perf_counter()
        # The app's clock at simulated 0: whole seconds, as the admission tokens count them.
        self.t0 = datetime.now(UTC).replace(microsecond=0)
        with contextlib.redirect_stdout(io.StringIO()), _app_clock(self._clock):
            self._setup()
            for index in range(config.arrivals):
                person = Person(index, self.rng.random() * config.window)
                self.scheduler.at(person.arrival, lambda p=person: self._arrive(p))
            self.scheduler.at(1.0, self._progress)
            with simulated_time(self.scheduler):
                finished = self.scheduler.run(until=config.horizon)
            store = self._store_counts()
        return self._figures(store, finished, time.perf_counter() - started)

    def _progress(self) -> None:
        # On stderr, which the parent shows only when a run fails: where a slow run spends its simulated time.
        calls = sum(self.stand_in.calls.values())
        print(
            f"t={self.scheduler.now:.0f}s sold={self.tally.sold} calls={calls} conflicts={self.stand_in.conflicts} "
            f"workers={self.scheduler.workers} real={time.perf_counter() - self.started:.0f}s "
            f"{dict(self.stand_in.calls)} throttles={self.stand_in.throttles} {self.tally.statuses}",
            file=sys.stderr,
            flush=True,
        )
        if self.tally.sold < self.config.seats and self.scheduler.pending():
            self.scheduler.after(1.0, self._progress)

    def _store_counts(self) -> dict[str, int]:
        """What the store holds at the end, read from moto directly: the bookings and the event's counter."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        from chalicelib.persistence.models.bookings import BookingModel

        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        table = backend.get_table(BookingModel.Meta.table_name)
        confirmed = 0
        for item in table.all_items():
            attrs = item.attrs
            if attrs["event_id"].value == self.event.id and attrs["status"].value in ("confirmed", "pending_payment"):
                confirmed += 1
        event = self.events.get(self.event.id)
        assert event is not None
        return {"bookings": confirmed, "counter": event.seats_booked}

    def _figures(self, store: dict[str, int], finished: bool, real_seconds: float) -> dict[str, Any]:
        config, tally, stand_in = self.config, self.tally, self.stand_in
        opening = config.opening
        sold_out = tally.sold >= config.seats
        last = tally.sale_times[-1] if tally.sale_times else opening
        end = last if sold_out else self.scheduler.now
        selling = max(end - opening, 1e-9)
        per_second = tally.sold / selling
        return {
            "config": asdict(config),
            "sold": tally.sold,
            "sold_out": sold_out,
            "finished": finished,
            "simulated_seconds": self.scheduler.now,
            "time_to_sell_out": last - opening if sold_out else None,
            "extrapolated_sell_out": config.seats / per_second if per_second > 0 else None,
            "per_second": per_second,
            "store_bookings": store["bookings"],
            "store_counter": store["counter"],
            "oversold": max(0, store["bookings"] - config.seats, store["counter"] - config.seats),
            "booking_p50_ms": _percentile(tally.booking_latencies, 0.50) * 1000,
            "booking_p99_ms": _percentile(tally.booking_latencies, 0.99) * 1000,
            "request_p50_ms": _percentile(tally.request_latencies, 0.50) * 1000,
            "request_p99_ms": _percentile(tally.request_latencies, 0.99) * 1000,
            "refused_while_left": tally.refused_while_left,
            "refused_by_queue": tally.refused_by_queue,
            "retried_then_booked": tally.retried_then_booked,
            "admitted": tally.admitted,
            "first_admission": tally.first_admission,
            "admission_rate": self.rate,
            "seat_shards": self.event.seat_shards if hasattr(self.event, "seat_shards") else 1,
            "queue_calls": tally.queue_calls,
            "queue_refusals": tally.queue_refusals,
            "statuses": tally.statuses,
            "conflicts": stand_in.conflicts,
            "throttles": stand_in.throttles,
            "throttled": dict(stand_in.throttled),
            "write_units": stand_in.write_units,
            "read_units": stand_in.read_units,
            "wcu_per_booking": stand_in.write_units / tally.sold if tally.sold else None,
            "calls": dict(stand_in.calls),
            "errors": tally.errors,
            "admission_parameter": self.admission,
            "workers": self.scheduler.workers,
            "real_seconds": real_seconds,
        }


@contextmanager
def _app_clock(clock: Callable[[], Any]) -> Iterator[None]:
    """common.utcnow is `clock` (the simulated instant): the queue's opening and the admission's expiry are
    checked against it. Modules that import utcnow by name during the run take this one too."""
    from chalicelib.domain import common

    real = common.utcnow
    common.utcnow = clock
    try:
        yield
    finally:
        common.utcnow = real


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# -- the wire: botocore -> stand-in -> moto ---------------------------------------------------------------------


def _stand_in(rng: Any, per_item: bool) -> Any:
    """The stand-in over moto's tables: their keys and indexes as DescribeTable gives them."""
    import random

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from bench.hot_event_store import Limits, StandIn, TableSchema
    from chalicelib.persistence.models import all_models
    from chalicelib.persistence.pynamodb_private import client_of

    schemas = {}
    for model in all_models():
        described = client_of(model).describe_table(TableName=model.Meta.table_name)["Table"]
        schemas[described["TableName"]] = TableSchema(
            *_keys(described["KeySchema"]),
            indexes=tuple(
                (index["IndexName"], *_keys(index["KeySchema"]))
                for index in described.get("GlobalSecondaryIndexes", [])
            ),
        )
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]

    def images(table: str, key: dict[str, Any]) -> Any:
        item = backend.get_item(table, key)
        if item is None:
            return None
        return item.size(), {name: str(v.value) for name, v in item.attrs.items() if v.type in ("S", "N", "B")}

    return StandIn(schemas, images, Limits(per_item=per_item), rng=random.Random(rng.random()))


def _keys(schema: list[dict[str, str]]) -> tuple[str, str | None]:
    hash_key = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
    range_key = next((k["AttributeName"] for k in schema if k["KeyType"] == "RANGE"), None)
    return hash_key, range_key


def _wire(stand_in: Any) -> None:
    """Put the stand-in between every DynamoDB client pynamodb makes and moto: it answers in place of moto's
    own handler (botocore calls every before-send handler, so moto's is taken off and called from here)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.core.models import botocore_stubber
    from moto.dynamodb.models import dynamodb_backends

    from bench.hot_event_clock import _local, in_worker
    from chalicelib.persistence.pynamodb_private import on_every_client

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    reads: dict[tuple[str, Any], tuple[int, dict[str, str], bytes]] = {}

    def before_send(request: Any, **kwargs: Any) -> Any:
        if not in_worker():
            return botocore_stubber("before-send", request)
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".", 1)[-1]
        body = json.loads(request.body) if request.body else {}
        scheduler = _local.worker.scheduler
        decision = stand_in.decide(operation, body, scheduler.now)
        scheduler.sleep(decision.latency)
        if decision.code is not None:
            return _error(request, decision)
        if operation not in READS:
            reads.clear()
            return botocore_stubber("before-send", request)
        fast = _fast_read(backend, operation, body, decision.unprocessed)
        if fast is not None:
            return _response(request, 200, _JSON_HEADERS, json.dumps(fast).encode())
        # The same read of an unchanged store gets the same answer: moto's is kept until the next write.
        answer = reads.get((operation, request.body))
        if answer is None:
            response = botocore_stubber("before-send", request)
            answer = reads[(operation, request.body)] = (response.status_code, dict(response.headers), response.content)
        return _response(request, *answer)

    def register(client: Any) -> None:
        client.meta.events.unregister("before-send", botocore_stubber)
        client.meta.events.register_first("before-send.dynamodb", before_send)

    on_every_client(register)
    _item_level_rollback()


_JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "hot-event"}


def _fast_read(
    backend: Any, operation: str, body: dict[str, Any], unprocessed: dict[str, list[dict[str, Any]]] | None = None
) -> dict[str, Any] | None:
    """A GetItem or BatchGetItem without a projection, answered from moto's tables directly: moto's own answer
    is the same items through its generic serializer, which took most of a run's time (14 ms for a BatchGetItem
    of 32 counters). `unprocessed` (the stand-in's) are left out and returned as such. None: let moto answer."""
    if operation == "GetItem":
        if "ProjectionExpression" in body or "AttributesToGet" in body:
            return None
        item = backend.get_item(body["TableName"], body["Key"])
        return {"Item": item.to_json()["Attributes"]} if item is not None else {}
    if operation == "BatchGetItem":
        responses, left = {}, unprocessed or {}
        for table, spec in body["RequestItems"].items():
            if "ProjectionExpression" in spec or "AttributesToGet" in spec:
                return None
            keys = [key for key in spec["Keys"] if key not in left.get(table, ())]
            found = (backend.get_item(table, key) for key in keys)
            responses[table] = [item.to_json()["Attributes"] for item in found if item is not None]
        others = {table: {**body["RequestItems"][table], "Keys": keys} for table, keys in left.items()}
        return {"Responses": responses, "UnprocessedKeys": others}
    return None


def _item_level_rollback() -> None:
    """moto backs a transaction up by deep-copying every table it touches, which with the run's 10,000s of items
    costs a tenth of a second a transaction and grows; the same rollback, of the touched items only."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import Table

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    original = backend.transact_write_items

    def transact_write_items(transact_items: list[dict[str, Any]]) -> None:
        import copy

        backups = []
        for entry in transact_items:
            ((_, spec),) = entry.items()
            table = backend.get_table(spec["TableName"])
            names = [name for name in (table.hash_key_attr, table.range_key_attr) if name]
            key = spec.get("Key") or {name: spec["Item"][name] for name in names}
            hash_key, range_key = backend.get_keys_value(table, key)
            backups.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
        Table.__deepcopy__ = lambda self, memo: self  # type: ignore[attr-defined]
        try:
            original(transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(backups):
                if range_key is None:
                    table.items.pop(hash_key, None) if item is None else table.items.__setitem__(hash_key, item)
                elif item is None:
                    table.items.get(hash_key, {}).pop(range_key, None)
                else:
                    table.items[hash_key][range_key] = item
            raise
        finally:
            del Table.__deepcopy__  # type: ignore[attr-defined]

    backend.transact_write_items = transact_write_items


def _error(request: Any, decision: Any) -> Any:
    body: dict[str, Any] = {"__type": f"com.amazonaws.dynamodb.v20120810#{decision.code}", "message": decision.message}
    if decision.reasons is not None:
        body["CancellationReasons"] = [
            {"Code": code} if code == "None" else {"Code": code, "Message": decision.message}
            for code in decision.reasons
        ]
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "hot-event"}
    return _response(request, 400, headers, json.dumps(body).encode())


def _response(request: Any, status: int, headers: dict[str, str], body: bytes) -> Any:
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    return AWSResponse(request.url, status, headers, MockRawResponse(body))


# -- both designs, the table and the line -------------------------------------------------------------------------


def _start_design(config: Config, code: Path | None) -> subprocess.Popen[str]:
    """One design in a fresh process, with `code` (a folder holding chalicelib) first on its path."""
    command = [sys.executable, "-m", "bench.hot_event", "--one", json.dumps(asdict(config))]
    if code is not None:
        command += ["--code", str(code)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _figures_of(config: Config, process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the {config.design} simulation failed:\n{err[-3000:]}")
    return dict(json.loads(out.strip().splitlines()[-1]))


def _today_code(folder: Path) -> Path | None:
    """The chalicelib of TODAY_COMMIT unpacked into `folder`; None when git or the commit is not there."""
    import io
    import shutil
    import tarfile

    git = shutil.which("git")
    if git is None:
        return None
    archive = subprocess.run(
        [git, "-C", str(ROOT), "archive", TODAY_COMMIT, "chalicelib"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def compare(config: Config, today: Config, code: Path | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The queue design on `code` (default the working tree) and today's design, each in its own process."""
    # Both at once, one per core: each is one thread at a time.
    running = _start_design(config, code)
    with tempfile.TemporaryDirectory(prefix="hot-event-today-") as folder:
        today_code = _today_code(Path(folder))
        before = _start_design(today, today_code) if today_code is not None else None
        current = _figures_of(config, running)
        if before is None:
            return current, {**RECORDED_TODAY, "recorded": RECORDED_TODAY_DATE or "never"}
        return current, _figures_of(today, before)


def table(current: dict[str, Any], today: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, queue design, today's design, target) rows."""
    return [
        (
            "design",
            f"working tree: {current['seat_shards']} seat counters, queue admitting {current['admission_rate']:,.0f}/s",
            f"commit {TODAY_COMMIT}, no queue" + (f" (recorded {today['recorded']})" if "recorded" in today else ""),
            "",
        ),
        ("bookings/s sustained", f"{current['per_second']:,.0f}", _per_second(today), f">= {TARGET_PER_SECOND:,.0f}"),
        (
            "time to sell out (simulated)",
            _sell_out(current),
            _sell_out(today),
            f"< {TARGET_SELL_OUT_SECONDS:.0f} s",
        ),
        ("oversold", str(current["oversold"]), _get(today, "oversold"), "0"),
        (
            "admitted bookings, first request to 201: p50 / p99",
            _latency(current),
            _latency(today),
            f"p99 < {TARGET_P99_MS:,.0f} ms",
        ),
        (
            "refused while seats left (any non-201)",
            f"{current['refused_while_left']:,}",
            _get(today, "refused_while_left", "{:,}"),
            "0 (the queue's own aside)",
        ),
        (
            "  of which then booked (after Retry-After)",
            f"{current['retried_then_booked']:,}",
            _get(today, "retried_then_booked", "{:,}"),
            "",
        ),
        ("told sold out by the queue", f"{current['refused_by_queue']:,}", "-", ""),
        ("queue calls (joins and polls)", f"{current['queue_calls']:,}", "-", ""),
        ("transaction conflicts", f"{current['conflicts']:,}", _get(today, "conflicts", "{:,}"), ""),
        ("throttled requests", _throttles(current), _throttles(today), ""),
        ("WCU per booking (all writes / seats sold)", _wcu(current), _wcu(today), ""),
        ("answers", _answers(current), _answers(today), ""),
    ]


def _default_cap() -> float:
    """The deployed default of QUEUE_MAX_ADMISSIONS_PER_SECOND."""
    from chalicelib.settings import Settings

    return float(Settings._field_defaults["queue_max_admissions_per_second"])


def verdicts(current: dict[str, Any]) -> list[str]:
    """The targets, met or missed, for the queue design."""
    sell_out = current["time_to_sell_out"]
    checks = [
        (
            sell_out is not None and sell_out < TARGET_SELL_OUT_SECONDS,
            f"all seats sold in < {TARGET_SELL_OUT_SECONDS:.0f} s",
        ),
        (current["per_second"] >= TARGET_PER_SECOND, f">= {TARGET_PER_SECOND:,.0f} bookings/s sustained"),
        (current["oversold"] == 0, "0 oversold"),
        (current["refused_while_left"] == 0, "no request refused while seats remained, except by the queue"),
        (current["booking_p99_ms"] < TARGET_P99_MS, f"p99 < {TARGET_P99_MS:,.0f} ms for admitted bookings"),
    ]
    return [f"{'met' if ok else 'MISSED'}: {text}" for ok, text in checks]


def summary(current: dict[str, Any]) -> str:
    """The last line."""
    return (
        f"hot event: {current['per_second']:.0f} bookings/s sustained, oversold {current['oversold']}, "
        f"p99 {current['booking_p99_ms']:.0f} ms, refused while seats left {current['refused_while_left']}"
    )


def _get(figures: dict[str, Any], name: str, spec: str = "{}") -> str:
    value = figures.get(name)
    return spec.format(value) if value is not None else "-"


def _per_second(figures: dict[str, Any]) -> str:
    if "per_second" not in figures:
        return "-"
    text = f"{figures['per_second']:,.0f}"
    return (
        text
        if figures.get("sold_out")
        else f"{text} (first {figures['simulated_seconds'] - figures['config']['opening']:.0f} s)"
    )


def _sell_out(figures: dict[str, Any]) -> str:
    if figures.get("time_to_sell_out") is not None:
        return f"{figures['time_to_sell_out']:.1f} s"
    if figures.get("extrapolated_sell_out") is None:
        return "-"
    return (
        f"{figures['sold']:,} sold in {figures['simulated_seconds'] - figures['config']['opening']:.0f} s; "
        f"about {figures['extrapolated_sell_out']:,.0f} s at that rate"
    )


def _latency(figures: dict[str, Any]) -> str:
    if "booking_p50_ms" not in figures:
        return "-"
    return f"{figures['booking_p50_ms']:,.0f} / {figures['booking_p99_ms']:,.0f} ms"


def _throttles(figures: dict[str, Any]) -> str:
    if "throttles" not in figures:
        return "-"
    where = ", ".join(f"{name}: {n:,}" for name, n in sorted((figures.get("throttled") or {}).items()))
    return f"{figures['throttles']:,}" + (f" ({where})" if where else "")


def _wcu(figures: dict[str, Any]) -> str:
    value = figures.get("wcu_per_booking")
    return f"{value:.1f}" if value is not None else "-"


def _answers(figures: dict[str, Any]) -> str:
    statuses = figures.get("statuses") or {}
    return ", ".join(f"{label}: {n:,}" for label, n in sorted(statuses.items(), key=lambda kv: -kv[1]))


def print_report(current: dict[str, Any], today: dict[str, Any]) -> None:
    """The table, the verdicts, then the one line."""
    rows = table(current, today)
    header = ("measure", "queue design", "today's design", "target")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    config = current["config"]
    print(
        f"\n{config['arrivals']:,} arrivals over {config['window']:.0f} s, sales open at {config['opening']:.0f} s, "
        f"{config['seats']:,} seats, seed {config['seed']}; simulated {current['simulated_seconds']:.1f} s in "
        f"{current['real_seconds']:.0f} s (today's: {today.get('real_seconds', 0):.0f} s)"
    )
    print(
        f"queue: admission_rate = {current['admission_rate']:,.0f}/s from the code ({current['seat_shards']} seat "
        f"counters), QUEUE_MAX_ADMISSIONS_PER_SECOND={config['queue_cap']:,.0f} for the run\n"
        f"(default {_default_cap():,.0f}); "
        f"today's design: {today.get('config', {}).get('arrivals', 0):,} arrivals, "
        f"{today.get('simulated_seconds', 0) - config['opening']:.0f} s of sale"
    )
    for line in verdicts(current):
        print(line)
    for figures in (current, today):
        for error in figures.get("errors") or []:
            print(f"unexpected error ({figures['config']['design']}): {error}")
    print(summary(current))


def bench_rows() -> list[tuple[str, str, str]]:
    """make bench's rows: the default run of both designs, in (measure, value, target) form."""
    config = Config()
    today = replace(config, design="today", arrivals=TODAY_ARRIVALS, horizon=config.opening + TODAY_SECONDS)
    current, before = compare(config, today)
    met = verdicts(current)
    name = f"hot event ({config.arrivals:,} arrivals, {config.seats:,} seats; python -m bench.hot_event)"
    return [
        (
            f"{name}: bookings/s sustained, queue design; today's",
            f"{current['per_second']:,.0f}; {_per_second(before)}",
            met[1],
        ),
        (f"{name}: time to sell out (simulated), queue design", _sell_out(current), met[0]),
        (f"{name}: oversold", str(current["oversold"]), met[2]),
        (f"{name}: refused while seats left", f"{current['refused_while_left']:,}", met[3]),
        (f"{name}: admitted bookings p50 / p99", _latency(current), met[4]),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hot_event", description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrivals", type=int, default=Config.arrivals)
    parser.add_argument("--seats", type=int, default=Config.seats)
    parser.add_argument(
        "--full", action="store_true", help="the issue's 100,000 arrivals for 10,000 seats (the default already)"
    )
    parser.add_argument(
        "--queue-cap", type=float, default=Config.queue_cap, help="QUEUE_MAX_ADMISSIONS_PER_SECOND for the run"
    )
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--seat-shards", type=int, default=None, help="the event's seat_shards (working tree only)")
    parser.add_argument("--per-item", action="store_true", help="each item a partition of its own")
    parser.add_argument("--today-arrivals", type=int, default=TODAY_ARRIVALS, help="arrivals of today's design")
    parser.add_argument("--today-seconds", type=float, default=TODAY_SECONDS, help="its simulated seconds of sale")
    parser.add_argument("--code", type=Path, default=None, help="a folder holding the chalicelib to run")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a Config as JSON: run it here, print its figures
    args = parser.parse_args(argv)
    if args.one is not None:
        if args.code is not None:
            sys.path.insert(0, str(args.code.resolve()))
        print(json.dumps(simulate(Config(**json.loads(args.one)))))
        return
    config = Config(
        arrivals=FULL_ARRIVALS if args.full else args.arrivals,
        seats=FULL_SEATS if args.full else args.seats,
        queue_cap=args.queue_cap,
        seed=args.seed,
        seat_shards=args.seat_shards,
        per_item=args.per_item,
    )
    today = replace(config, design="today", arrivals=args.today_arrivals, horizon=config.opening + args.today_seconds)
    current, today_figures = compare(config, today, args.code)
    if args.json:
        print(json.dumps({"queue": current, "today": today_figures}))
        return
    print_report(current, today_figures)


if __name__ == "__main__":
    main()
