"""Rate-limit counters."""

from __future__ import annotations

import enum
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


@dataclass(frozen=True)
class Window:
    """A counter's current window: the uses counted in it, and when it ends (Unix time)."""

    hits: int
    ends: int


class Verdict(enum.Enum):
    """How a password check ended: the password was wrong, right, or nothing was decided (an outage)."""

    FAILED = "failed"
    SUCCEEDED = "succeeded"
    UNDECIDED = "undecided"


class Counters(Protocol):
    """Throttle counters shared by every instance of the API."""

    def take(self, quotas: Sequence[Quota], now: int) -> None:
        """Count one use of every quota, all or none; raises QuotaExceeded (with the seconds until the used-up
        window ends) when one is used up. A quota's window opens at its first use."""

    def give_back(self, quotas: Sequence[Quota], now: int) -> None:
        """Uncount a use taken at `now` (one that turned out not to count), in windows that have not ended."""

    def peek(self, keys: Sequence[str], now: int) -> dict[str, Window]:
        """The open windows of these counters (or markers), read together; a key without one is absent."""

    def count(self, quotas: Sequence[Quota], now: int) -> None:
        """Count one use of each quota, whatever room is left (failures, counted once they happened): a window
        opens at its first use, a new one once it has ended."""

    def mark(self, key: str, seconds: int, now: int) -> None:
        """Keep a marker under `key` for `seconds` (peek shows it as an open window)."""

    def lease(self, quota: Quota, until: int, now: int) -> None:
        """Hold `quota`'s counter for one attempt until `until` at most (the lease's mark): raises QuotaExceeded
        when its window is used up, or while another attempt holds it (retry_after: when that lease lapses)."""

    def release(self, quota: Quota, lease: int, verdict: Verdict, now: int) -> None:
        """End the attempt holding `quota`'s counter with the lease `lease`: FAILED counts one use (even if the
        lease lapsed meanwhile), SUCCEEDED clears the counter, UNDECIDED leaves it as it was."""
