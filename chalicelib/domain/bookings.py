"""Bookings, their payment, and the result of booking a seat."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain.access import Principal
from chalicelib.domain.enums import ACTIVE_STATUSES, SEAT_STATUSES, BookingStatus, RefundStatus
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
    refund_status: RefundStatus | None = None
    refund_id: str | None = None


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
        """Where the booking is paid for, while its hold lasts."""
        if self.status is not BookingStatus.PENDING_PAYMENT or self.payment is None:
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
class BookingResult:
    """What a booking request produced: the booking, its event as the caller may see it (None once the
    event is deleted), and whether this is the stored result of an earlier identical request."""

    booking: Booking
    event: Event | None
    replayed: bool = False
