"""Throttle counters on DynamoDB, shared by every Lambda instance.

Two ways of counting. Requests limited as such (a sign-up, a reset) are counted *before* the work they limit, by
a conditional update that only succeeds while the window has room, so parallel requests can never overrun a
limit between a read and a write. Password checks count only *failures*, once they happened: an attempt first
takes a short lease on its (username, client) counter (conditional: one check at a time per pair, and none
while the pair is locked), and its verdict is written when it releases the lease. A check that never reached a
verdict (the store failed, the function died) counts nothing, and its lease lapses by itself.

Each counter is one UpdateItem, not a transaction over all the counters of a request: a counter can be hot
(every sign-in from one office's address), and DynamoDB refuses transactions that overlap on an item
(TransactionConflict), where single-item updates on it simply queue up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.exceptions import DeleteError

from chalicelib.errors import ServiceUnavailable
from chalicelib.persistence.common import epoch, get_or_none, update_if
from chalicelib.persistence.errors import error_code, translate_errors
from chalicelib.persistence.models.counters import CounterModel
from chalicelib.ports.throttling import Quota, QuotaExceeded, Verdict, Window

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pynamodb.expressions.condition import Condition
    from pynamodb.expressions.update import Action

ATTEMPTS = 3


def _count(quota: Quota, now: int) -> list[Action]:
    # A window opens at the first use: a new (or restarted) counter takes the end it is given here.
    return [
        CounterModel.hits.add(1),
        CounterModel.expires_at.set(CounterModel.expires_at | epoch(now + quota.rate.seconds)),
    ]


def _has_room(quota: Quota, now: int) -> Condition:
    # An ended window that TTL has not deleted yet fails this too; `_settle` restarts it.
    open_window = (CounterModel.hits < quota.rate.count) & (CounterModel.expires_at > epoch(now))
    condition: Condition = CounterModel.key.does_not_exist() | open_window
    return condition


class DynamoCounters:
    """Implements ports.Counters."""

    def take(self, quotas: Sequence[Quota], now: int) -> None:
        taken: list[Quota] = []
        try:
            for quota in quotas:
                self._take(quota, now)
                taken.append(quota)
        except BaseException:
            self.give_back(taken, now)  # all or none
            raise

    def _take(self, quota: Quota, now: int) -> None:
        for _ in range(ATTEMPTS):
            if update_if(CounterModel(key=quota.key), _count(quota, now), _has_room(quota, now)):
                return
            wait = self._settle(quota, now)
            if wait:
                raise QuotaExceeded(wait)
        raise ServiceUnavailable()

    def _settle(self, quota: Quota, now: int) -> int:
        """Seconds until `quota`'s used-up window ends; 0 when it had room after all or its window had ended
        (then restarted here, unless another request did), so that taking it again may succeed."""
        item = get_or_none(CounterModel, quota.key)
        if item is None:
            return 0
        end = int(item.expires_at.timestamp()) if item.expires_at else 0
        if end > now:
            return end - now if item.hits >= quota.rate.count else 0
        unchanged: Condition = CounterModel.expires_at.does_not_exist()
        if item.expires_at is not None:
            unchanged = CounterModel.expires_at == item.expires_at
        restart = [CounterModel.hits.set(0), CounterModel.expires_at.set(epoch(now + quota.rate.seconds))]
        update_if(CounterModel(key=quota.key), restart, unchanged)
        return 0

    def give_back(self, quotas: Sequence[Quota], now: int) -> None:
        # Windows that ended meanwhile start from zero anyway: give back only in the others.
        counted = CounterModel.key.exists() & (CounterModel.hits > 0) & (CounterModel.expires_at > epoch(now))
        for quota in quotas:
            update_if(CounterModel(key=quota.key), [CounterModel.hits.add(-1)], counted)

    def peek(self, keys: Sequence[str], now: int) -> dict[str, Window]:
        if not keys:
            return {}
        with translate_errors():
            items = list(CounterModel.batch_get(list(dict.fromkeys(keys)), consistent_read=True))
        windows = {}
        for item in items:
            ends = int(item.expires_at.timestamp()) if item.expires_at else 0
            if ends > now:  # TTL deletion lags: an ended window is no window
                windows[item.key] = Window(hits=int(item.hits or 0), ends=ends)
        return windows

    def count(self, quotas: Sequence[Quota], now: int) -> None:
        for quota in quotas:
            self._add(quota, now)

    def _add(self, quota: Quota, now: int, lease: int | None = None) -> bool:
        """One more use in the open window (or a new counter's first), or the first of a new window once it
        ended; with `lease`, only while that lease is held, and releasing it (False, having written nothing,
        when it is not held any more)."""
        item = CounterModel(key=quota.key)
        end = epoch(now + quota.rate.seconds)
        open_or_new = CounterModel.key.does_not_exist() | (CounterModel.expires_at > epoch(now))
        ended = CounterModel.expires_at <= epoch(now)
        count = [CounterModel.hits.add(1), CounterModel.expires_at.set(CounterModel.expires_at | end)]
        restart = [CounterModel.hits.set(1), CounterModel.expires_at.set(end)]
        also: list[Action] = []
        if lease is not None:
            held = CounterModel.lease_until == lease
            open_or_new, ended, also = open_or_new & held, ended & held, [CounterModel.lease_until.remove()]
        for _ in range(ATTEMPTS):
            if update_if(item, [*count, *also], open_or_new):
                return True
            if update_if(item, [*restart, *also], ended):
                return True
            if lease is not None:
                current = get_or_none(CounterModel, quota.key)
                if current is None or current.lease_until != lease:
                    return False
            # Otherwise the window ended between the two tries: again.
        raise ServiceUnavailable()

    def mark(self, key: str, seconds: int, now: int) -> None:
        with translate_errors():
            CounterModel(key=key, hits=1, expires_at=epoch(now + seconds)).save()

    def lease(self, quota: Quota, until: int, now: int) -> None:
        item = CounterModel(key=quota.key)
        free = CounterModel.lease_until.does_not_exist() | (CounterModel.lease_until <= now)
        room = (
            CounterModel.key.does_not_exist()
            | (CounterModel.hits < quota.rate.count)
            | (CounterModel.expires_at <= epoch(now))
        )
        # One UpdateItem whatever the counter's state: a new counter gets a window (its TTL then covers the
        # lease); an ended window is restarted by the failure that follows, if any (release).
        hold = [
            CounterModel.lease_until.set(until),
            CounterModel.hits.add(0),
            CounterModel.expires_at.set(CounterModel.expires_at | epoch(now + quota.rate.seconds)),
        ]
        for _ in range(ATTEMPTS):
            if update_if(item, hold, free & room):
                return
            current = get_or_none(CounterModel, quota.key)
            if current is None:
                continue
            end = int(current.expires_at.timestamp()) if current.expires_at else 0
            if end > now and int(current.hits or 0) >= quota.rate.count:
                raise QuotaExceeded(end - now)
            leased = int(current.lease_until or 0)
            if leased > now:
                raise QuotaExceeded(leased - now)
        raise ServiceUnavailable()

    def release(self, quota: Quota, lease: int, verdict: Verdict, now: int) -> None:
        # Only this attempt's lease is released: one that lapsed and was taken by another attempt is theirs.
        item = CounterModel(key=quota.key)
        held = CounterModel.lease_until == lease
        if verdict is Verdict.FAILED:
            if not self._add(quota, now, lease):
                self._add(quota, now)  # our lease lapsed meanwhile: the failure counts all the same
        elif verdict is Verdict.SUCCEEDED:
            with translate_errors():
                try:
                    item.delete(condition=held)  # a right password clears the pair's failures
                except DeleteError as exc:
                    if error_code(exc) != "ConditionalCheckFailedException":
                        raise
        else:
            update_if(item, [CounterModel.lease_until.remove()], held)
