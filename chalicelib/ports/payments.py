"""The payment provider (Stripe): checkout sessions, refunds and its signed events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.domain.bookings import Received


class PaymentUnavailable(Exception):
    """The payment provider could not be reached, timed out or failed: nothing is known to have happened, and
    the same request (with the same idempotency key) may be retried."""


class PaymentRefused(Exception):
    """The payment provider refused the request for good (an amount or currency it does not take, a refund of a
    payment it does not know); retrying will not help."""


class InvalidSignature(Exception):
    """A webhook's signature is missing, malformed, stale or not made with the stage's endpoint secret."""


class InvalidEvent(Exception):
    """A webhook body whose signature is valid but which is not an event object (never sent by the provider)."""


class EventAlreadyApplied(Exception):
    """The provider event was already applied (its record exists): nothing was written."""


@dataclass(frozen=True)
class CheckoutRequest:
    """A checkout for one booking: `amount` in the currency's minor unit, payable until `expires_at` (Unix time)."""

    booking_id: str
    event_id: str
    user_id: str
    title: str
    amount: int
    currency: str
    expires_at: int


@dataclass(frozen=True)
class CheckoutSession:
    """A checkout the provider made: where to pay, and until when (Unix time)."""

    id: str
    url: str
    expires_at: int


@dataclass(frozen=True)
class CheckoutState:
    """What the provider knows of a checkout: `open`, `complete` or `expired`, and the payment if it was paid."""

    session_id: str
    status: str
    paid: bool
    payment_intent: str | None
    amount_total: int | None = None
    currency: str | None = None

    def received(self) -> Received | None:
        """The payment made through the checkout, if it was paid."""
        return _received(self.paid, self.payment_intent, self.amount_total, self.currency)


@dataclass(frozen=True)
class ProviderEvent:
    """A verified webhook event about a checkout (`checkout.session.completed`, `...expired`, or another type
    this API ignores). `booking_id` is the checkout's client reference."""

    id: str
    type: str
    session_id: str | None
    booking_id: str | None
    paid: bool
    payment_intent: str | None
    # The checkout's total (minor units) and currency, as the provider charged them.
    amount_total: int | None = None
    currency: str | None = None

    def received(self) -> Received | None:
        """The payment the event reports, if the checkout was paid."""
        return _received(self.paid, self.payment_intent, self.amount_total, self.currency)


def _received(paid: bool, payment_intent: str | None, amount: int | None, currency: str | None) -> Received | None:
    return Received(payment_intent, amount, currency) if paid and payment_intent else None


class PaymentProvider(Protocol):
    """The payment provider (Stripe): hosted checkouts, refunds and signed webhook events."""

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A checkout for the booking; the same booking always gets the same checkout (the request is
        idempotent per booking). Raises PaymentUnavailable or PaymentRefused."""

    def expire_checkout(self, session_id: str) -> CheckoutState:
        """Close an open checkout so that it can no longer be paid; returns its state afterwards (`complete`
        with its payment if it was paid first). Raises PaymentUnavailable."""

    def refund(self, payment_intent: str, amount: int, booking_id: str) -> str | None:
        """Refund `amount` (minor units of the payment's currency) of a payment, once per booking however often it
        is asked; the refund's id (None when the payment turns out refunded already). Raises PaymentUnavailable or
        PaymentRefused."""

    def read_event(self, payload: bytes, signature: str | None) -> ProviderEvent:
        """The event a webhook carries, once its signature (over the raw body, with the stage's endpoint
        secret) is verified. Raises InvalidSignature, or InvalidEvent for a signed body that is not an event."""
