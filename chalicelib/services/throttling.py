"""Throttles of the account endpoints over counters every instance shares (ports.Counters), answered with
DRF's 429. A throttled request runs no bcrypt. Sign-ups and resets are counted before the work they limit, so
parallel requests cannot slip past a limit; password checks count only verdicts (see Guard.password_check)."""

from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib import metrics
from chalicelib.domain.users import identity
from chalicelib.errors import DomainError, ServiceUnavailable, Throttled
from chalicelib.ports.throttling import Counters, Quota, QuotaExceeded, Verdict

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from chalicelib.domain.limits import RateLimits

MAX_IP = 64
# How long a password check holds its (username, client) counter at most: longer than a check can take (a store
# call gives up within about 6 s), short enough that a check that died leaves no lasting lock.
LEASE_SECONDS = 15
# A client a username signed in from is known to it (never paced) for this long after.
KNOWN_SECONDS = 30 * 86_400


def _throttled(retry_after: int) -> Throttled:
    """The 429 of a refused request, counted (the Throttled metric)."""
    metrics.count(metrics.THROTTLED)
    return Throttled(retry_after)


def _digest(value: str) -> str:
    # Usernames and addresses can be long and are personal: counters are keyed by a digest of their identity
    # (so `ｕｓｅｒ` and `USER` share one counter with `user`).
    return hashlib.sha256(identity(value).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


class Attempt:
    """A password check under way: the caller says how it ended. Only a wrong password (or an account that
    cannot sign in) counts against the limits; a check that decided nothing (an outage) counts nothing."""

    def __init__(self) -> None:
        self.verdict = Verdict.UNDECIDED

    def failed(self) -> None:
        """The password was wrong (or the account unusable): this attempt counts against the limits."""
        self.verdict = Verdict.FAILED

    def succeeded(self) -> None:
        """The password was right: the client is known to the account from now on."""
        self.verdict = Verdict.SUCCEEDED


@dataclass(frozen=True)
class SignIn:
    """The counters of one username signing in from one client."""

    client: Quota  # failures of this username from this client: locks the pair
    username: Quota  # failures of this username from every client: paces clients it does not know
    paced: Quota  # attempts on this username from clients it does not know, while paced
    ip: Quota  # failures of this client, every username
    known: str  # the marker of a client this username signed in from


@dataclass(frozen=True)
class Guard:
    """The stage's rate limits over the shared counters."""

    counters: Counters
    limits: RateLimits

    def sign_in(self, username: str, client_ip: str) -> SignIn:
        """The counters of a username (however written) signing in from a client IP."""
        user, ip = _digest(username), client_ip[:MAX_IP]
        return SignIn(
            client=Quota(f"signin-client#{user}#{ip}", self.limits.sign_in_client),
            username=Quota(f"signin-user#{user}", self.limits.sign_in_username),
            paced=Quota(f"signin-paced#{user}", self.limits.sign_in_paced),
            ip=Quota(f"signin-ip#{ip}", self.limits.sign_in_ip),
            known=f"signin-known#{user}#{ip}",
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
            raise _throttled(exc.retry_after) from exc

    def allows(self, quotas: Sequence[Quota], now: int | None = None) -> bool:
        """Count a use against `quotas` if they have room; False, counting nothing, when one is used up."""
        try:
            self.counters.take(quotas, _now(now))
        except QuotaExceeded:
            return False
        return True

    @contextmanager
    def password_check(self, keys: SignIn, now: int | None = None) -> Iterator[Attempt]:
        """Run one password check under the sign-in limits (Throttled, and nothing runs, when they refuse it):

        - its (username, client) pair is locked after `sign_in_client` failures in a window: the lock is the
          pair's, so nobody elsewhere can lock an account's owner out; one check of a pair runs at a time (a
          lease), so parallel guesses cannot slip past the lock;
        - its client IP after `sign_in_ip` failures, whatever the usernames;
        - a username that failed `sign_in_username` times from all clients is paced, not locked: clients it
          never signed in from get `sign_in_paced` attempts (one per 30 s by default), and a client it signed in
          from within KNOWN_SECONDS is not paced at all.

        Only a verdict counts: a failure is counted once it happened, a success clears the pair and marks its
        client known, and a check that decided nothing (the store failed) counts nothing; the store is not
        asked again then (the lease lapses by itself within LEASE_SECONDS)."""
        at = _now(now)
        lease = at + LEASE_SECONDS
        try:
            self.counters.lease(keys.client, lease, at)
        except QuotaExceeded as exc:
            raise _throttled(exc.retry_after) from exc
        try:
            self._admit(keys, at)
        except Throttled:
            self._release(keys, lease, Verdict.UNDECIDED, at)
            raise
        attempt = Attempt()
        try:
            yield attempt
        except ServiceUnavailable:
            raise  # the store failed: waiting on it again would only make the answer later
        except BaseException:
            self._release(keys, lease, attempt.verdict, at)
            raise
        self._release(keys, lease, attempt.verdict, at)

    def _admit(self, keys: SignIn, at: int) -> None:
        windows = self.counters.peek([keys.ip.key, keys.username.key, keys.known], at)
        ip = windows.get(keys.ip.key)
        if ip is not None and ip.hits >= keys.ip.rate.count:
            raise _throttled(ip.ends - at)
        username = windows.get(keys.username.key)
        if username is not None and username.hits >= keys.username.rate.count and keys.known not in windows:
            self.count((keys.paced,), at)

    def _release(self, keys: SignIn, lease: int, verdict: Verdict, at: int) -> None:
        try:
            self.counters.release(keys.client, lease, verdict, at)
            if verdict is Verdict.FAILED:
                self.counters.count((keys.ip, keys.username), at)
            elif verdict is Verdict.SUCCEEDED:
                self.counters.mark(keys.known, KNOWN_SECONDS, at)
        except DomainError:
            pass  # the answer stands; what was not written is lenient (an uncounted failure), never stricter
