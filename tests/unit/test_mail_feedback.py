"""E-mail feedback: SES's bounce and complaint notices through SNS suppress their recipients; a repeated delivery
changes nothing, an unreadable message is logged and dropped, a store failure is raised for Lambda to retry; SES
sends carry the stage's configuration set."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from chalicelib.errors import ServiceUnavailable
from chalicelib.ports.mail import MailMessage, MailUnavailable
from chalicelib.services.mail_feedback import SuppressingMailer, handle_sns_event, normalized
from chalicelib.settings import load_settings
from tests.support.fakes import FakeMailer, FakeSuppressions
from tests.support.logs import JsonLines, attached

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def sns(*notices, raw: str | None = None) -> dict:
    messages = [raw] if raw is not None else [json.dumps(n) for n in notices]
    return {
        "Records": [
            {"EventSource": "aws:sns", "Sns": {"MessageId": f"msg-{i}", "Message": m}} for i, m in enumerate(messages)
        ]
    }


def bounce(kind: str, *addresses: str, key: str = "eventType") -> dict:
    recipients = [{"emailAddress": a} for a in addresses]
    return {key: "Bounce", "bounce": {"bounceType": kind, "bouncedRecipients": recipients}, "mail": {}}


def complaint(*addresses: str) -> dict:
    return {"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": a} for a in addresses]}}


@pytest.fixture
def log():
    with attached(JsonLines()) as handler:
        yield handler.lines


def test_permanent_bounces_and_complaints_suppress_their_recipients_normalized(log):
    store = FakeSuppressions()
    event = sns(bounce("Permanent", "Bob <Bob@Example.COM>", "carol@example.com"), complaint("dave@example.com"))
    assert handle_sns_event(event, store, AT) == {"suppressed": 3}
    assert store.by_address == {
        "bob@example.com": ("Bounce", AT),
        "carol@example.com": ("Bounce", AT),
        "dave@example.com": ("Complaint", AT),
    }
    assert log == [{"level": "INFO", "message": "mail feedback", "suppressed": 3}]


def test_identity_notifications_are_read_like_published_events():
    store = FakeSuppressions()
    handle_sns_event(sns(bounce("Permanent", "bob@example.com", key="notificationType")), store, AT)
    assert store.by_address == {"bob@example.com": ("Bounce", AT)}


def test_transient_bounces_and_other_events_suppress_nothing():
    store = FakeSuppressions()
    event = sns(
        bounce("Transient", "bob@example.com"), bounce("Undetermined", "bob@example.com"), {"eventType": "Delivery"}
    )
    assert handle_sns_event(event, store, AT) == {"ignored": 3}
    assert store.by_address == {}


def test_a_repeated_delivery_keeps_the_first_suppression():
    store = FakeSuppressions()
    first = sns(bounce("Permanent", "bob@example.com"))
    handle_sns_event(first, store, AT)
    later = datetime(2026, 2, 1, tzinfo=UTC)
    assert handle_sns_event(first, store, later) == {"already_suppressed": 1}
    assert handle_sns_event(sns(complaint("BOB@example.com")), store, later) == {"already_suppressed": 1}
    assert store.by_address == {"bob@example.com": ("Bounce", AT)}


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("not json", "message is not JSON"),
        ("[1]", "message is not an object"),
        (json.dumps({"mail": {}}), "no eventType"),
        (json.dumps({"eventType": "Bounce"}), "bounce without its details"),
        (json.dumps({"eventType": "Complaint", "complaint": {"complainedRecipients": []}}), "no recipients"),
        (json.dumps(bounce("Permanent", "not-an-address")), "a recipient without an address"),
    ],
)
def test_an_unreadable_message_is_logged_without_its_content_and_not_retried(log, message, error):
    store = FakeSuppressions()
    assert handle_sns_event(sns(raw=message), store, AT) == {"unreadable": 1}
    assert log == [
        {"level": "ERROR", "message": "mail feedback not understood", "sns_message_id": "msg-0", "error": error},
        {"level": "INFO", "message": "mail feedback", "unreadable": 1},
    ]
    assert store.by_address == {}


def test_an_event_that_is_not_an_sns_delivery_is_unreadable():
    assert handle_sns_event({"hello": "world"}, FakeSuppressions(), AT) == {"unreadable": 1}


def test_a_store_failure_is_raised_so_that_lambda_retries_the_delivery():
    with pytest.raises(ServiceUnavailable):
        handle_sns_event(sns(complaint("bob@example.com")), FakeSuppressions(failing=True), AT)


def test_the_lambda_function_is_registered_by_its_exact_name_and_logs_its_invocation(monkeypatch, log):
    import app
    from chalicelib import bootstrap
    from chalicelib.http.mail_feedback import mail_feedback

    # The app Lambda loads (app.py), never a second one: building another would move the blueprints to it and
    # leave the app the other tests on this process call without its current request.
    [function] = [f for f in app.app.pure_lambda_functions if f.name == "mail_feedback"]
    assert function.handler_string == "chalicelib.http.mail_feedback.mail_feedback"
    store = FakeSuppressions()
    monkeypatch.setattr(bootstrap, "suppressions", lambda: store)
    assert mail_feedback(sns(complaint("bob@example.com")), SimpleNamespace(aws_request_id="req-9")) == {
        "suppressed": 1
    }
    assert log == [
        {
            "level": "INFO",
            "message": "mail feedback",
            "function": "mail_feedback",
            "correlation_id": "req-9",
            "suppressed": 1,
        }
    ]


def test_a_suppression_check_that_fails_sends_nothing_and_is_a_mail_failure():
    sent = FakeMailer()
    with pytest.raises(MailUnavailable):
        SuppressingMailer(sent, FakeSuppressions(failing=True)).send(MailMessage("bob@example.com", "S", "T"))
    assert sent.sent == []


def test_addresses_are_normalized_as_accounts_are():
    assert normalized("  Bob <BOB@Example.com> ") == "bob@example.com"
    assert normalized("x" * 400 + "@example.com") is None
    assert normalized("nobody") is None


class RecordingSes:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def send_email(self, **kwargs) -> None:
        self.calls.append(kwargs)


@pytest.mark.parametrize(
    ("configured", "expected"), [("feedback-dev", {"ConfigurationSetName": "feedback-dev"}), ("", {})]
)
def test_ses_sends_carry_the_configuration_set_when_one_is_set(configured, expected):
    from chalicelib.adapters.mail import SesMailer

    settings = load_settings(
        {"STAGE": "dev", "MAIL_FROM": "no-reply@dev.example.com", "MAIL_CONFIGURATION_SET": configured}
    )
    mailer, ses = SesMailer(settings), RecordingSes()
    mailer._client = ses
    mailer.send(MailMessage("bob@example.com", "Subject", "Text"))
    [call] = ses.calls
    assert {k: v for k, v in call.items() if k == "ConfigurationSetName"} == expected
    assert call["Destination"] == {"ToAddresses": ["bob@example.com"]}


def test_a_configuration_set_name_is_validated():
    from chalicelib.settings import ConfigurationError

    with pytest.raises(ConfigurationError, match="MAIL_CONFIGURATION_SET"):
        load_settings({"MAIL_CONFIGURATION_SET": "no spaces allowed"})
