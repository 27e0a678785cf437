"""Translate DynamoDB failures into domain errors: throttling and outages become 503, conflicts 409."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import PynamoDBException, TransactWriteError

from chalicelib import metrics
from chalicelib.budget import store_call, store_failed
from chalicelib.errors import Busy, ServiceUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterator

RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """Per-item reasons of a cancelled transaction, in request order (None where the item was fine)."""
    reasons = exc.cancellation_reasons or []
    return [reason.code if reason is not None else None for reason in reasons]


def error_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code behind a pynamodb error; None when there was no answer at all (a timeout, a refused
    connection), where pynamodb's own `cause_response_code` fails on the missing response."""
    response = getattr(exc.cause, "response", None)
    code = (response or {}).get("Error", {}).get("Code")
    return code if isinstance(code, str) else None


@contextmanager
def translate_errors() -> Iterator[None]:
    """Let expected outcomes through, turn dependency failures into ServiceUnavailable (Busy for a conflict). Inside a
    request's budget (chalicelib.budget): a store that already failed the request is not called again."""
    with store_call():
        try:
            yield
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            if "TransactionConflict" in codes or error_code(exc) == "TransactionConflictException":
                metrics.count(metrics.TRANSACTION_CONFLICT)
                raise Busy() from exc
            store_failed()
            raise ServiceUnavailable() from exc
        except (PynamoDBException, BotoCoreError) as exc:
            # Unknown causes (connection errors, timeouts) are outages too: the client may retry, nothing was
            # written.
            store_failed()
            raise ServiceUnavailable() from exc
