"""Addresses no mail is sent to: SES reported them bouncing for good, or their owner complained."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime


class Suppressions(Protocol):
    """Suppressed addresses, by their normalized form (domain.users.identity); both calls raise ServiceUnavailable
    when the store fails."""

    def is_suppressed(self, address: str) -> bool:
        """Whether `address` is suppressed (one strongly consistent read)."""

    def suppress(self, address: str, reason: str, at: datetime) -> bool:
        """Suppress `address` for `reason` (Bounce or Complaint); False, changing nothing, when it already was:
        the first reason and time are kept."""
