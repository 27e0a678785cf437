"""The Notifier function: the bookings' and events' table streams (DynamoDB Streams, logical id Notifier's
event source mappings) delivered as notifications (services.notifications); and the hourly SendDigests function,
the creators' daily digests (services.digests)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Rate

from chalicelib.logs import lambda_handler, lambda_invocation

notifier_bp = Blueprint(__name__)
# Hourly: the digests are due from 07:00 UTC, and a run that failed is tried again the same morning; a run whose
# day is done reads one item. SendDigests may run 300 s (.chalice/config.json); it stops taking creators before.
DIGEST_RATE = Rate(1, unit=Rate.HOURS)
DIGEST_BUDGET_SECONDS = 240.0


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


@notifier_bp.schedule(DIGEST_RATE, name="send_digests", description="Send the creators' daily digests, once each")
def send_digests(event: Any) -> dict[str, Any]:
    """Every hour: the digests of the day before, from 07:00 UTC until all are sent (services.digests)."""
    from dataclasses import asdict

    from chalicelib import bootstrap
    from chalicelib.domain.common import utcnow
    from chalicelib.services import digests

    with lambda_invocation("send_digests", event.context):
        run = digests.send_digests(bootstrap.outbox(), bootstrap.digest_book(), utcnow(), DIGEST_BUDGET_SECONDS)
        return asdict(run)
