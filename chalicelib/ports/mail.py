"""Outgoing e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class MailUnavailable(Exception):
    """The mail service did not take the message."""


@dataclass(frozen=True)
class MailMessage:
    """A plain-text e-mail to one recipient."""

    to: str
    subject: str
    text: str


class Mailer(Protocol):
    """Outgoing e-mail."""

    def send(self, message: MailMessage) -> None:
        """Deliver `message` (locally: keep it); raises MailUnavailable when the mail service fails."""
