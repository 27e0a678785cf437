"""Outgoing e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class MailUnavailable(Exception):
    """The mail service did not take the message."""


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message, e.g. `event.ics` as `text/calendar; method=PUBLISH`."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MailMessage:
    """An e-mail to one recipient: plain text, optionally an HTML alternative, attachments and extra headers
    (only those the adapters allow: List-Unsubscribe, List-Unsubscribe-Post)."""

    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()


class Mailer(Protocol):
    """Outgoing e-mail."""

    def send(self, message: MailMessage) -> None:
        """Deliver `message` (locally: keep it); raises MailUnavailable when the mail service fails."""
