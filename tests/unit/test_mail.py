"""The mail port's adapters: .eml files locally (with a log line saying where), Amazon SES when deployed."""

import email
import email.policy
import errno
import os
import stat
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses import ses_backends

from chalicelib.adapters.mail import FolderMailer, SesMailer, mailer_for
from chalicelib.ports.mail import MailMessage, MailUnavailable
from chalicelib.settings import load_settings
from tests.support.logs import Records, attached

MESSAGE = MailMessage(to="alice@example.com", subject="Password reset on Sessions Marketplace", text="Héllo\nlink")


@pytest.fixture
def app_log():
    with attached(Records()) as handler:
        yield handler.records


def test_folder_mailer_writes_one_eml_file_per_message_and_logs_where(tmp_path, app_log):
    mailer = FolderMailer(tmp_path / "mail", "no-reply@sessions.localhost")
    mailer.send(MESSAGE)
    mailer.send(MESSAGE)
    files = sorted((tmp_path / "mail").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["From"] == "Sessions Marketplace <no-reply@sessions.localhost>"
    assert (parsed["To"], parsed["Subject"]) == (MESSAGE.to, MESSAGE.subject)
    assert parsed.get_content() == "Héllo\nlink\n"
    assert [(r.getMessage(), r.fields) for r in app_log] == [("mail written", {"path": str(f)}) for f in files]
    assert "link" not in str([r.__dict__ for r in app_log])  # where, never what


def test_folder_mailer_that_cannot_write_is_unavailable(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    with pytest.raises(MailUnavailable):
        FolderMailer(blocked, "no-reply@sessions.localhost").send(MESSAGE)


def _deployed(**env: str):
    return load_settings({"STAGE": "dev", "AWS_REGION": "us-east-1", "MAIL_FROM": "no-reply@dev.example.com", **env})


def test_ses_mailer_sends_from_the_stages_sender():
    with mock_aws():
        boto3.client("sesv2", region_name="us-east-1").create_email_identity(EmailIdentity="no-reply@dev.example.com")
        SesMailer(_deployed()).send(MESSAGE)
        [sent] = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert sent.source == "Sessions Marketplace <no-reply@dev.example.com>"
    assert (sent.destinations["ToAddresses"], sent.subject, sent.body) == ([MESSAGE.to], MESSAGE.subject, MESSAGE.text)


def test_ses_refusing_the_message_is_unavailable():
    with mock_aws(), pytest.raises(MailUnavailable):
        SesMailer(_deployed()).send(MESSAGE)  # the sender is not a verified identity


def test_deployed_stages_use_ses_and_the_local_stage_the_folder(tmp_path):
    assert isinstance(mailer_for(_deployed()), SesMailer)
    local = mailer_for(load_settings({"STAGE": "local", "MAIL_DIR": str(tmp_path)}))
    assert isinstance(local, FolderMailer) and local.folder == tmp_path


@pytest.fixture
def open_umask():
    """The most permissive umask: what the mailer makes private, it makes so itself."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_mail_folder_and_every_message_are_readable_by_their_owner_only(tmp_path, open_umask):
    folder = tmp_path / "local" / "mail"
    FolderMailer(folder, "no-reply@sessions.localhost").send(MESSAGE)
    [message] = folder.iterdir()
    assert (_mode(folder), _mode(message)) == (0o700, 0o600)


def test_a_mail_folder_left_open_by_an_earlier_version_is_tightened(tmp_path, open_umask):
    folder = tmp_path / "mail"
    folder.mkdir(mode=0o755)
    old = folder / "20250101T000000-000000000-00000000.eml"
    old.write_text("a reset link")
    FolderMailer(folder, "no-reply@sessions.localhost").send(MESSAGE)
    assert _mode(folder) == 0o700  # older messages inside are out of reach with it


def test_a_message_is_never_readable_by_others_not_even_while_it_is_written(tmp_path, open_umask, monkeypatch):
    # Seen at the system calls: the file's mode the moment it is created, and when it takes its final name.
    folder = tmp_path / "mail"
    created: list[tuple[str, int]] = []
    renamed: list[tuple[str, int, bytes]] = []
    real_open, real_replace = os.open, Path.replace

    def spying_open(path, flags, mode=0o777, *args, **kwargs):
        fd = real_open(path, flags, mode, *args, **kwargs)
        created.append((os.path.basename(path), stat.S_IMODE(os.fstat(fd).st_mode)))
        return fd

    def spying_replace(self, target):
        renamed.append((self.name, _mode(self), self.read_bytes()))
        return real_replace(self, target)

    monkeypatch.setattr(os, "open", spying_open)
    monkeypatch.setattr(Path, "replace", spying_replace)
    FolderMailer(folder, "no-reply@sessions.localhost").send(MESSAGE)
    monkeypatch.undo()
    [message] = folder.iterdir()
    [(temporary, mode_at_creation)] = created
    assert temporary.startswith(".") and temporary.endswith(".tmp") and mode_at_creation == 0o600
    assert renamed == [(temporary, 0o600, message.read_bytes())]  # whole, and private, before it is visible


def test_a_message_that_cannot_be_written_whole_leaves_nothing_behind(tmp_path, monkeypatch):
    folder = tmp_path / "mail"

    def full_disk(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(MailUnavailable):
        FolderMailer(folder, "no-reply@sessions.localhost").send(MESSAGE)
    monkeypatch.undo()
    assert list(folder.iterdir()) == []
