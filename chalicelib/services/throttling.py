"""Throttles of the account endpoints over counters every instance shares (ports.Counters), answered with
DRF's 429. A use is counted before the work it limits, so a throttled request runs no bcrypt and parallel
requests cannot slip past a limit."""

from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain.users import identity
from chalicelib.errors import DomainError, Throttled
from chalicelib.ports.throttling import Counters, Quota, QuotaExceeded

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from chalicelib.domain.limits import RateLimits

MAX_IP = 64


def _digest(value: str) -> str:
    # Usernames and addresses can be long and are personal: counters are keyed by a digest of their identity
    # (so `ｕｓｅｒ` and `USER` share one counter with `user`).
    return hashlib.sha256(identity(value).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


class Attempt:
    """A password check under way: it stays counted only when it `failed()`."""

    def __init__(self) -> None:
        self.counted = False

    def failed(self) -> None:
        """The password was wrong (or the account unusable): this attempt counts against the limits."""
        self.counted = True


@dataclass(frozen=True)
class Guard:
    """The stage's rate limits over the shared counters."""

    counters: Counters
    limits: RateLimits

    def sign_in(self, username: str, client_ip: str) -> tuple[Quota, ...]:
        """Failed password checks of a username (however written) and of a client IP."""
        return (
            Quota(f"signin-user#{_digest(username)}", self.limits.sign_in_username),
            Quota(f"signin-ip#{client_ip[:MAX_IP]}", self.limits.sign_in_ip),
        )

    def sign_up(self, client_ip: str) -> tuple[Quota, ...]:
        """Sign-up requests of a client IP."""
        return (Quota(f"signup-ip#{client_ip[:MAX_IP]}", self.limits.sign_up_ip),)

    def reset(self, client_ip: str) -> tuple[Quota, ...]:
        """Password-reset requests of a client IP."""
        return (Quota(f"reset-ip#{client_ip[:MAX_IP]}", self.limits.reset_ip),)

    def reset_address(self, email: str) -> tuple[Quota, ...]:
        """Reset e-mails to one address, whether or not it has an account."""
        return (Quota(f"reset-email#{_digest(email)}", self.limits.reset_email),)

    def count(self, quotas: Sequence[Quota], now: int | None = None) -> None:
        """Count a request against `quotas`; Throttled, with nothing counted, when any is used up."""
        try:
            self.counters.take(quotas, _now(now))
        except QuotaExceeded as exc:
            raise Throttled(exc.retry_after) from exc

    def allows(self, quotas: Sequence[Quota], now: int | None = None) -> bool:
        """Count a use against `quotas` if they have room; False, counting nothing, when one is used up."""
        try:
            self.counters.take(quotas, _now(now))
        except QuotaExceeded:
            return False
        return True

    @contextmanager
    def password_check(self, quotas: Sequence[Quota], now: int | None = None) -> Iterator[Attempt]:
        """Count a password check before it runs (Throttled, and nothing runs, when a quota is used up). The
        check stays counted only when the block calls `failed()`; otherwise (success, or an outage that
        decided nothing) it is given back."""
        at = _now(now)
        self.count(quotas, at)
        attempt = Attempt()
        try:
            yield attempt
        finally:
            if not attempt.counted:
                try:
                    self.counters.give_back(quotas, at)
                except DomainError:
                    pass  # a refund that failed counts one good attempt against the limit; the answer stands
