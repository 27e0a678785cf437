"""E-mail feedback: SES reports a permanent bounce or a complaint (through SNS), and the address is suppressed;
every later message to it is skipped, which keeps the sending account's bounce and complaint rates (and so its
right to send) healthy.

An SNS delivery is retried by Lambda when the store fails (the notice is not lost), never for a message that
cannot be read: that one is logged and dropped, since reading it again would fail again. A repeated delivery
changes nothing (the first suppression is kept)."""

from __future__ import annotations

import json
from collections import Counter
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from chalicelib import metrics
from chalicelib.domain.common import utcnow
from chalicelib.domain.users import identity
from chalicelib.errors import ServiceUnavailable
from chalicelib.logs import get_logger
from chalicelib.ports.mail import MailUnavailable

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.ports.mail import Mailer, MailMessage
    from chalicelib.ports.suppressions import Suppressions

BOUNCE = "Bounce"
COMPLAINT = "Complaint"
MAX_ADDRESS = 320  # RFC 3696's longest address: anything longer is not one

log = get_logger()


class Unreadable(ValueError):
    """An SNS message that is not an SES notification this function can read."""


def normalized(address: str) -> str | None:
    """The form an address is suppressed and looked up under (None when it is not an address): SES may report
    `Name <a@b>`; case and Unicode forms do not make another mailbox (domain.users.identity, as accounts)."""
    _, bare = parseaddr(address)
    bare = identity(bare.strip())
    if "@" not in bare or len(bare) > MAX_ADDRESS:
        return None
    return bare


def suppressed_recipients(notice: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(reason, recipients) an SES notification suppresses; None for the ones that suppress nothing (transient
    or undetermined bounces, deliveries, sends...). Reads SES event publishing (`eventType`) and identity
    notifications (`notificationType`) alike."""
    kind = notice.get("eventType") or notice.get("notificationType")
    if kind == BOUNCE:
        bounce = notice.get("bounce")
        if not isinstance(bounce, dict):
            raise Unreadable("bounce without its details")
        if bounce.get("bounceType") != "Permanent":
            return None  # a full mailbox or a busy server: the address may work tomorrow
        return BOUNCE, _addresses(bounce.get("bouncedRecipients"))
    if kind == COMPLAINT:
        complaint = notice.get("complaint")
        if not isinstance(complaint, dict):
            raise Unreadable("complaint without its details")
        return COMPLAINT, _addresses(complaint.get("complainedRecipients"))
    if not isinstance(kind, str):
        raise Unreadable("no eventType")
    return None


def _addresses(recipients: Any) -> list[str]:
    if not isinstance(recipients, list) or not recipients:
        raise Unreadable("no recipients")
    found = []
    for recipient in recipients:
        raw = recipient.get("emailAddress") if isinstance(recipient, dict) else None
        address = normalized(raw) if isinstance(raw, str) else None
        if address is None:
            raise Unreadable("a recipient without an address")
        found.append(address)
    return found


def _sns(record: Any) -> dict[str, Any]:
    sns = record.get("Sns") if isinstance(record, dict) else None
    return sns if isinstance(sns, dict) else {}


def _notice(record: Any) -> dict[str, Any]:
    message = _sns(record).get("Message")
    if not isinstance(message, str):
        raise Unreadable("not an SNS record")
    try:
        notice = json.loads(message)
    except ValueError:
        raise Unreadable("message is not JSON") from None
    if not isinstance(notice, dict):
        raise Unreadable("message is not an object")
    return notice


def handle_sns_event(event: dict[str, Any], suppressions: Suppressions, now: datetime | None = None) -> dict[str, int]:
    """Suppress every recipient a permanent bounce or a complaint names; returns what each record did. Raises
    ServiceUnavailable when the store fails (Lambda retries the delivery)."""
    now = now or utcnow()
    counts: Counter[str] = Counter()
    records = event.get("Records") if isinstance(event, dict) else None
    for record in records if isinstance(records, list) else [None]:
        message_id = _sns(record).get("MessageId")
        try:
            found = suppressed_recipients(_notice(record))
        except Unreadable as exc:
            # What was wrong and which message, never its content (addresses are personal data).
            fields = {"sns_message_id": message_id, "error": str(exc)}
            log.error("mail feedback not understood", extra={"fields": fields})
            counts["unreadable"] += 1
            continue
        if found is None:
            counts["ignored"] += 1
            continue
        reason, addresses = found
        for address in addresses:
            counts["suppressed" if suppressions.suppress(address, reason, now) else "already_suppressed"] += 1
    log.info("mail feedback", extra={"fields": dict(counts)})
    return dict(counts)


class SuppressingMailer:
    """ports.Mailer that sends only to addresses not suppressed: a suppressed one is skipped as if sent (the
    caller's answer does not change), with a log line and the MailSuppressed metric. When the check cannot be
    made, nothing is sent (MailUnavailable, as when the mail service fails)."""

    def __init__(self, mailer: Mailer, suppressions: Suppressions) -> None:
        self.mailer = mailer
        self.suppressions = suppressions

    def send(self, message: MailMessage) -> None:
        address = normalized(message.to)
        try:
            suppressed = address is not None and self.suppressions.is_suppressed(address)
        except ServiceUnavailable as exc:
            raise MailUnavailable("suppression list unavailable") from exc
        if suppressed:
            # Which message, not to whom: the address is personal data.
            log.info("mail to a suppressed address not sent", extra={"fields": {"subject": message.subject}})
            metrics.count(metrics.MAIL_SUPPRESSED)
            return
        self.mailer.send(message)
