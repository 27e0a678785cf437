"""The Notifier function: the bookings' and events' table streams (DynamoDB Streams, logical id Notifier's
event source mappings) delivered as notifications (services.notifications)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.logs import lambda_handler

notifier_bp = Blueprint(__name__)


@notifier_bp.lambda_function(name="notifier")
@lambda_handler("notifier")
def notifier(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Send what a batch of changes tells. A change that failed is reported (ReportBatchItemFailures): Lambda
    retries the batch from it, each notice already sent is not sent again, and after the last attempt the
    batch's description goes to the dead-letter queue (an alarm watches it)."""
    # Imported here: the API's functions load this module with the app, never the notifier's code.
    from chalicelib import bootstrap
    from chalicelib.domain.common import utcnow
    from chalicelib.services import notifications

    changes = bootstrap.stream_changes(event.get("Records", []))
    failed = notifications.handle(bootstrap.outbox(), changes, utcnow())
    return {"batchItemFailures": [{"itemIdentifier": position} for position in failed[:1]]}
