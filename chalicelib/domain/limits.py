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

    sign_in_username: Rate  # failed password checks per username
    sign_in_ip: Rate  # failed password checks per client IP
    sign_up_ip: Rate  # sign-up requests per client IP
    reset_ip: Rate  # password-reset requests per client IP
    reset_email: Rate  # reset e-mails per address (beyond it, requests are answered alike but send nothing)
