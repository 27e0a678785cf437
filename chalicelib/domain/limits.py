"""Rate limits: how often an action may be taken."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True)
class Rate:
    """At most `count` uses per window of `seconds`; a window opens at its first use, and once used up it
    stays closed until it ends."""

    count: int
    seconds: int


class RateLimits(NamedTuple):
    """The throttles of the account endpoints (per stage)."""

    sign_in_client: Rate  # failed password checks per username from one client: beyond it, that pair is locked
    sign_in_username: Rate  # failed password checks per username from every client: beyond it, pacing
    sign_in_paced: Rate  # password checks per username from clients it never signed in from, while paced
    sign_in_ip: Rate  # failed password checks per client IP
    sign_up_ip: Rate  # sign-up requests per client IP
    reset_ip: Rate  # password-reset requests per client IP
    reset_email: Rate  # reset e-mails per address (beyond it, requests are answered alike but send nothing)
