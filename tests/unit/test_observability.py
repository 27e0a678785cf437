"""Logs and metrics: JSON lines that survive Lambda's own logging set-up, each with its function and correlation
id, and the business metrics (CloudWatch EMF lines), each asserted exactly where it is counted."""

from __future__ import annotations

import io
import json
import logging
import sys
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from pynamodb.exceptions import TransactWriteError

from chalicelib import bootstrap, metrics
from chalicelib.domain.common import utcnow
from chalicelib.domain.limits import Rate, RateLimits
from chalicelib.errors import Busy, Throttled
from chalicelib.logs import LOGGER_NAME, get_logger, invocation, lambda_handler
from chalicelib.ports.mail import MailMessage
from chalicelib.ports.payments import ProviderEvent
from chalicelib.services import bookings, events, settlement
from chalicelib.services.mail_feedback import SuppressingMailer
from chalicelib.services.payments import PaymentTerms
from chalicelib.services.settlement import COMPLETED, Outcome
from chalicelib.services.throttling import Guard
from chalicelib.settings import ConfigurationError, get_settings, load_settings, log_level_from_env
from tests.support.factories import creator, principal
from tests.support.fakes import (
    FakeAudit,
    FakeBookings,
    FakeCounters,
    FakeEvents,
    FakeMailer,
    FakePayments,
    FakeRecords,
    FakeSuppressions,
)
from tests.support.logs import JsonLines, attached

NOW_S = 1_700_000_000.25
NOW_MS = 1_700_000_000_250
STAGE = get_settings().stage


def emf(name: str, value: float = 1, unit: str = "Count") -> dict:
    """The EMF fields of one data point at NOW_MS."""
    return {
        "_aws": {
            "Timestamp": NOW_MS,
            "CloudWatchMetrics": [
                {
                    "Namespace": "SessionsMarketplace",
                    "Dimensions": [["Stage"]],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
        "Stage": STAGE,
        name: value,
    }


def metric_line(name: str, value: float = 1, unit: str = "Count", **fields) -> dict:
    return {"level": "INFO", "message": "metric", **fields, **emf(name, value, unit)}


@pytest.fixture
def log(monkeypatch):
    monkeypatch.setattr(metrics, "time", SimpleNamespace(time=lambda: NOW_S))
    with attached(JsonLines()) as handler:
        yield handler


# Lambda's runtime: the root logger at WARNING with a handler writing its own text format to stdout.

LAMBDA_FORMAT = "[%(levelname)s]\t%(asctime)s\t%(aws_request_id)s\t%(message)s\n"


class LambdaRuntimeHandler(logging.StreamHandler):
    """As the Python runtime's bootstrap installs it on the root logger."""

    def emit(self, record: logging.LogRecord) -> None:
        record.aws_request_id = "runtime"
        super().emit(record)


@pytest.fixture
def lambda_logging(monkeypatch):
    """The app logger configured for the first time under Lambda's root logging; returns stdout's JSON lines."""
    monkeypatch.setattr(metrics, "time", SimpleNamespace(time=lambda: NOW_S))
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    root, ours = logging.getLogger(), logging.getLogger(LOGGER_NAME)
    saved = (root.level, root.handlers[:], ours.level, ours.handlers[:], ours.propagate)
    runtime = LambdaRuntimeHandler(sys.stdout)
    runtime.setFormatter(logging.Formatter(LAMBDA_FORMAT))
    root.handlers[:] = [runtime]
    root.setLevel(logging.WARNING)
    ours.handlers[:] = []
    ours.propagate = True
    get_logger()  # configured now, as on a cold start
    yield lambda: [json.loads(line) for line in stdout.getvalue().splitlines()]
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    ours.setLevel(saved[2])
    ours.handlers[:] = saved[3]
    ours.propagate = saved[4]


def _scheduled_event() -> dict:
    return {
        "version": "0",
        "account": "123456789012",
        "region": "us-east-1",
        "detail": {},
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": "2026-01-01T00:00:00Z",
        "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/sweep"],
    }


def test_the_sweeps_summary_and_metric_come_out_as_json_under_lambdas_logging(lambda_logging, monkeypatch):
    from chalicelib.http.payments import sweep_payments

    fake_events = FakeEvents()
    monkeypatch.setattr(bootstrap, "bookings", lambda: FakeBookings(fake_events))
    monkeypatch.setattr(bootstrap, "events", lambda: fake_events)
    monkeypatch.setattr(bootstrap, "payment_terms", lambda: None)
    sweep_payments(_scheduled_event(), SimpleNamespace(aws_request_id="lambda-req-1"))
    invocation_fields = {"function": "sweep_payments", "correlation_id": "lambda-req-1"}
    assert lambda_logging() == [
        {"level": "INFO", "message": "payment sweep", **invocation_fields},
        metric_line("OldestRefundOwedSeconds", 0, "Seconds", **invocation_fields),
    ]


def test_the_authorizers_warning_comes_out_as_json_under_lambdas_logging(lambda_logging):
    from chalicelib.http.authorizer import jwt_authorizer

    arn = "arn:aws:execute-api:us-east-1:123456789012:abc/v1/GET/api/me/"
    event = {"type": "TOKEN", "authorizationToken": "Bearer not-a-token", "methodArn": arn}
    policy = jwt_authorizer(event, SimpleNamespace(aws_request_id="lambda-req-2"))
    assert policy["principalId"] == "anonymous"
    assert lambda_logging() == [
        {
            "level": "WARNING",
            "message": "access token refused",
            "function": "jwt_authorizer",
            "correlation_id": "lambda-req-2",
            "code": "token_not_valid",
            "reason": "Token is invalid",
        }
    ]


def test_an_error_a_function_lets_out_is_logged_with_its_invocation_and_raised(log):
    @lambda_handler("mail_feedback")
    def failing(event, context):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing({}, SimpleNamespace(aws_request_id="lambda-req-3"))
    [line] = log.lines
    assert (line["level"], line["message"], line["function"], line["correlation_id"]) == (
        "ERROR",
        "invocation failed",
        "mail_feedback",
        "lambda-req-3",
    )
    assert "RuntimeError: boom" in line["exception"]


def test_the_rotation_function_logs_its_steps_and_failures_with_its_invocation(log, monkeypatch):
    from chalicelib.http.rotation import rotate_signing_key
    from chalicelib.services.key_rotation import RotationRefused

    class Disabled:
        def stages(self, secret_id):
            return False, {}

    monkeypatch.setattr(bootstrap, "secret_versions", Disabled)
    event = {"SecretId": "arn:secret", "ClientRequestToken": "v2", "Step": "createSecret"}
    with pytest.raises(RotationRefused):
        rotate_signing_key(event, SimpleNamespace(aws_request_id="lambda-req-7"))
    [line] = log.lines
    assert (line["level"], line["message"], line["function"], line["correlation_id"]) == (
        "ERROR",
        "invocation failed",
        "rotate_signing_key",
        "lambda-req-7",
    )
    assert "RotationRefused: rotation is not enabled on the secret" in line["exception"]


def test_an_api_request_logs_with_api_gateways_request_id(log):
    from chalice.app import Request, Response

    from chalicelib.http.middleware import cors_and_access_log

    def view(request):
        get_logger().info("inside")
        return Response(body="", status_code=204)

    event = {
        "httpMethod": "GET",
        "path": "/health/",
        "headers": {},
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {"requestId": "apigw-req-4", "resourcePath": "/health/", "httpMethod": "GET"},
    }
    cors_and_access_log(())(Request(event), view)
    assert [(line["message"], line["function"], line["correlation_id"]) for line in log.lines] == [
        ("inside", "api", "apigw-req-4"),
        ("request", "api", "apigw-req-4"),
    ]


def test_lines_outside_an_invocation_carry_neither_field(log):
    with invocation("sweep_payments", "x"):
        pass
    get_logger().info("tool line")
    assert log.lines == [{"level": "INFO", "message": "tool line"}]


def test_log_level_is_read_from_the_environment_and_validated():
    assert log_level_from_env({}) == "INFO"
    assert log_level_from_env({"LOG_LEVEL": "warning"}) == "WARNING"
    assert load_settings({"LOG_LEVEL": "DEBUG"}).log_level == "DEBUG"
    with pytest.raises(ConfigurationError, match="LOG_LEVEL must be one of"):
        log_level_from_env({"LOG_LEVEL": "LOUD"})


# Each metric where it is counted.


def test_a_metric_never_fails_the_work_it_counts(log, monkeypatch):
    def broken():
        raise ConfigurationError("no settings")

    monkeypatch.setattr("chalicelib.settings.get_settings", broken)
    metrics.count(metrics.BOOKING_CREATED)
    assert log.lines == []


class Money:
    """The fakes of a paid event, as the settlement tests wire them."""

    def __init__(self) -> None:
        self.events = FakeEvents(FakeAudit())
        self.bookings = FakeBookings(self.events)
        self.records = FakeRecords(self.bookings)
        self.provider = FakePayments()
        self.terms = PaymentTerms(self.provider, hold_seconds=900, refund_cutoff_seconds=24 * 3600)
        self.owner = creator(username="organizer")
        values = {"title": "Paid", "description": "D", "price": Decimal("12.50"), "capacity": 10}
        self.event = events.create_event(self.events, self.owner, {**values, "starts_at": utcnow() + timedelta(days=2)})

    def book(self, who=None):
        who = who or principal()
        return bookings.book(
            self.events, self.bookings, self.records, who, self.event.id, waitlist=False, terms=self.terms
        )

    def sweep(self, minutes: float):
        now = utcnow() + timedelta(minutes=minutes)
        return settlement.sweep(self.bookings, self.events, self.terms, budget_seconds=30, now=now)


def test_booking_created_is_counted_once_per_new_booking(log):
    money = Money()
    money.book()
    assert log.metrics() == [metric_line("BookingCreated")]


def test_hold_expired_is_counted_when_the_sweep_ends_an_unpaid_hold(log):
    money = Money()
    money.book()
    log.lines.clear()
    money.sweep(minutes=16)
    assert log.metrics() == [metric_line("HoldExpired"), metric_line("OldestRefundOwedSeconds", 0, "Seconds")]


def _paid_then_cancelled(money: Money):
    who = principal()
    held = money.book(who).booking
    session = held.payment.checkout_session
    intent = money.provider.pay(session)
    currency = held.payment.currency.lower()
    paid = ProviderEvent(f"evt_{held.id}", COMPLETED, session, held.id, True, intent, held.payment.amount, currency)
    assert settlement.handle_event(money.bookings, money.events, money.terms, paid) is Outcome.APPLIED
    return who, money.bookings.get(held.id)


def test_refund_issued_and_failed_are_counted_at_the_provider_call(log):
    money = Money()
    who, confirmed = _paid_then_cancelled(money)
    money.provider.failing = True
    log.lines.clear()
    bookings.cancel(money.bookings, money.events, money.records, who, confirmed.id, terms=money.terms)
    assert log.metrics() == [metric_line("RefundFailed", outcome="deferred")]
    money.provider.failing = False
    log.lines.clear()
    money.sweep(minutes=60)
    assert log.metrics() == [metric_line("RefundIssued"), metric_line("OldestRefundOwedSeconds", 0, "Seconds")]


def test_a_refused_refund_is_counted_as_failed(log):
    money = Money()
    who, confirmed = _paid_then_cancelled(money)
    money.provider.refusing = True
    log.lines.clear()
    bookings.cancel(money.bookings, money.events, money.records, who, confirmed.id, terms=money.terms)
    assert log.metrics() == [metric_line("RefundFailed", outcome="refused")]


def test_the_sweep_counts_how_long_the_oldest_owed_refund_has_waited(log):
    money = Money()
    who, confirmed = _paid_then_cancelled(money)
    money.provider.failing = True
    bookings.cancel(money.bookings, money.events, money.records, who, confirmed.id, terms=money.terms)
    cancelled_at = money.bookings.get(confirmed.id).cancelled_at
    log.lines.clear()
    settlement.sweep(
        money.bookings, money.events, money.terms, budget_seconds=30, now=cancelled_at + timedelta(hours=2)
    )
    assert log.metrics()[-1] == metric_line("OldestRefundOwedSeconds", 7200, "Seconds")


def test_throttled_is_counted_once_per_429(log):
    guard = Guard(FakeCounters(), RateLimits(*([Rate(1, 60)] * 7)))
    quotas = guard.sign_up("192.0.2.1")
    guard.count(quotas, now=1000)
    with pytest.raises(Throttled):
        guard.count(quotas, now=1001)
    assert log.metrics() == [metric_line("Throttled")]


def test_reset_mail_failed_is_counted_and_the_answer_unchanged(log):
    from chalicelib.services import accounts, credentials
    from tests.support.fakes import FakeResets, FakeUsers

    users = FakeUsers()
    accounts.register(users, username="alice", email="alice@example.com", password="A-good-pass-phrase-9", rounds=4)
    log.lines.clear()
    guard = Guard(FakeCounters(), RateLimits(*([Rate(100, 60)] * 7)))
    detail = credentials.request_reset(
        users,
        FakeResets(users),
        FakeMailer(failing=True),
        guard,
        email="alice@example.com",
        client_ip="192.0.2.1",
        web_app_url="http://127.0.0.1:3000",
        min_seconds=0.0,
        sleep=lambda _: None,
    )
    assert detail == credentials.RESET_SENT
    assert log.metrics() == [metric_line("ResetMailFailed")]


def test_mail_to_a_suppressed_address_is_skipped_and_counted(log):
    sent, suppressions = FakeMailer(), FakeSuppressions()
    suppressions.suppress("bounced@example.com", "Bounce", utcnow())
    mailer = SuppressingMailer(sent, suppressions)
    mailer.send(MailMessage(to="Bounced@Example.com", subject="Password reset", text="link"))
    mailer.send(MailMessage(to="alice@example.com", subject="Password reset", text="link"))
    assert [m.to for m in sent.sent] == ["alice@example.com"]
    assert suppressions.reads == 2  # one read per message
    assert log.lines == [
        {"level": "INFO", "message": "mail to a suppressed address not sent", "subject": "Password reset"},
        metric_line("MailSuppressed"),
    ]


def test_transaction_conflict_is_counted_where_it_is_translated(log):
    from pynamodb.exceptions import CancellationReason, VerboseClientError

    from chalicelib.persistence.errors import translate_errors

    reasons = [None, CancellationReason(code="TransactionConflict")]
    answer = {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}}
    cause = VerboseClientError(answer, "TransactWriteItems", cancellation_reasons=reasons)
    error = TransactWriteError("cancelled", cause=cause)
    with pytest.raises(Busy), translate_errors():
        raise error
    assert log.metrics() == [metric_line("TransactionConflict")]
