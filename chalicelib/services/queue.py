"""The on-sale queue: joining an event's queue, one's place in it and the admission it gives once one's turn has
come, and the booking endpoint's check of that admission (the arithmetic is domain.queue's).

Costs: a join is a GetItem, one counter UpdateItem and one conditional PutItem; a status poll is one GetItem of
the caller's entry. The event (its opening, rate and seats) is kept per process for EVENT_CACHE_SECONDS, and the
early counters' counts as long while they can still move and for good once the opening has settled, so that
tens of thousands of visitors polling every few seconds read neither the event's item nor the counters each
time."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from chalicelib.domain import common
from chalicelib.domain.enums import EventStatus
from chalicelib.domain.queue import (
    EARLY,
    EARLY_SHARDS,
    LATE,
    LATE_SHARDS,
    SETTLE_SECONDS,
    QueueEntry,
    QueueStatus,
    admission_rate,
    early_shard,
    expected_wait,
    expires_at,
    poll_after,
    position,
    rank,
    served,
    sold_out,
)
from chalicelib.errors import AdmissionRequired, Conflict, NotFound, NotInQueue, PermissionDenied
from chalicelib.ids import is_valid_id
from chalicelib.ports.queue import EntryExists
from chalicelib.security.admission import EXPIRED, AdmissionError, issue_admission, verify_admission

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from chalicelib.domain.access import Principal
    from chalicelib.domain.events import Event
    from chalicelib.ports.events import EventRepository
    from chalicelib.ports.queue import QueueRepository
    from chalicelib.security.tokens import Keys

EVENT_CACHE_SECONDS = 1.0
# Events a process keeps at most (a popular on-sale is one event; the bound keeps a crawl from growing it).
CACHE_ENTRIES = 256
RANK_CONTEXT = b"queue-rank"
C = TypeVar("C", bound=dict[Any, Any])


class Admission(NamedTuple):
    """What a booking presents of the queue: the admission sent (None: none) and how to verify it."""

    token: str | None
    keys: Keys
    lifetime_seconds: int


def require_admission(event: Event, user_id: str, admission: Admission | None) -> None:
    """Refuse a booking at an event with a sales opening: before it (409 `sales_not_open`), and after it without
    a valid admission of this user for this event (403 `admission_required`, saying what was wrong)."""
    opens_at = event.sales_open_at
    if opens_at is None:
        return
    now = common.utcnow()
    if now < opens_at:
        raise Conflict(f"Sales for this event open at {common.iso(opens_at)}.", "sales_not_open")
    if admission is None or not admission.token:
        raise AdmissionRequired("An admission from this event's queue is required: none was sent.")
    try:
        claims = verify_admission(admission.token, admission.keys, admission.lifetime_seconds, now.timestamp())
    except AdmissionError as exc:
        if exc.reason == EXPIRED:
            raise AdmissionRequired(
                "An admission from this event's queue is required: the one sent has expired; ask the queue again."
            ) from exc
        raise AdmissionRequired("An admission from this event's queue is required: the one sent is invalid.") from exc
    if claims.event_id != event.id:
        raise AdmissionRequired("An admission from this event's queue is required: the one sent is for another event.")
    if claims.user_id != user_id:
        raise AdmissionRequired("An admission from this event's queue is required: the one sent is someone else's.")


class Queue:
    """The queues of every event, over their store, with the caches of one process."""

    def __init__(
        self,
        store: QueueRepository,
        events: EventRepository,
        keys: Keys,
        *,
        max_rate: float,
        admission_seconds: int,
        clock: Callable[[], datetime] | None = None,
        jitter: Callable[[], float] | None = None,
        late_shard: Callable[[], int] | None = None,
    ) -> None:
        self._store = store
        self._events = events
        self._keys = keys
        self._max_rate = max_rate
        self._admission_seconds = admission_seconds
        # Looked up at each call: tests fix the app's clock by replacing common.utcnow.
        self._clock = clock or (lambda: common.utcnow())
        self._jitter = jitter or random.random
        self._late_shard = late_shard or (lambda: random.randrange(LATE_SHARDS))
        self._event_cache: dict[str, tuple[datetime, Event | None]] = {}
        self._count_cache: dict[tuple[str, datetime], tuple[datetime, tuple[int, ...]]] = {}

    def join(self, principal: Principal, event_id: str) -> tuple[QueueStatus, bool]:
        """The caller's place in the event's queue, made on their first join (True) and the same on every later
        one (False). Open from publication until the event starts, before and after the opening."""
        now = self._clock()
        event = self._queued_event(event_id, principal, now)
        if event.creator == principal.user_id:
            raise PermissionDenied("You cannot book your own event.")
        started = event.starts_at is not None and event.starts_at <= now
        if event.status is not EventStatus.PUBLISHED or started:
            raise Conflict("This event is not open for booking.", "event_not_bookable")
        entry = self._store.entry(event.id, principal.user_id)
        if entry is not None:
            return self._status(event, entry, now), False
        entry = self._enter(event, principal.user_id, now)
        try:
            self._store.add(entry, expires_at(event))
        except EntryExists:
            # A concurrent join of the same user came first: theirs stands (this one's number is a gap).
            entry = self._store.entry(event.id, principal.user_id)
            assert entry is not None
            return self._status(event, entry, now), False
        return self._status(event, entry, now), True

    def status(self, principal: Principal, event_id: str) -> QueueStatus:
        """The caller's place, and their admission once their turn has come (a new one at each call)."""
        now = self._clock()
        event = self._queued_event(event_id, principal, now)
        entry = self._store.entry(event.id, principal.user_id)
        if entry is None:
            raise NotInQueue()
        return self._status(event, entry, now)

    def _queued_event(self, event_id: str, principal: Principal, now: datetime) -> Event:
        event = self._event(event_id, now) if is_valid_id(event_id) else None
        if event is None or not event.visible_to(principal):
            raise NotFound()
        if event.sales_open_at is None:
            raise Conflict("This event has no on-sale queue: book it directly.", "no_queue")
        return event

    def _enter(self, event: Event, user_id: str, now: datetime) -> QueueEntry:
        assert event.sales_open_at is not None
        early = now < event.sales_open_at
        if early:
            shard = early_shard(rank(self._rank_secret(), event.id, user_id))
        else:
            shard = self._late_shard()
        number = self._store.increment(event.id, EARLY if early else LATE, shard, expires_at(event))
        return QueueEntry(event.id, user_id, now, early, shard, number)

    def _rank_secret(self) -> bytes:
        signing = self._keys if isinstance(self._keys, bytes) else self._keys.current().secret
        return hmac.new(signing, RANK_CONTEXT, hashlib.sha256).digest()

    def _status(self, event: Event, entry: QueueEntry, now: datetime) -> QueueStatus:
        opens_at = event.sales_open_at
        assert opens_at is not None
        rate = admission_rate(event, self._max_rate)
        place = position(entry, self._early_counts(event.id, opens_at, now, entry))
        done = served(opens_at, rate, now)
        wait = expected_wait(opens_at, place, rate, now)
        token = expiry = None
        if place <= done:
            issued = int(now.timestamp())
            token = issue_admission(entry.user_id, event.id, self._admission_seconds, self._keys, issued)
            expiry = datetime.fromtimestamp(issued + self._admission_seconds, tz=UTC)
        return QueueStatus(
            event_id=event.id,
            position=place,
            ahead=max(place - 1 - done, 0),
            opens_at=opens_at,
            admitted=token is not None,
            admission=token,
            admission_expires_at=expiry,
            expected_wait_seconds=wait,
            sold_out=sold_out(event),
            poll_after_seconds=poll_after(wait, self._jitter()),
        )

    def _event(self, event_id: str, now: datetime) -> Event | None:
        cached = self._event_cache.get(event_id)
        if cached is not None and timedelta(0) <= now - cached[0] < timedelta(seconds=EVENT_CACHE_SECONDS):
            return cached[1]
        event = self._events.get(event_id)
        _bounded(self._event_cache)[event_id] = (now, event)
        return event

    def _early_counts(self, event_id: str, opens_at: datetime, now: datetime, entry: QueueEntry) -> Sequence[int]:
        if entry.early and entry.shard == 0:
            return ()  # the first shard's entrants come first: nobody's count is before theirs
        key = (event_id, opens_at)
        cached = self._count_cache.get(key)
        if cached is not None:
            read_at, counts = cached
            final = read_at >= opens_at + timedelta(seconds=SETTLE_SECONDS)
            if final or timedelta(0) <= now - read_at < timedelta(seconds=EVENT_CACHE_SECONDS):
                return counts
        counts = tuple(self._store.counts(event_id, EARLY, EARLY_SHARDS))
        _bounded(self._count_cache)[key] = (now, counts)
        return counts


def _bounded(cache: C) -> C:
    if len(cache) >= CACHE_ENTRIES:
        cache.clear()
    return cache
