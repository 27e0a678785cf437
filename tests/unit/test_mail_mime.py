"""Messages with HTML, attachments and headers (adapters.mail.mime_message): the .eml FolderMailer writes parses
back into its parts, SES gets them raw, and a header that could smuggle another one in is refused."""

from __future__ import annotations

import email
import email.policy
import stat
from dataclasses import replace
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses import ses_backends

from chalicelib.adapters.mail import FolderMailer, SesMailer, mime_message
from chalicelib.domain.bookings import Booking
from chalicelib.domain.enums import BookingStatus
from chalicelib.domain.events import Event
from chalicelib.domain.users import User
from chalicelib.ports.mail import Attachment, MailMessage
from chalicelib.services.messages import MessageContext, render
from chalicelib.settings import load_settings

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
RICH = MailMessage(
    to="alice@example.com",
    subject="Booking confirmed: Café & co",
    text="Your seat is confirmed.\n",
    html="<p>Your seat is <b>confirmed</b>.</p>\n",
    attachments=(Attachment("cafe-co.ics", "text/calendar; method=PUBLISH", ICS),),
    headers=(
        ("List-Unsubscribe", "<https://api.example.com/u?t=1>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ),
)
PLAIN = MailMessage(to="bob@example.com", subject="Password reset on Sessions Marketplace", text="a link\n")
SENDER = "no-reply@sessions.localhost"


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def written(folder) -> email.message.EmailMessage:
    [path] = folder.iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return parse(path.read_bytes())


def lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def assert_rich(mail: email.message.EmailMessage, sender: str) -> None:
    assert (mail["From"], mail["To"], mail["Subject"]) == (f"Sessions Marketplace <{sender}>", RICH.to, RICH.subject)
    assert mail["List-Unsubscribe"] == "<https://api.example.com/u?t=1>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/mixed"
    alternative, calendar = mail.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, page = alternative.iter_parts()
    # Read back with the line ends it was sent with: LF in a file, CRLF to SES.
    assert (text.get_content_type(), lf(text.get_content())) == ("text/plain", "Your seat is confirmed.\n")
    assert (page.get_content_type(), lf(page.get_content())) == ("text/html", "<p>Your seat is <b>confirmed</b>.</p>\n")
    assert (calendar.get_content_type(), calendar.get_param("method")) == ("text/calendar", "PUBLISH")
    assert (calendar.get_content_disposition(), calendar.get_filename()) == ("attachment", "cafe-co.ics")
    assert calendar.get_payload(decode=True) == ICS


def test_the_eml_of_a_rich_message_parses_back_into_its_parts_and_headers(tmp_path):
    folder = tmp_path / "mail"
    FolderMailer(folder, SENDER).send(RICH)
    mail = written(folder)
    assert_rich(mail, SENDER)
    assert mail["Message-ID"].endswith("@sessions.localhost>") and mail["Date"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_plain_message_stays_a_single_text_part(tmp_path):
    FolderMailer(tmp_path, SENDER).send(PLAIN)
    mail = written(tmp_path)
    assert (mail.get_content_type(), mail.get_content()) == ("text/plain", "a link\n")
    assert mail["List-Unsubscribe"] is None


def test_html_alone_makes_an_alternative_and_an_attachment_alone_a_mixed_message():
    html_only = mime_message(replace(RICH, attachments=(), headers=()), SENDER)
    assert [p.get_content_type() for p in html_only.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    attached = mime_message(replace(RICH, html=None), SENDER)
    assert [p.get_content_type() for p in attached.walk()] == ["multipart/mixed", "text/plain", "text/calendar"]


@pytest.mark.parametrize(
    "message",
    [
        replace(RICH, headers=(("List-Unsubscribe", "<https://x>\r\nBcc: eve@example.com"),)),
        replace(RICH, headers=(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click\n"),)),
        replace(RICH, subject="Booking confirmed\nBcc: eve@example.com"),
        replace(RICH, to="alice@example.com\rBcc: eve@example.com"),
        replace(RICH, attachments=(Attachment("a\r\n.ics", "text/calendar", ICS),)),
        replace(RICH, attachments=(Attachment("a.ics", "text/calendar\r\nBcc: eve@example.com", ICS),)),
    ],
)
def test_a_line_break_in_a_header_is_refused_and_nothing_is_written(tmp_path, message):
    with pytest.raises(ValueError, match="line break"):
        FolderMailer(tmp_path / "mail", SENDER).send(message)
    assert not (tmp_path / "mail").exists()


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ((("Bcc", "eve@example.com"),), "headers not allowed: bcc"),
        ((("From", "eve@example.com"), ("Reply-To", "eve@example.com")), "headers not allowed: from, reply-to"),
        ((("List-Unsubscribe", "<https://a>"), ("list-unsubscribe", "<https://b>")), "a header given twice"),
    ],
)
def test_only_the_unsubscribe_headers_may_be_added_once_each(headers, refused):
    with pytest.raises(ValueError, match=refused):
        mime_message(replace(RICH, headers=headers), SENDER)


def test_header_names_are_allowed_whatever_their_case():
    mail = mime_message(replace(RICH, headers=(("list-unsubscribe", "<https://a>"),)), SENDER)
    assert mail["List-Unsubscribe"] == "<https://a>"


class StubSes:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def send_email(self, **kwargs) -> None:
        self.calls.append(kwargs)


def stub_mailer(configuration: str = "feedback-dev") -> tuple[SesMailer, StubSes]:
    settings = load_settings(
        {"STAGE": "dev", "MAIL_FROM": "no-reply@dev.example.com", "MAIL_CONFIGURATION_SET": configuration}
    )
    mailer, ses = SesMailer(settings), StubSes()
    mailer._client = ses
    return mailer, ses


def test_ses_gets_a_rich_message_raw_with_the_same_sender_and_configuration_set():
    mailer, ses = stub_mailer()
    mailer.send(RICH)
    [call] = ses.calls
    assert set(call) == {"FromEmailAddress", "Destination", "Content", "ConfigurationSetName"}
    assert call["FromEmailAddress"] == "Sessions Marketplace <no-reply@dev.example.com>"
    assert (call["Destination"], call["ConfigurationSetName"]) == ({"ToAddresses": [RICH.to]}, "feedback-dev")
    [(kind, content)] = call["Content"].items()
    raw = content["Data"]
    assert kind == "Raw" and set(content) == {"Data"} and isinstance(raw, bytes)
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # SMTP line ends, as RFC 5322 has them
    assert_rich(parse(raw), "no-reply@dev.example.com")


@pytest.mark.parametrize(
    "message",
    [
        replace(PLAIN, html="<p>a link</p>"),
        replace(PLAIN, attachments=RICH.attachments),
        replace(PLAIN, headers=RICH.headers),
    ],
)
def test_ses_gets_raw_whatever_makes_the_message_more_than_text(message):
    mailer, ses = stub_mailer("")
    mailer.send(message)
    [call] = ses.calls
    assert list(call["Content"]) == ["Raw"] and "ConfigurationSetName" not in call


def test_ses_gets_a_plain_message_simple_as_before():
    mailer, ses = stub_mailer()
    mailer.send(PLAIN)
    [call] = ses.calls
    assert call["Content"] == {
        "Simple": {
            "Subject": {"Data": PLAIN.subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": "a link\n", "Charset": "UTF-8"}},
        }
    }


def test_ses_is_not_called_with_a_refused_header():
    mailer, ses = stub_mailer()
    with pytest.raises(ValueError, match="line break"):
        mailer.send(replace(RICH, headers=(("List-Unsubscribe", "<https://x>\nBcc: eve@example.com"),)))
    assert ses.calls == []


def test_ses_takes_the_raw_message_from_the_verified_sender():
    settings = load_settings({"STAGE": "dev", "AWS_REGION": "us-east-1", "MAIL_FROM": "no-reply@dev.example.com"})
    with mock_aws():
        boto3.client("sesv2", region_name="us-east-1").create_email_identity(EmailIdentity="no-reply@dev.example.com")
        SesMailer(settings).send(RICH)
        [sent] = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert sent.source == "Sessions Marketplace <no-reply@dev.example.com>"
    raw = sent.raw_data if isinstance(sent.raw_data, bytes) else sent.raw_data.encode()
    assert_rich(parse(raw), "no-reply@dev.example.com")


def test_a_rendered_notification_is_written_whole(tmp_path):
    now = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    event = Event(
        id="01EVENT", title="<b>Go</b>", description="", creator="c1", creator_username="carol", created_at=now,
        updated_at=now, starts_at=datetime(2026, 12, 8, 17, 0, tzinfo=UTC), timezone="Europe/Paris",
    )  # fmt: skip
    booking = Booking(
        id="01BOOKING", event_id=event.id, event_creator="c1", user_id="u1", username="alice",
        status=BookingStatus.CONFIRMED, created_at=now,
    )  # fmt: skip
    alice = User(id="u1", username="alice", email="alice@example.com", password_hash="-")
    context = MessageContext(
        "reminder", alice, event, booking, "https://app.example.com", now, ics="BEGIN:VCALENDAR\r\n",
        unsubscribe_url="https://api.example.com/u?t=1",
    )  # fmt: skip
    FolderMailer(tmp_path, SENDER).send(render(context))
    mail = written(tmp_path)
    assert mail["Subject"] == "Reminder: <b>Go</b> starts in about 24 hours"
    assert mail["List-Unsubscribe"] == "<https://api.example.com/u?t=1>"
    alternative, calendar = mail.iter_parts()
    text, page = alternative.iter_parts()
    assert "<b>Go</b> starts in about 24 hours." in text.get_content()
    assert "&lt;b&gt;Go&lt;/b&gt; starts in about 24 hours." in page.get_content()
    assert (calendar.get_filename(), calendar.get_payload(decode=True)) == ("b-go-b.ics", b"BEGIN:VCALENDAR\r\n")
