"""Bookings, their payment, and the result of booking a seat."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from chalicelib.domain.access import Principal
from chalicelib.domain.enums import (
    ACTIVE_STATUSES,
    SEAT_STATUSES,
    BookingStatus,
    CancelReason,
    RefundReason,
    RefundStatus,
)
from chalicelib.domain.events import Event


@dataclass(frozen=True)
class Payment:
    """How a booking of a paid event is paid: what it costs (minor units), the hold on its seat and the
    provider's checkout, the payment once made, and the refund once owed."""

    amount: int
    currency: str
    hold_expires_at: datetime | None = None
    checkout_session: str | None = None
    checkout_url: str | None = None
    # The provider's own deadline for the checkout (at least its minimum lifetime; see services.payments).
    session_expires_at: datetime | None = None
    payment_intent: str | None = None
    # What the provider says was paid (minor units of `paid_currency`): the booking's price, except when a
    # payment of another amount or currency arrived (it confirms nothing and is refunded, as it was paid).
    paid_amount: int | None = None
    paid_currency: str | None = None
    refund_status: RefundStatus | None = None
    refund_id: str | None = None

    @property
    def refund_amount(self) -> int:
        """What a refund gives back: all that was paid (payments recorded before `paid_amount` were the price)."""
        return self.paid_amount if self.paid_amount is not None else self.amount


@dataclass(frozen=True)
class Received:
    """A payment the provider reports: its id, and the amount (minor units) and currency actually paid (None
    when the provider did not say)."""

    payment_intent: str
    amount: int | None
    currency: str | None

    def matches(self, payment: Payment) -> bool:
        """Exactly what the booking costs: anything else never confirms a seat."""
        return self.amount == payment.amount and (self.currency or "").upper() == payment.currency.upper()

    def on(self, payment: Payment) -> Payment:
        """`payment` with this money recorded on it."""
        return replace(
            payment,
            payment_intent=self.payment_intent,
            paid_amount=self.amount if self.amount is not None else payment.amount,
            paid_currency=(self.currency or payment.currency).upper(),
        )


@dataclass(frozen=True)
class Booking:
    """A user's seat (or place in the waitlist) at an event."""

    id: str
    event_id: str
    event_creator: str
    user_id: str
    username: str
    status: BookingStatus
    created_at: datetime
    cancelled_at: datetime | None = None
    payment: Payment | None = None
    # Why it stopped counting (None while active, and for bookings ended before reasons were recorded).
    cancel_reason: CancelReason | None = None
    # Which of its event's seat counters holds its seat (persistence.seats), set by the store when it takes one:
    # cancelling gives the seat back to that counter. Opaque to the rules, and not part of what a booking is
    # (equality ignores it); None: not yet placed (or counter 0).
    seat: int | None = field(default=None, compare=False)

    @property
    def active(self) -> bool:
        """Confirmed, pending and waitlisted bookings count; cancelled and expired ones do not."""
        return self.status in ACTIVE_STATUSES

    @property
    def confirmed(self) -> bool:
        """Holds a seat, paid for where the event is paid."""
        return self.status is BookingStatus.CONFIRMED

    @property
    def holds_seat(self) -> bool:
        """Counted in the event's `seats_booked`: confirmed, or held while its payment is pending."""
        return self.status in SEAT_STATUSES

    @property
    def checkout_url(self) -> str | None:
        """Where the booking is paid for, while its hold lasts and nothing was paid through it yet (a payment of
        another amount closes the checkout, and is refunded)."""
        if self.status is not BookingStatus.PENDING_PAYMENT or self.payment is None or self.payment.payment_intent:
            return None
        return self.payment.checkout_url

    @property
    def hold_expires_at(self) -> datetime | None:
        """When an unpaid hold ends."""
        if self.status is not BookingStatus.PENDING_PAYMENT or self.payment is None:
            return None
        return self.payment.hold_expires_at

    @property
    def refund_status(self) -> RefundStatus | None:
        """The refund of a paid booking that no longer holds its seat (None while there is nothing to refund)."""
        return self.payment.refund_status if self.payment is not None else None

    def shown_to(self, principal: Principal) -> Booking:
        """The booking as `principal` sees it: the checkout link is its owner's alone to pay through."""
        if self.checkout_url is None or principal.user_id == self.user_id:
            return self
        assert self.payment is not None
        return replace(self, payment=replace(self.payment, checkout_url=None))

    def visible_to(self, principal: Principal) -> bool:
        """Its owner, the event's creator and staff see a booking, and may cancel it; nobody else learns it
        exists."""
        return principal.is_staff or principal.user_id in (self.user_id, self.event_creator)


@dataclass(frozen=True)
class RefundPreview:
    """What cancelling a paid, confirmed booking now would do with its money, under the refund policy: `full`
    or not, why (`reason`), until when the owner's own cancellation is refunded in full (None when that does
    not depend on the time), and what a refund gives back (`amount`, a decimal amount of `currency`: what was
    paid, whatever the event's price is now)."""

    full: bool
    reason: RefundReason
    full_refund_until: datetime | None = None
    amount: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True)
class BookingResult:
    """What a booking request produced: the booking, its event as the caller may see it (None once the
    event is deleted), whether this is the stored result of an earlier identical request, and what cancelling
    it now would do with its money (None when no money is at stake)."""

    booking: Booking
    event: Event | None
    replayed: bool = False
    refund_if_cancelled: RefundPreview | None = None
