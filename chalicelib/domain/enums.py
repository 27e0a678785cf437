"""The marketplace's vocabulary: every enumeration of roles, access levels, statuses and kinds."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """What a signed-in account may do beyond booking."""

    USER = "USER"
    CREATOR = "CREATOR"


class Access(enum.StrEnum):
    """Access levels of the API's routes, from anyone to staff only."""

    PUBLIC = "public"
    SIGNED_IN = "signed_in"
    CREATOR = "creator"  # creators and staff
    STAFF = "staff"


class BookingStatus(enum.StrEnum):
    """A booking holds a seat (confirmed), holds one until its payment or its hold's end (pending_payment),
    waits for one (waitlisted), or no longer counts (cancelled; expired: a hold that ended unpaid)."""

    CONFIRMED = "confirmed"
    PENDING_PAYMENT = "pending_payment"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


# Bookings that count: each holds a seat (confirmed, pending payment) or a waitlist place, and its marker.
ACTIVE_STATUSES = frozenset({BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT, BookingStatus.WAITLISTED})


# Bookings counted in an event's `seats_booked`.
SEAT_STATUSES = frozenset({BookingStatus.CONFIRMED, BookingStatus.PENDING_PAYMENT})


class RefundStatus(enum.StrEnum):
    """Where the money of a paid booking that no longer holds a seat stands: a refund is owed and being issued
    (pending), the provider accepted it (succeeded), it refused it for good (failed: staff must act), or the
    refund policy keeps the money (not_refundable)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOT_REFUNDABLE = "not_refundable"


class CancelReason(enum.StrEnum):
    """Why a booking stopped counting: its owner cancelled it, the event's creator (organizer) or staff did, the
    event itself was cancelled (or deleted), the customer left the checkout of a held seat (checkout_cancelled),
    or the hold ran out unpaid (hold_expired). The last two end a booking as `expired`, the others as
    `cancelled`."""

    OWNER = "owner"
    ORGANIZER = "organizer"
    STAFF = "staff"
    EVENT_CANCELLED = "event_cancelled"
    CHECKOUT_CANCELLED = "checkout_cancelled"
    HOLD_EXPIRED = "hold_expired"


class RefundReason(enum.StrEnum):
    """Why the refund policy refunds a payment in full, or keeps it (after_cutoff: the only case)."""

    EVENT_CANCELLED = "event_cancelled"  # the event was cancelled (or deleted)
    CANCELLED_BY_ORGANIZER = "cancelled_by_organizer"  # the event's creator or staff cancelled the booking
    NO_START_TIME = "no_start_time"  # the owner cancelled an event with no start time
    BEFORE_CUTOFF = "before_cutoff"  # the owner cancelled at least the cutoff before the start
    AFTER_CUTOFF = "after_cutoff"  # the owner cancelled later: not refunded
    LATE_PAYMENT = "late_payment"  # paid after the booking had given up its seat
    PAYMENT_MISMATCH = "payment_mismatch"  # paid another amount or currency than the booking's
    REFUNDED_BY_ORGANIZER = "refunded_by_organizer"  # the event's creator or staff refunded it


class EventStatus(enum.StrEnum):
    """Lifecycle of an event; only published events are listed publicly."""

    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class AuditAction(enum.StrEnum):
    """What a staff member did; the part before the dot is the type of object acted on."""

    USER_CREATE = "user.create"
    USER_UPDATE = "user.update"
    EVENT_UPDATE = "event.update"
    EVENT_CANCEL = "event.cancel"
    EVENT_DELETE = "event.delete"
    BOOKING_CANCEL = "booking.cancel"
    BOOKING_REFUND = "booking.refund"

    @property
    def object_type(self) -> str:
        """`user`, `event` or `booking`."""
        return self.value.split(".", 1)[0]


class UploadPurpose(enum.StrEnum):
    """What an uploaded image is for, which decides who may use it and where."""

    AVATAR = "avatar"
    EVENT_IMAGE = "event_image"
