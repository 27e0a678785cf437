"""Throttle counters on DynamoDB, shared by every Lambda instance.

A use is counted *before* the work it limits (a password check, a sign-up) by a conditional update that only
succeeds while the window has room, so parallel requests can never overrun a limit between a read and a
write; uses that turn out not to count (a correct password) are given back afterwards.

Each counter is one UpdateItem, not a transaction over all the counters of a request: a counter can be hot
(every sign-in from one office's address), and DynamoDB refuses transactions that overlap on an item
(TransactionConflict), where single-item updates on it simply queue up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.errors import ServiceUnavailable
from chalicelib.persistence.common import epoch, get_or_none, update_if
from chalicelib.persistence.models.counters import CounterModel
from chalicelib.ports.throttling import Quota, QuotaExceeded

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
