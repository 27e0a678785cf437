"""Outgoing e-mail through ports.Mailer: Amazon SES in deployed stages; locally one `.eml` file per message in
a folder (MAIL_DIR), with a log line saying where, so nothing leaves the machine."""

from __future__ import annotations

import os
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from chalicelib.adapters.aws import client
from chalicelib.logs import get_logger
from chalicelib.ports.mail import Mailer, MailMessage, MailUnavailable
from chalicelib.settings import DEPLOYED_STAGES, Settings

if TYPE_CHECKING:
    from email.message import EmailMessage
    from pathlib import Path

SENDER_NAME = "Sessions Marketplace"

# The only headers a message may add to those the mailer sets (lower case: header names are case-insensitive).
# Anything else could override the sender or the routing (From, Bcc, Reply-To) from text that reached a message.
EXTRA_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})


def sender(address: str) -> str:
    """The From header: the product's name and the stage's address."""
    return f"{SENDER_NAME} <{address}>"


def mime_message(message: MailMessage, from_header: str, *, message_id_domain: str | None = None) -> EmailMessage:
    """`message` as a MIME message: the text, the HTML as its alternative, then the attachments, then the extra
    headers. ValueError for a header outside EXTRA_HEADERS (or given twice) and for a line break in any header
    value or attachment's name or type: one would start a header of its own."""
    from email.message import EmailMessage
    from email.policy import default
    from email.utils import formatdate, make_msgid

    names = [name.lower() for name, _ in message.headers]
    refused = sorted(set(names) - EXTRA_HEADERS)
    if refused:
        raise ValueError(f"headers not allowed: {', '.join(refused)}")
    if len(set(names)) != len(names):
        raise ValueError("a header given twice")
    mail = EmailMessage()
    for name, value in (("From", from_header), ("To", message.to), ("Subject", message.subject)):
        mail[name] = _one_line(name, value)
    mail["Date"] = formatdate(localtime=False)
    if message_id_domain is not None:
        mail["Message-ID"] = make_msgid(domain=message_id_domain)
    mail.set_content(message.text)
    if message.html is not None:
        mail.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        kind = default.header_factory("Content-Type", _one_line("Content-Type", attachment.content_type))
        mail.add_attachment(
            attachment.data,
            maintype=kind.maintype,
            subtype=kind.subtype,
            params=dict(kind.params),
            filename=_one_line("filename", attachment.filename),
        )
    for name, value in message.headers:
        mail[name] = _one_line(name, value)
    return mail


def _one_line(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name}: a line break in a header value")  # the value may be personal: not shown
    return value


class SesMailer:
    """Sends through Amazon SES (v2 API) from the stage's verified sender; the client is made on first use."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None
        self._lock = threading.Lock()

    def _ses(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = client("sesv2", self._settings)
            return self._client

    def send(self, message: MailMessage) -> None:
        content: dict[str, Any]
        if message.html is None and not message.attachments and not message.headers:
            content = {
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"}},
                }
            }
        else:
            from email.policy import SMTP

            # Built before the call: a refused header is the caller's mistake, not the mail service failing.
            mail = mime_message(message, sender(self._settings.mail_from))
            content = {"Raw": {"Data": mail.as_bytes(policy=SMTP)}}
        # The configuration set publishes this message's bounces and complaints (the MailFeedback function).
        configuration = self._settings.mail_configuration_set
        extra = {"ConfigurationSetName": configuration} if configuration else {}
        try:
            self._ses().send_email(
                FromEmailAddress=sender(self._settings.mail_from),
                Destination={"ToAddresses": [message.to]},
                Content=content,
                **extra,
            )
        except Exception as exc:
            raise MailUnavailable(type(exc).__name__) from exc


class FolderMailer:
    """Keeps each message as an `.eml` file (any mail client opens it) in `folder`, named so that files sort
    in the order they were written.

    The messages hold live password-reset links, so the folder is the owner's alone (0700, an existing one
    tightened too) and each file is 0600 from the moment it exists: written under a temporary name created
    with that mode, then renamed, never readable by others for an instant."""

    def __init__(self, folder: Path, sender_address: str) -> None:
        self.folder = folder
        self.sender_address = sender_address

    def send(self, message: MailMessage) -> None:
        mail = mime_message(message, sender(self.sender_address), message_id_domain="sessions.localhost")
        name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{time.time_ns() % 10**9:09d}-{uuid.uuid4().hex[:8]}"
        path = self.folder / f"{name}.eml"
        partial = self.folder / f".{name}.tmp"
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.folder.chmod(0o700)  # an existing folder keeps its mode through mkdir: earlier versions made it 0755
            _write_private(partial, mail.as_bytes())
            partial.replace(path)  # readers never see half a message
        except OSError as exc:
            raise MailUnavailable(str(exc)) from exc
        # Where, not what: the message holds a reset link, which has no place in a log.
        get_logger().info("mail written", extra={"fields": {"path": str(path)}})


def _write_private(path: Path, data: bytes) -> None:
    # O_EXCL: a new file of our own, never one someone else prepared under that name.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # exactly 0600, whatever the umask took away
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        path.unlink(missing_ok=True)  # no half message left behind (a full disk, say)
        raise
    finally:
        os.close(fd)


def mailer_for(settings: Settings) -> Mailer:
    """SES in deployed stages, the folder locally."""
    if settings.stage in DEPLOYED_STAGES:
        return SesMailer(settings)
    return FolderMailer(settings.mail_dir, settings.mail_from)
