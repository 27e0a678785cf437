"""pynamodb models, one per table; physical table names are bound at start-up by `bind_tables`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

if TYPE_CHECKING:
    from chalicelib.settings import AwsTimeouts, TableNames

PUBLISHED = "PUBLISHED"
# The one partition of the indexes that list every item of a table (staff lists only: the public lists never
# read them).
ALL = "ALL"
# What the staff's list of users filters on; each combination of them has its own index (see UserModel).
USER_FACETS = ("role", "staff", "active")


def _index(name: str, hash_key: str, range_key: str) -> Any:
    """A global secondary index projecting every attribute, so that a page is one Query."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    attributes = {"Meta": meta, hash_key: UnicodeAttribute(hash_key=True), range_key: UnicodeAttribute(range_key=True)}
    return type(f"_Index_{name.replace('-', '_')}", (GlobalSecondaryIndex,), attributes)()


def facet_attribute(combination: tuple[str, ...]) -> str:
    """The attribute keying the users index of a combination of facets (`f_role_staff`: `CREATOR|true`)."""
    return "f_" + "_".join(combination)


class UserModel(Model):
    """One account per item, keyed by user id.

    The staff's list of users is sorted by username (`name_sk`) and filtered by any combination of role, staff
    and active flags. An index answers a combination with one Query only if its partition key holds exactly
    those values, so each of the 2^3 combinations has its own index: `by-name` (no filter, partition `ALL`),
    `by-role`, `by-staff`, ..., `by-role-staff-active`, keyed by the `f_...` attributes. `by-email` serves
    searches by e-mail address. Items written before these attributes existed are in none of them."""

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
    last_login = UnicodeAttribute(null=True)
    version = NumberAttribute(default=1)
    token_gen = NumberAttribute(default=0)
    # Index keys: `<identity(username)>#<id>`, `<identity(email)>#<id>` (absent without an e-mail), the
    # partition of every user, and the facet values of each combination (`f_role`: `CREATOR`, ...).
    name_sk = UnicodeAttribute(null=True)
    email_sk = UnicodeAttribute(null=True)
    all_key = UnicodeAttribute(null=True)
    f_role = UnicodeAttribute(null=True)
    f_staff = UnicodeAttribute(null=True)
    f_active = UnicodeAttribute(null=True)
    f_role_staff = UnicodeAttribute(null=True)
    f_role_active = UnicodeAttribute(null=True)
    f_staff_active = UnicodeAttribute(null=True)
    f_role_staff_active = UnicodeAttribute(null=True)

    by_name = _index("by-name", "all_key", "name_sk")
    by_email = _index("by-email", "all_key", "email_sk")
    by_role = _index("by-role", "f_role", "name_sk")
    by_staff = _index("by-staff", "f_staff", "name_sk")
    by_active = _index("by-active", "f_active", "name_sk")
    by_role_staff = _index("by-role-staff", "f_role_staff", "name_sk")
    by_role_active = _index("by-role-active", "f_role_active", "name_sk")
    by_staff_active = _index("by-staff-active", "f_staff_active", "name_sk")
    by_role_staff_active = _index("by-role-staff-active", "f_role_staff_active", "name_sk")


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
    # Staff lists, every status: `ALL`, and `<creator>#<status>`.
    all_key = UnicodeAttribute(null=True)
    creator_status = UnicodeAttribute(null=True)

    published_by_created = _PublishedByCreated()
    published_by_start = _PublishedByStart()
    creator_published_by_created = _CreatorPublishedByCreated()
    creator_published_by_start = _CreatorPublishedByStart()
    by_creator = _ByCreator()
    all_by_created = _index("all-by-created", "all_key", "created_sk")
    by_status = _index("by-status", "status", "created_sk")
    by_creator_status = _index("by-creator-status", "creator_status", "created_sk")


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


class AuditModel(Model):
    """One staff write per item, newest first in every index (`at_sk` is `<at>#<id>`): all of them, by actor,
    by object, and by both (`actor_object` is `<actor>#<object>`)."""

    class Meta:
        table_name = "unbound-audit"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    actor_username = UnicodeAttribute()
    action = UnicodeAttribute()
    object_type = UnicodeAttribute()
    object_id = UnicodeAttribute()
    changes = UnicodeAttribute()  # JSON: {"field": [old, new]}
    at_sk = UnicodeAttribute()
    all_key = UnicodeAttribute()
    actor_object = UnicodeAttribute()

    by_time = _index("by-time", "all_key", "at_sk")
    by_actor = _index("by-actor", "actor_id", "at_sk")
    by_object = _index("by-object", "object_id", "at_sk")
    by_actor_object = _index("by-actor-object", "actor_object", "at_sk")


class UploadModel(Model):
    """One upload a user may send to the bucket and then use once; `claimed_at` is set by the write that uses it.
    TTL deletes the record a day after it was made (S3's lifecycle rule deletes the unused file then too)."""

    class Meta:
        table_name = "unbound-uploads"
        billing_mode = "PAY_PER_REQUEST"

    id = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    purpose = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    object_key = UnicodeAttribute()
    event_id = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()
    claimed_at = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


ALL_MODELS: tuple[type[Model], ...] = (
    UserModel,
    UniqueModel,
    EventModel,
    BookingModel,
    IdempotencyModel,
    TokenStateModel,
    CounterModel,
    AuditModel,
    UploadModel,
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
        (AuditModel, names.audit),
        (UploadModel, names.uploads),
    )
    for model, name in pairs:
        model.Meta.table_name = name
        model.Meta.region = region
        # pynamodb types these as int; botocore takes fractions of a second as well.
        model.Meta.connect_timeout_seconds = timeouts.connect_seconds  # type: ignore[assignment]
        model.Meta.read_timeout_seconds = timeouts.read_seconds  # type: ignore[assignment]
        model.Meta.max_retry_attempts = timeouts.max_attempts - 1
