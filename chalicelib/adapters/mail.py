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
    from pathlib import Path

SENDER_NAME = "Sessions Marketplace"


def sender(address: str) -> str:
    """The From header: the product's name and the stage's address."""
    return f"{SENDER_NAME} <{address}>"


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
        content = {
            "Simple": {
                "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"}},
            }
        }
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
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid

        mail = EmailMessage()
        mail["From"] = sender(self.sender_address)
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="sessions.localhost")
        mail.set_content(message.text)
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
