"""Rate-limit counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from chalicelib.domain.limits import Rate


class QuotaExceeded(Exception):
    """A throttle's window is used up; it ends in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Quota:
    """One throttle counter: `rate.count` uses per window of `rate.seconds`, under `key`."""

    key: str
    rate: Rate


class Counters(Protocol):
    """Throttle counters shared by every instance of the API."""

    def take(self, quotas: Sequence[Quota], now: int) -> None:
        """Count one use of every quota, all or none; raises QuotaExceeded (with the seconds until the used-up
        window ends) when one is used up. A quota's window opens at its first use."""

    def give_back(self, quotas: Sequence[Quota], now: int) -> None:
        """Uncount a use taken at `now` (one that turned out not to count), in windows that have not ended."""
