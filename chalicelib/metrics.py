"""Counts worth an alarm, as CloudWatch Embedded Metric Format: a structured log line that CloudWatch Logs turns
into a metric by itself (no client, no call, nothing at import). Locally the line is simply logged.

The names below are the ones the stack's alarms and dashboard use (namespace SessionsMarketplace, dimension
Stage); docs/architecture.md says what each counts."""

from __future__ import annotations

import time
from typing import Any

from chalicelib.logs import get_logger

NAMESPACE = "SessionsMarketplace"

BOOKING_CREATED = "BookingCreated"
HOLD_EXPIRED = "HoldExpired"
REFUND_ISSUED = "RefundIssued"
REFUND_FAILED = "RefundFailed"
WEBHOOK_RECEIVED = "WebhookReceived"
WEBHOOK_REJECTED = "WebhookRejected"
TRANSACTION_CONFLICT = "TransactionConflict"
THROTTLED = "Throttled"
RESET_MAIL_FAILED = "ResetMailFailed"
MAIL_SUPPRESSED = "MailSuppressed"
OLDEST_REFUND_OWED_SECONDS = "OldestRefundOwedSeconds"
PAYMENT_MISMATCH = "PaymentMismatch"


def metric_fields(name: str, value: float = 1, unit: str = "Count") -> dict[str, Any]:
    """The fields that make a JSON log line count `value` in the metric `name` (namespace SessionsMarketplace,
    dimension Stage: an alarm per stage)."""
    from chalicelib.settings import get_settings

    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {"Namespace": NAMESPACE, "Dimensions": [["Stage"]], "Metrics": [{"Name": name, "Unit": unit}]}
            ],
        },
        "Stage": get_settings().stage,
        name: value,
    }


def count(name: str, value: float = 1, unit: str = "Count", **fields: Any) -> None:
    """Log one metric line (with `fields` for the reader). Never raises: a metric is not worth a request."""
    try:
        get_logger().info("metric", extra={"fields": {**fields, **metric_fields(name, value, unit)}})
    except Exception:  # noqa: BLE001, S110 - losing a data point is better than failing the work it counts
        pass
