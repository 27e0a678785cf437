"""The payment port's one adapter, on stripe-python: Checkout Sessions, refunds and webhook signatures.

The same code runs everywhere: deployed stages talk to Stripe with keys from Secrets Manager; the local stack
and the tests point its API base (STRIPE_API_BASE) at devstack's stand-in, which signs its webhooks like
Stripe. stripe-python (and requests under it) is imported on first use: the public reads never load it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.adapters.aws import client
from chalicelib.adapters.secrets import Expiring
from chalicelib.ports.payments import (
    CheckoutRequest,
    CheckoutSession,
    CheckoutState,
    InvalidEvent,
    InvalidSignature,
    PaymentRefused,
    PaymentUnavailable,
    ProviderEvent,
)
from chalicelib.settings import STRIPE_ATTEMPTS, Settings

if TYPE_CHECKING:
    from collections.abc import Callable

# Stripe's webhook tolerance: a signature older than this is refused (a captured event cannot be replayed later).
SIGNATURE_TOLERANCE_SECONDS = 300
# Refunding a payment already refunded in full: what the refund was for has happened.
ALREADY_REFUNDED = "charge_already_refunded"


@dataclass(frozen=True)
class StripeKeys:
    """The secret API key and the webhook endpoint's signing secret."""

    secret_key: str
    webhook_secret: str


def checkout_key(booking_id: str) -> str:
    """Stripe's idempotency key of a booking's Checkout Session: a retried request finds the first session."""
    return f"checkout-{booking_id}"


def refund_key(booking_id: str) -> str:
    """Stripe's idempotency key of a booking's refund: however often it is retried, one refund."""
    return f"refund-{booking_id}"


class StripePayments:
    """ports.PaymentProvider on Stripe. The keys are read on first use and again once older than
    STRIPE_KEYS_MAX_AGE_SECONDS (a key rolled in the secret is used within that time); the client is made on
    first use and again when the secret key changes."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        # A failed re-read keeps the keys it had for a short grace (secrets.STALE_GRACE_SECONDS) rather than
        # answering 503: keys that worked minutes ago still work unless revoked at Stripe, where a revoked key
        # fails anyway, and a 503 would refuse paid bookings and webhooks for a Secrets Manager hiccup.
        self._keys = Expiring(
            lambda: _load_keys(settings), settings.payments.keys_max_age_seconds, PaymentUnavailable, clock
        )
        self._client: Any = None
        self._client_key: str | None = None

    def keys(self) -> StripeKeys:
        """The stage's keys: from the environment locally, from the stage's secret in deployed stages."""
        return self._keys.get()

    def _stripe(self) -> Any:
        keys = self.keys()
        with self._lock:
            if self._client is None or self._client_key != keys.secret_key:
                import stripe

                payments = self._settings.payments
                http = stripe.RequestsClient(timeout=(self._settings.aws.connect_seconds, payments.timeout_seconds))
                self._client = stripe.StripeClient(
                    keys.secret_key,
                    base_addresses={"api": payments.api_base} if payments.api_base else None,
                    max_network_retries=STRIPE_ATTEMPTS - 1,
                    http_client=http,
                )
                self._client_key = keys.secret_key
            return self._client

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        web = self._settings.web_app_url
        params = {
            "mode": "payment",
            "client_reference_id": request.booking_id,
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount,
                        "product_data": {"name": request.title[:250] or "Session"},
                    },
                }
            ],
            # Cards only: a completed checkout is then a paid one (no delayed payment methods to wait for).
            "payment_method_types": ["card"],
            "expires_at": request.expires_at,
            "success_url": f"{web}/events/{request.event_id}?booking={request.booking_id}&checkout=success",
            "cancel_url": f"{web}/events/{request.event_id}?booking={request.booking_id}&checkout=cancelled",
            "metadata": {"booking_id": request.booking_id, "event_id": request.event_id, "user_id": request.user_id},
            "payment_intent_data": {"metadata": {"booking_id": request.booking_id}},
        }
        session = self._call("sessions", "create", params, {"idempotency_key": checkout_key(request.booking_id)})
        return CheckoutSession(id=session["id"], url=session["url"], expires_at=int(session["expires_at"]))

    def expire_checkout(self, session_id: str) -> CheckoutState:
        try:
            session = self._call("sessions", "expire", session_id)
        except PaymentRefused:
            # Only an open session can be expired: this one was paid or expired first; say which.
            session = self._call("sessions", "retrieve", session_id)
        amount = session.get("amount_total")
        return CheckoutState(
            session_id=session["id"],
            status=str(session.get("status")),
            paid=session.get("payment_status") == "paid",
            payment_intent=_id_of(session.get("payment_intent")),
            amount_total=int(amount) if isinstance(amount, int) else None,
            currency=str(session["currency"]) if session.get("currency") else None,
        )

    def refund(self, payment_intent: str, amount: int, booking_id: str) -> str | None:
        params = {
            "payment_intent": payment_intent,
            "amount": amount,
            "reason": "requested_by_customer",
            "metadata": {"booking_id": booking_id},
        }
        try:
            refund = self._call("refunds", "create", params, {"idempotency_key": refund_key(booking_id)})
        except _AlreadyRefunded:
            return None
        return str(refund["id"])

    def read_event(self, payload: bytes, signature: str | None) -> ProviderEvent:
        import stripe

        secret = self.keys().webhook_secret
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEvent("the body is not UTF-8") from None
        try:
            stripe.WebhookSignature.verify_header(text, signature, secret, SIGNATURE_TOLERANCE_SECONDS)
        except stripe.SignatureVerificationError as exc:
            raise InvalidSignature(str(exc).split(".")[0]) from exc
        return parse_event(text)

    def _call(self, resource: str, method: str, *args: Any) -> dict[str, Any]:
        """One API call, its failures sorted into the port's: worth retrying later, or refused for good."""
        import stripe

        api = self._stripe().v1
        service = api.checkout.sessions if resource == "sessions" else api.refunds
        try:
            result = getattr(service, method)(*args)
        except stripe.InvalidRequestError as exc:
            if exc.code == ALREADY_REFUNDED:
                raise _AlreadyRefunded() from exc
            raise PaymentRefused(f"{exc.code or 'invalid_request'}: {exc.user_message or ''}"[:200]) from exc
        except stripe.IdempotencyError as exc:
            raise PaymentRefused("idempotency_error") from exc
        except stripe.StripeError as exc:
            # Connection failures, timeouts, rate limits, Stripe's own errors, and keys that do not work (a stage
            # whose secret was never filled in): nothing happened, and it may work later.
            raise PaymentUnavailable(type(exc).__name__) from exc
        data: dict[str, Any] = result.to_dict()
        return data


class _AlreadyRefunded(Exception):
    pass


def parse_event(text: str) -> ProviderEvent:
    """A verified webhook body as the port's event. Stripe only ever sends an event object (`id`, `type`,
    `data.object`); anything else, however well signed, is InvalidEvent."""
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidEvent("the body is not JSON") from None
    wrapper = data.get("data") if isinstance(data, dict) else None
    obj = wrapper.get("object") if isinstance(wrapper, dict) else None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("id"), str)
        or not data["id"]
        or not isinstance(data.get("type"), str)
        or not isinstance(obj, dict)
    ):
        raise InvalidEvent("the body is not a Stripe event")
    is_checkout = obj.get("object") == "checkout.session"
    amount = obj.get("amount_total")
    currency = obj.get("currency")
    return ProviderEvent(
        id=data["id"],
        type=data["type"],
        session_id=_text(obj.get("id")) if is_checkout else None,
        booking_id=_text(obj.get("client_reference_id")) if is_checkout else None,
        paid=is_checkout and obj.get("payment_status") == "paid",
        payment_intent=_id_of(obj.get("payment_intent")) if is_checkout else None,
        # bool is an int in Python, never an amount.
        amount_total=amount if is_checkout and isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=currency if is_checkout and isinstance(currency, str) else None,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _id_of(value: Any) -> str | None:
    """An expandable field: an id, an expanded object, or nothing."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def _load_keys(settings: Settings) -> StripeKeys:
    payments = settings.payments
    if payments.secret_arn is None:
        if payments.secret_key is None or payments.webhook_secret is None:
            raise PaymentUnavailable("payments are not configured")
        return StripeKeys(payments.secret_key, payments.webhook_secret)
    try:
        value = client("secretsmanager", settings).get_secret_value(SecretId=payments.secret_arn)["SecretString"]
        stored = json.loads(value)
        keys = StripeKeys(str(stored.get("secret_key") or ""), str(stored.get("webhook_secret") or ""))
    except Exception as exc:
        raise PaymentUnavailable("the Stripe secret could not be read") from exc
    if not keys.secret_key or not keys.webhook_secret:
        # The stack creates the secret empty; the operator fills it in (docs/payments.md, Deployed stages).
        raise PaymentUnavailable("the Stripe secret holds no keys yet")
    return keys
