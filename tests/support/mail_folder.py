"""The local stack's mail folder (`.eml` files the notifier and the password reset write), read as a mailbox."""

from __future__ import annotations

import email
import email.policy
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import EmailMessage
    from pathlib import Path

# How long a message may take under load: the notifier polls every half second, the sweep every 15 s.
WAIT_SECONDS = 60


def mails(folder: Path, address: str, about: str = "") -> list[EmailMessage]:
    """The messages to `address` whose subject holds `about`, oldest first."""
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address and about in message["Subject"]:
            found.append(message)  # type: ignore[arg-type]
    return found


def wait_for(folder: Path, address: str, about: str, count: int = 1) -> list[EmailMessage]:
    """The messages to `address` about `about` once there are `count` of them (AssertionError after a minute)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = mails(folder, address, about)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    subjects = [m["Subject"] for m in mails(folder, address)]
    raise AssertionError(
        f"{count} message(s) to {address} about {about!r} not there after {WAIT_SECONDS} s: {subjects}"
    )
