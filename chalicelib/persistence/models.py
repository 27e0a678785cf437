"""pynamodb models, one per table; physical table names are bound at start-up by `bind_tables`."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.settings import AwsTimeouts, TableNames

PUBLISHED = "PUBLISHED"


class UserModel(Model):
    """One account per item, keyed by user id."""

    class Meta:
        table_name = "unbound-users"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    username = UnicodeAttribute()
    email = UnicodeAttribute(default="")
    password_hash = UnicodeAttribute()
    role = UnicodeAttribute()
    is_staff = BooleanAttribute(default=False)
    is_active = BooleanAttribute(default=True)
    avatar = UnicodeAttribute(null=True)
    date_joined = UnicodeAttribute()
    version = NumberAttribute(default=1)
    token_gen = NumberAttribute(default=0)


class UniqueModel(Model):
    """Uniqueness markers: `USERNAME#<identity>` and `EMAIL#<identity>` point to the user holding them,
    `BOOKING#<event>#<user>` to the active booking of that user for that event (with its status, so that one
    read tells whether the user holds a seat)."""

    class Meta:
        table_name = "unbound-uniques"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    status = UnicodeAttribute(null=True)


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


class EventModel(Model):
    """One event per item. `pub`, `pub_creator` and `starts_sk` are set only where an index should see the item."""

    class Meta:
        table_name = "unbound-events"
        billing_mode = "PAY_PER_REQUEST"

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
    seats_booked = NumberAttribute(default=0)
    waitlisted = NumberAttribute(default=0)
    price = UnicodeAttribute(default="0.00")
    currency = UnicodeAttribute(default="USD")
    location = UnicodeAttribute(default="")
    online_url = UnicodeAttribute(null=True)
    image = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    version = NumberAttribute(default=1)
    # Index keys: sparse on purpose, so that drafts and cancelled events never enter the public lists.
    created_sk = UnicodeAttribute()
    starts_sk = UnicodeAttribute(null=True)
    pub = UnicodeAttribute(null=True)
    pub_creator = UnicodeAttribute(null=True)

    published_by_created = _PublishedByCreated()
    published_by_start = _PublishedByStart()
    creator_published_by_created = _CreatorPublishedByCreated()
    creator_published_by_start = _CreatorPublishedByStart()
    by_creator = _ByCreator()


class _BookingsByUser(GlobalSecondaryIndex["BookingModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-user"
        projection = AllProjection()

    user_id = UnicodeAttribute(hash_key=True)
    created_sk = UnicodeAttribute(range_key=True)


class _BookingsByEvent(GlobalSecondaryIndex["BookingModel"]):  # type: ignore[no-untyped-call]
    class Meta:
        index_name = "by-event"
        projection = AllProjection()

    event_id = UnicodeAttribute(hash_key=True)
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


class BookingModel(Model):
    """One booking per item. `wl_event` is set only while the booking waits, so the waitlist index holds
    exactly the waiting bookings of each event, oldest first. `pay_due` (HOLD or REFUND) and `pay_due_sk`
    (`<when>#<id>`) are set only while payment work is due on the booking: a hold until it is paid or ends, a
    refund until the provider has taken it; the sweep reads that index, never the table."""

    class Meta:
        table_name = "unbound-bookings"
        billing_mode = "PAY_PER_REQUEST"

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
    # Paid events only: the price in minor units, the hold, the checkout, the payment and its refund.
    amount = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    hold_expires_at = UnicodeAttribute(null=True)
    checkout_session = UnicodeAttribute(null=True)
    checkout_url = UnicodeAttribute(null=True)
    session_expires_at = UnicodeAttribute(null=True)
    payment_intent = UnicodeAttribute(null=True)
    refund_status = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    pay_due = UnicodeAttribute(null=True)
    pay_due_sk = UnicodeAttribute(null=True)

    by_user = _BookingsByUser()
    by_event = _BookingsByEvent()
    event_waitlist = _EventWaitlist()
    payments_due = _PaymentsDue()


class IdempotencyModel(Model):
    """The first result of a request sent with an Idempotency-Key, per user and key (`<user id>#<key>`), for
    24 hours; and the payment provider's events already applied (`stripe-event#<event id>`, bound to the
    event's type and booking), for 30 days: the provider's own idempotency key is its event id."""

    class Meta:
        table_name = "unbound-idempotency"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    fingerprint = UnicodeAttribute()
    result = UnicodeAttribute(null=True)  # JSON of the domain result (persistence.snapshots)
    expires_at = TTLAttribute()


class TokenStateModel(Model):
    """Token state, each item living (TTL) only as long as the tokens it speaks for:
    `FAMILY#<family>`: the live refresh token (`current` jti) of a sign-in's family, or `revoked`;
    `RESET#<user id>`: the user's pending password reset (`digest` of the e-mailed token, its `binding`)."""

    class Meta:
        table_name = "unbound-tokens"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute(null=True)
    current = UnicodeAttribute(null=True)
    revoked = BooleanAttribute(null=True)
    digest = UnicodeAttribute(null=True)
    binding = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


class CounterModel(Model):
    """One throttle counter per key (`signin-user#...`, `signin-ip#...`, ...): uses in the window ending at
    `expires_at`, which TTL then deletes."""

    class Meta:
        table_name = "unbound-throttle"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute()


ALL_MODELS: tuple[type[Model], ...] = (
    UserModel,
    UniqueModel,
    EventModel,
    BookingModel,
    IdempotencyModel,
    TokenStateModel,
    CounterModel,
)


def bind_tables(names: TableNames, region: str, timeouts: AwsTimeouts) -> None:
    """Point the models at one stage's tables, with timeouts that end a hung call in a few seconds;
    pynamodb reconnects when a name changes."""
    pairs: tuple[tuple[type[Model], str], ...] = (
        (UserModel, names.users),
        (UniqueModel, names.uniques),
        (EventModel, names.events),
        (BookingModel, names.bookings),
        (IdempotencyModel, names.idempotency),
        (TokenStateModel, names.tokens),
        (CounterModel, names.throttle),
    )
    for model, name in pairs:
        model.Meta.table_name = name
        model.Meta.region = region
        # pynamodb types these as int; botocore takes fractions of a second as well.
        model.Meta.connect_timeout_seconds = timeouts.connect_seconds  # type: ignore[assignment]
        model.Meta.read_timeout_seconds = timeouts.read_seconds  # type: ignore[assignment]
        model.Meta.max_retry_attempts = timeouts.max_attempts - 1
