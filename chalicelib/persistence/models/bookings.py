"""The bookings table and its indexes (per user, per event and part, the waitlist, payment work due)."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.persistence.models import table


class _BookingsByUser(GlobalSecondaryIndex["BookingModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_sk = UnicodeAttribute(range_key=True)


class _BookingsByEventPart(GlobalSecondaryIndex["BookingModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-event-part"
        projection = AllProjection()

    event_part = UnicodeAttribute(hash_key=True)
    created_sk = UnicodeAttribute(range_key=True)


class _EventWaitlist(GlobalSecondaryIndex["BookingModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "event-waitlist"
        projection = AllProjection()

    wl_event = UnicodeAttribute(hash_key=True)
    created_sk = UnicodeAttribute(range_key=True)


class _PaymentsDue(GlobalSecondaryIndex["BookingModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "payments-due"
        projection = AllProjection()

    pay_due = UnicodeAttribute(hash_key=True)
    pay_due_sk = UnicodeAttribute(range_key=True)


@table("bookings")
class BookingModel(Model):
    """One booking per item. `wl_event` is set only while the booking waits, so the waitlist index holds
    exactly the waiting bookings of each event, oldest first. `pay_due` (HOLD or REFUND) and `pay_due_sk`
    (`<when>#<id>`) are set only while payment work is due on the booking: a hold until it is paid or ends (or
    the checkout of a cancelled hold, until the provider has closed it), a refund until the provider has taken
    it; the sweep reads that index, never the table."""

    class Meta:
        table_name = "unbound-bookings"
        billing_mode = "PAY_PER_REQUEST"
        # Its changes are the notifications' source (services.notifications): a write that rolls back is
        # never in the stream, so it never tells anyone anything.
        stream_view_type = "NEW_AND_OLD_IMAGES"

    id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute()
    event_creator = UnicodeAttribute()
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    cancelled_at = UnicodeAttribute(null=True)
    created_sk = UnicodeAttribute()
    wl_event = UnicodeAttribute(null=True)
    cancel_reason = UnicodeAttribute(null=True)
    # The event's seat counter holding its seat (models.seats; absent: counter 0, as before counters split).
    seat_shard = NumberAttribute(null=True)
    # `<event id>#<part>`: the key of its event's index partition (by-event-part), fixed when it is made (its
    # seat counter then, 0 while waiting) and never moved. One key per event put every booking of a popular
    # event into one index partition, 1,000 writes a second; a part per counter spreads them as the counters
    # do. Absent only on bookings stored before the index (`manage.py reindex` writes it).
    event_part = UnicodeAttribute(null=True)
    # Paid events only: the price in minor units, the hold, the checkout, the payment and its refund.
    amount = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    hold_expires_at = UnicodeAttribute(null=True)
    checkout_session = UnicodeAttribute(null=True)
    checkout_url = UnicodeAttribute(null=True)
    session_expires_at = UnicodeAttribute(null=True)
    payment_intent = UnicodeAttribute(null=True)
    paid_amount = NumberAttribute(null=True)
    paid_currency = UnicodeAttribute(null=True)
    refund_status = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    pay_due = UnicodeAttribute(null=True)
    pay_due_sk = UnicodeAttribute(null=True)

    by_user = _BookingsByUser()
    by_event_part = _BookingsByEventPart()
    event_waitlist = _EventWaitlist()
    payments_due = _PaymentsDue()
