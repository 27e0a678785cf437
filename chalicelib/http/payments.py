"""Payments: the provider's webhook, and the scheduled sweep of holds that ended without one.

The webhook takes no JWT (the provider signs its calls instead) and reads the raw body, since the signature
covers exactly the bytes sent. A bad or missing signature is refused before anything is read or written."""

from __future__ import annotations

import time
from typing import Any

from chalice.app import Blueprint, Rate, Response

from chalicelib import bootstrap as deps
from chalicelib.errors import MalformedRequest, PayloadTooLarge, ServiceUnavailable
from chalicelib.http.contract import Parameter, RawBody
from chalicelib.http.responses import json_response
from chalicelib.http.routing import Router
from chalicelib.http.views import WEBHOOK_RECEIPT
from chalicelib.logs import lambda_invocation
from chalicelib.settings import check_startup, get_settings, running_in_lambda

payments_bp = Blueprint(__name__)
routes = Router(payments_bp)
if running_in_lambda():
    check_startup(get_settings())  # this module is the sweep function's entry point too: its cold start

# The sweep's Lambda may run 60 s (.chalice/config.json); it stops taking new work well before.
SWEEP_BUDGET_SECONDS = 40.0
SWEEP_RATE = Rate(1, unit=Rate.MINUTES)

STRIPE_SIGNATURE = Parameter(
    "Stripe-Signature",
    {"type": "string"},
    "`t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<raw body>' with the stage's endpoint secret>`, as Stripe signs.",
    required=True,
)
STRIPE_EVENT = RawBody(
    "application/json",
    {
        "type": "object",
        "description": "A Stripe event. Only `checkout.session.completed` and `checkout.session.expired` change "
        "anything; `data.object.client_reference_id` is the booking's id.",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "event"},
            "type": {"type": "string"},
            "data": {"type": "object", "properties": {"object": {"type": "object"}}, "required": ["object"]},
        },
        "required": ["id", "type", "data"],
    },
    "The event exactly as Stripe sent it: its signature covers these bytes.",
)


@routes.route(
    "/api/payments/webhook",
    "POST",
    summary="Stripe's webhook: confirms paid holds, frees expired ones (no JWT: signed by Stripe)",
    raw_body=STRIPE_EVENT,
    headers=(STRIPE_SIGNATURE,),
    responses={200: WEBHOOK_RECEIPT},
    errors=(429,),
)
def webhook() -> Response:
    """Verify the event's signature, then apply it at most once."""
    from chalicelib import metrics
    from chalicelib.ports.payments import InvalidEvent, InvalidSignature, PaymentUnavailable
    from chalicelib.services import settlement

    request = routes.request
    raw = request.raw_body or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > deps.settings().max_body_bytes:
        metrics.count(metrics.WEBHOOK_REJECTED, reason="too_large")
        raise PayloadTooLarge(f"Request body is larger than {deps.settings().max_body_bytes} bytes.")
    signature = request.headers.get("stripe-signature")
    if not signature:
        # Refused before anything else, whatever the stage's configuration: it cannot be a provider's call.
        metrics.count(metrics.WEBHOOK_REJECTED, reason="signature")
        raise MalformedRequest("Invalid Stripe-Signature: No Stripe-Signature header value was provided.")
    terms = deps.payment_terms()
    if terms is None:
        raise ServiceUnavailable("Payments are not configured.")
    try:
        event = terms.provider.read_event(raw, signature)
    except InvalidSignature as exc:
        metrics.count(metrics.WEBHOOK_REJECTED, reason="signature")
        raise MalformedRequest(f"Invalid Stripe-Signature: {exc}.") from None
    except InvalidEvent as exc:
        metrics.count(metrics.WEBHOOK_REJECTED, reason="body")
        raise MalformedRequest(f"Invalid webhook body: {exc}.") from None
    except PaymentUnavailable:
        raise ServiceUnavailable() from None
    metrics.count(metrics.WEBHOOK_RECEIVED, event_type=event.type)
    try:
        outcome = settlement.handle_event(deps.bookings(), deps.events(), terms, event)
    except PaymentUnavailable:
        raise ServiceUnavailable() from None
    return json_response({"event": event.id, "outcome": outcome.value})


@payments_bp.schedule(
    SWEEP_RATE,
    name="sweep_payments",
    description="End unpaid holds; settle cancelled events; issue owed refunds; mark events due for reminders",
)
def sweep_payments(event: Any) -> dict[str, Any]:
    """Every minute: holds whose time is up without a webhook, the bookings of cancelled events, and refunds
    owed (new or to retry). Without payments configured, only cancelled events are settled."""
    from chalicelib.domain.common import utcnow
    from chalicelib.services import notifications, settlement

    with lambda_invocation("sweep_payments", event.context):
        terms = deps.payment_terms()
        started = time.monotonic()
        counts = settlement.sweep(deps.bookings(), deps.events(), terms, budget_seconds=SWEEP_BUDGET_SECONDS)
        # Events starting within 24 h are marked; the notifier sends their reminders from the mark.
        reminders = notifications.mark_reminders(deps.events(), utcnow())
        return {**counts, "reminders": reminders, "seconds": round(time.monotonic() - started, 3)}
