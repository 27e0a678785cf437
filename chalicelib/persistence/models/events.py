"""The events table and its indexes (the public lists, each creator's, the staff's)."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.persistence.models import index, table


class _PublishedByCreated(GlobalSecondaryIndex["EventModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "published-by-created"
        projection = AllProjection()

    pub = UnicodeAttribute(hash_key=True)
    created_sk = UnicodeAttribute(range_key=True)


class _PublishedByStart(GlobalSecondaryIndex["EventModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "published-by-start"
        projection = AllProjection()

    pub = UnicodeAttribute(hash_key=True)
    starts_sk = UnicodeAttribute(range_key=True)


class _CreatorPublishedByCreated(GlobalSecondaryIndex["EventModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "creator-published-by-created"
        projection = AllProjection()

    pub_creator = UnicodeAttribute(hash_key=True)
    created_sk = UnicodeAttribute(range_key=True)


class _CreatorPublishedByStart(GlobalSecondaryIndex["EventModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "creator-published-by-start"
        projection = AllProjection()

    pub_creator = UnicodeAttribute(hash_key=True)
    starts_sk = UnicodeAttribute(range_key=True)


class _ByCreator(GlobalSecondaryIndex["EventModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-creator"
        projection = AllProjection()

    creator = UnicodeAttribute(hash_key=True)
    created_sk = UnicodeAttribute(range_key=True)


class _SettlementDue(GlobalSecondaryIndex["EventModel"]):  # type: ignore[no-untyped-call]
    """Cancelled events whose bookings are still being settled, by when the sweep should next look at them.
    Keys only: the settlement's progress (counters, position) changes often and is never copied here."""

    class Meta:
        index_name = "settlement-due"
        projection = KeysOnlyProjection()

    settle_due = UnicodeAttribute(hash_key=True)
    settle_sk = UnicodeAttribute(range_key=True)


@table("events")
class EventModel(Model):
    """One event per item. `pub`, `pub_creator` and `starts_sk` are set only where an index should see the item."""

    class Meta:
        table_name = "unbound-events"
        billing_mode = "PAY_PER_REQUEST"
        # Its changes are the notifications' source (services.notifications): a write that rolls back is
        # never in the stream, so it never tells anyone anything.
        stream_view_type = "NEW_AND_OLD_IMAGES"

    id = UnicodeAttribute(hash_key=True)
    title = UnicodeAttribute()
    description = UnicodeAttribute()
    creator = UnicodeAttribute()
    creator_username = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    starts_at = UnicodeAttribute(null=True)
    ends_at = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(default="UTC")
    capacity = NumberAttribute(null=True)
    # How many seat counters it has (models.seats; absent: one). Its seat counts live there, never here: this
    # item is copied into eight indexes, and booking it would make every booking of an event queue on it.
    seat_shards = NumberAttribute(null=True)
    # The most `seat_shards` it ever had (never lowered; absent: `seat_shards`): how many parts of the bookings'
    # by-event-part index hold its bookings (models.bookings).
    booking_parts = NumberAttribute(null=True)
    # A copy of the counters' totals for the lists, which read this item from an index and nothing else (one
    # request per page): written by the notifier from the bookings' stream (persistence.events.copy_seats), so
    # a list may lag a booking by a second or so; `listed_at` orders those writes. An event's page and a
    # booking read the counters themselves.
    listed_booked = NumberAttribute(null=True)
    listed_waitlisted = NumberAttribute(null=True)
    listed_at = UnicodeAttribute(null=True)
    price = UnicodeAttribute(default="0.00")
    currency = UnicodeAttribute(default="USD")
    location = UnicodeAttribute(default="")
    online_url = UnicodeAttribute(null=True)
    image = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    version = NumberAttribute(default=1)
    category = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, null=True)
    city = UnicodeAttribute(null=True)
    online = BooleanAttribute(null=True)
    # The start time the holders were reminded of (services.notifications.mark_reminders).
    reminded_for = UnicodeAttribute(null=True)
    # When sales open (the on-sale queue, services.queue).
    sales_open_at = UnicodeAttribute(null=True)
    # Index keys: sparse on purpose, so that drafts and cancelled events never enter the public lists.
    created_sk = UnicodeAttribute()
    starts_sk = UnicodeAttribute(null=True)
    pub = UnicodeAttribute(null=True)
    pub_creator = UnicodeAttribute(null=True)
    # Staff lists, every status: `ALL`, and `<creator>#<status>`.
    all_key = UnicodeAttribute(null=True)
    creator_status = UnicodeAttribute(null=True)
    # The settlement of a cancelled event's bookings (services.event_settlement): `settle_due` (SETTLE) and
    # `settle_sk` (`<next look>#<id>`) only while bookings remain to settle; the rest stays as its record.
    settle_due = UnicodeAttribute(null=True)
    settle_sk = UnicodeAttribute(null=True)
    settle_total = NumberAttribute(null=True)
    settle_cursor = UnicodeAttribute(null=True)
    settle_started_at = UnicodeAttribute(null=True)
    settled_at = UnicodeAttribute(null=True)
    refunds_pending = NumberAttribute(null=True)
    refunds_succeeded = NumberAttribute(null=True)
    refunds_failed = NumberAttribute(null=True)

    published_by_created = _PublishedByCreated()
    published_by_start = _PublishedByStart()
    creator_published_by_created = _CreatorPublishedByCreated()
    creator_published_by_start = _CreatorPublishedByStart()
    by_creator = _ByCreator()
    all_by_created = index("all-by-created", "all_key", "created_sk")
    by_status = index("by-status", "status", "created_sk")
    by_creator_status = index("by-creator-status", "creator_status", "created_sk")
    settlement_due = _SettlementDue()
