"""What the API shows of each resource: one field list per resource, from which both the answer (`render`)
and its JSON schema in the OpenAPI document (`schema`) are made, so the two cannot disagree.

Plain data and functions only: rendering an answer loads no validation library."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from chalicelib.domain.common import iso
from chalicelib.domain.enums import (
    AuditAction,
    BookingStatus,
    CancelReason,
    EventStatus,
    RefundReason,
    RefundStatus,
    Role,
)
from chalicelib.domain.notifications import TRANSACTIONAL
from chalicelib.domain.search import CATEGORIES
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    import enum
    from collections.abc import Callable, Iterator
    from decimal import Decimal

REF = "#/components/schemas/{name}"


def _same(value: Any) -> Any:
    return value


def _value(member: enum.Enum) -> Any:
    return member.value


def _price(value: Decimal) -> str:
    return f"{value:.2f}"


def _full_or_none(full: bool) -> str:
    return "full" if full else "none"


def _media_url(value: str) -> str:
    # Stored as the key of the published copy, so the address follows the configured origin (the local AWS's
    # port may change between runs). A link from before uploads existed is shown as it was stored.
    if "://" in value:
        return value
    return f"{get_settings().media_base_url}/{value}"


# NamedTuples rather than frozen dataclasses: a cold start creates these classes, and a dataclass costs four
# times as much to create (its methods are each compiled by exec).
class Kind(NamedTuple):
    """A field's JSON schema and how a domain value becomes JSON."""

    schema: dict[str, Any]
    render: Callable[[Any], Any] = _same


def choice(values: type[enum.Enum]) -> Kind:
    """One of an enum's values."""
    return Kind({"type": "string", "enum": [m.value for m in values]}, _value)


ID = Kind({"type": "string", "pattern": "^[0-7][0-9A-HJKMNP-TV-Z]{25}$", "description": "A ULID."})
TEXT = Kind({"type": "string"})
INTEGER = Kind({"type": "integer"})
BOOLEAN = Kind({"type": "boolean"})
TIMESTAMP = Kind({"type": "string", "format": "date-time"}, iso)
URL = Kind({"type": "string", "format": "uri"})
DECIMAL = Kind({"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$", "description": "A decimal amount."}, _price)
# An amount as its currency counts it (1500 JPY, 12.50 USD, 5.250 KWD).
MONEY = Kind({"type": "string", "pattern": "^[0-9]+(\\.[0-9]{2,3})?$", "description": "An amount of money."}, str)
MEDIA = Kind(
    {"type": "string", "format": "uri", "description": "An image this API checked and serves (cached for a year)."},
    _media_url,
)
CATEGORY_SLUG = Kind({"type": "string", "enum": [slug for slug, _ in CATEGORIES]})
FORM_FIELDS = Kind({"type": "object", "additionalProperties": {"type": "string"}})


class Field(NamedTuple):
    """One field of an answer: its name, its kind (or a nested shape), and where its value comes from (a
    dotted attribute path on the rendered object; by default the field's name)."""

    name: str
    kind: Kind | Shape
    nullable: bool = False
    many: bool = False
    source: str | None = None

    def value(self, obj: Any) -> Any:
        """The field's JSON value for `obj`."""
        value = obj
        for part in (self.source or self.name).split("."):
            value = getattr(value, part)
        if value is None:
            return None
        if self.many:
            return [self._one(item) for item in value]
        return self._one(value)

    def _one(self, value: Any) -> Any:
        return self.kind.render(value)

    def schema(self) -> dict[str, Any]:
        """The field's JSON schema."""
        one = {"$ref": REF.format(name=self.kind.name)} if isinstance(self.kind, Shape) else dict(self.kind.schema)
        schema = {"type": "array", "items": one} if self.many else one
        return {"anyOf": [schema, {"type": "null"}]} if self.nullable else schema


class Shape(NamedTuple):
    """An answer's fields, in order; its name is the schema's name in the document."""

    name: str
    description: str
    fields: tuple[Field, ...]
    closed: bool = True  # no other properties: an answer never carries more than it declares

    def render(self, obj: Any) -> dict[str, Any]:
        """The JSON object shown for `obj`."""
        return {f.name: f.value(obj) for f in self.fields}

    def schema(self) -> dict[str, Any]:
        """The JSON schema of `render`'s output."""
        schema: dict[str, Any] = {
            "type": "object",
            "description": self.description,
            "properties": {f.name: f.schema() for f in self.fields},
            "required": [f.name for f in self.fields],
        }
        if self.closed:
            schema["additionalProperties"] = False
        return schema

    def shapes(self) -> Iterator[Shape]:
        """This shape and every shape nested in it."""
        yield self
        for f in self.fields:
            if isinstance(f.kind, Shape):
                yield from f.kind.shapes()

    def extended(self, name: str, description: str, *fields: Field) -> Shape:
        """A shape with this one's fields and more."""
        return Shape(name, description, (*self.fields, *fields), self.closed)


def page(of: Shape, name: str, description: str) -> Shape:
    """A page of a list: `{"results": [...], "next": url or null}` (rendered from a domain Page)."""
    return Shape(
        name, description, (Field("results", of, many=True, source="items"), Field("next", URL, nullable=True))
    )


USER = Shape(
    "User",
    "A user as the API shows it: never the password hash.",
    (
        Field("id", ID),
        Field("username", TEXT),
        Field("email", TEXT),
        Field("role", choice(Role)),
        Field("avatar", MEDIA, nullable=True),
        Field("is_staff", BOOLEAN),
        Field("date_joined", TIMESTAMP),
    ),
)

ME = USER.extended(
    "Me",
    "The signed-in user: the public fields, the new e-mail address waiting to be confirmed from a link sent "
    "to it (null when none is), and what a creator's organizer page shows: `display_name` and `bio` (plain text, "
    "an empty string when not given).",
    Field("email_pending", TEXT, nullable=True),
    Field("display_name", TEXT),
    Field("bio", TEXT),
)

ADMIN_USER = USER.extended(
    "AdminUser",
    "A user as staff see it: the public fields, whether the account is active, and when it last signed in.",
    Field("is_active", BOOLEAN),
    Field("last_login", TIMESTAMP, nullable=True),
)


def _changes(changes: dict[str, tuple[Any, Any]]) -> dict[str, list[Any]]:
    return {name: [old, new] for name, (old, new) in changes.items()}


CHANGES = Kind(
    {
        "type": "object",
        "description": "Each changed field's old and new value (null where there was, or is, none).",
        # `items: {}` (any value) rather than none: client generators drop an array whose items are unstated.
        "additionalProperties": {"type": "array", "items": {}, "minItems": 2, "maxItems": 2},
    },
    _changes,
)
AUDIT_ACTOR = Shape(
    "AuditActor", "Who acted: their id and the username they had.", (Field("id", ID), Field("username", TEXT))
)
AUDIT_ENTRY = Shape(
    "AuditEntry",
    "One staff write, recorded in the same transaction as the change.",
    (
        Field("id", ID),
        Field("at", TIMESTAMP),
        Field("actor", AUDIT_ACTOR),
        Field("action", choice(AuditAction)),
        Field("object_type", Kind({"type": "string", "enum": sorted({a.object_type for a in AuditAction})})),
        Field("object_id", ID),
        Field("changes", CHANGES),
    ),
)

SETTLEMENT = Shape(
    "Settlement",
    "The settling of a cancelled event's bookings (its creator and staff see it): every booking active when the "
    "event was cancelled (`bookings`) is cancelled and every paid one refunded in full, in batches, by the "
    "scheduled sweep. `settled` of `bookings` are done; the refund counts are those of the bookings cancelled "
    "with the event; `completed_at` is set once no booking is left to settle (refunds may still be pending).",
    (
        Field("bookings", INTEGER),
        Field("settled", INTEGER),
        Field("refunds_pending", INTEGER),
        Field("refunds_succeeded", INTEGER),
        Field("refunds_failed", INTEGER),
        Field("started_at", TIMESTAMP, nullable=True),
        Field("completed_at", TIMESTAMP, nullable=True),
    ),
)

EVENT = Shape(
    "Event",
    "An event as the API shows it. A paid event's `online_url` is null except for those holding a confirmed "
    "seat, its creator and staff. `settlement` is null except for a cancelled event, shown to its creator and "
    "staff.",
    (
        Field("id", ID),
        Field("title", TEXT),
        Field("description", TEXT),
        Field("creator", ID),
        Field("creator_username", TEXT),
        Field("created_at", TIMESTAMP),
        Field("updated_at", TIMESTAMP),
        Field("starts_at", TIMESTAMP, nullable=True),
        Field("ends_at", TIMESTAMP, nullable=True),
        Field("timezone", TEXT),
        Field("capacity", INTEGER, nullable=True),
        Field("seats_booked", INTEGER),
        Field("seat_shards", INTEGER),
        Field("price", DECIMAL),
        Field("currency", TEXT),
        Field("location", TEXT),
        Field("online_url", URL, nullable=True),
        Field("image", MEDIA, nullable=True),
        Field("status", choice(EventStatus)),
        Field("settlement", SETTLEMENT, nullable=True),
        Field("category", CATEGORY_SLUG, nullable=True),
        Field("tags", TEXT, many=True),
        Field("city", TEXT),
        Field("online", BOOLEAN),
        Field("sales_open_at", TIMESTAMP, nullable=True),
    ),
)

EVENT_SUMMARY = Shape(
    "EventSummary",
    "What a booking shows of its event.",
    tuple(
        f
        for f in EVENT.fields
        if f.name in ("id", "title", "starts_at", "ends_at", "timezone", "location", "online_url", "status")
    ),
)

REFUND_PREVIEW = Shape(
    "RefundPreview",
    "What the caller cancelling this paid, confirmed booking now would do with its money, under the refund "
    "policy: `refund` is `full` or `none`; `reason` says why; `full_refund_until` is when the owner's own "
    "cancellation stops being refunded (null when that does not depend on the time); `amount` and `currency` "
    "are what a refund gives back: what was paid.",
    (
        Field("refund", Kind({"type": "string", "enum": ["full", "none"]}, _full_or_none), source="full"),
        Field("reason", choice(RefundReason)),
        Field("full_refund_until", TIMESTAMP, nullable=True),
        Field("amount", MONEY),
        Field("currency", TEXT),
    ),
)

BOOKING = Shape(
    "Booking",
    "A booking as its owner, the event's creator and staff see it, with a summary of its event (null once the "
    "event is deleted). At a paid event a seat is first held (`pending_payment`) until `hold_expires_at`; its "
    "owner pays through `checkout_url` (null for anyone else, and once the hold is over). `refund_status` says "
    "where the money of a paid booking that no longer holds its seat stands (null while there is nothing to "
    "refund); `cancelled_at` is also when a hold expired, and `cancel_reason` why it ended (null while "
    "active). `refund_if_cancelled` says what cancelling it now would do with its money (null when no money is "
    "at stake).",
    (
        Field("id", ID, source="booking.id"),
        Field("event", ID, source="booking.event_id"),
        Field("user", ID, source="booking.user_id"),
        Field("username", TEXT, source="booking.username"),
        Field("status", choice(BookingStatus), source="booking.status"),
        Field("created_at", TIMESTAMP, source="booking.created_at"),
        Field("cancelled_at", TIMESTAMP, nullable=True, source="booking.cancelled_at"),
        Field("checkout_url", URL, nullable=True, source="booking.checkout_url"),
        Field("hold_expires_at", TIMESTAMP, nullable=True, source="booking.hold_expires_at"),
        Field("refund_status", choice(RefundStatus), nullable=True, source="booking.refund_status"),
        Field("cancel_reason", choice(CancelReason), nullable=True, source="booking.cancel_reason"),
        Field("refund_if_cancelled", REFUND_PREVIEW, nullable=True),
        Field("event_summary", EVENT_SUMMARY, nullable=True, source="event"),
    ),
)

UPLOAD = Shape(
    "Upload",
    "Where and how to send the file: POST `url` as multipart/form-data with every one of `fields`, then the file "
    "as the last field, named `file`, before `expires_at`. Then name the upload's `id` in the field it is for "
    "(`avatar` of PATCH /api/me/, `image` of PATCH /api/events/<id>/).",
    (
        Field("id", ID, source="upload.id"),
        Field("url", URL, source="post.url"),
        Field("fields", FORM_FIELDS, source="post.fields"),
        Field("expires_at", TIMESTAMP),
    ),
)

EVENT_LIST = page(EVENT, "EventList", "A page of events.")
ORGANIZER_EVENT = Shape(
    "OrganizerEvent",
    "A published event on its organizer's page: an event's public fields but its creator's id and settlement.",
    tuple(f for f in EVENT.fields if f.name not in ("creator", "settlement")),
)
ORGANIZER_EVENT_LIST = page(
    ORGANIZER_EVENT, "OrganizerEventList", "A page of an organizer's events; `next` is the following page."
)
ORGANIZER = Shape(
    "Organizer",
    "A creator's public page: their name, picture and bio (plain text: show it as text, never as markup), the "
    "first page of their published events not yet started (soonest first) and of those already started (most "
    "recent first). Events without a start time are in neither list.",
    (
        Field("username", TEXT, source="user.username"),
        Field("display_name", TEXT, source="user.display_name"),
        Field("bio", TEXT, source="user.bio"),
        Field("avatar", MEDIA, nullable=True, source="user.avatar"),
        Field("upcoming", ORGANIZER_EVENT_LIST),
        Field("past", ORGANIZER_EVENT_LIST),
    ),
)
CATEGORY = Shape(
    "Category",
    "A category of events: its `slug` (what events and filters name) and `name`.",
    (Field("slug", CATEGORY_SLUG), Field("name", TEXT)),
)
CATEGORY_LIST = Shape(
    "CategoryList", "Every category, in the order to show them.", (Field("results", CATEGORY, many=True),)
)
ADMIN_USER_LIST = page(ADMIN_USER, "AdminUserList", "A page of users, as staff see them.")
AUDIT_LIST = page(AUDIT_ENTRY, "AuditList", "A page of the audit log, newest first.")
BOOKING_LIST = page(BOOKING, "BookingList", "A page of bookings.")

TOKEN_PAIR = Shape("TokenPair", "A refresh and an access token.", (Field("refresh", TEXT), Field("access", TEXT)))
ACCESS_TOKEN = Shape("AccessToken", "A new access token.", (Field("access", TEXT),))
ROTATED_TOKENS = Shape(
    "TokenRefresh",
    "A new access token, and the refresh token that replaces the one sent (which is now blacklisted).",
    (Field("access", TEXT), Field("refresh", TEXT)),
)
MESSAGE = Shape("Message", "What was done, in `detail`.", (Field("detail", TEXT),))
WEBHOOK_RECEIPT = Shape(
    "WebhookReceipt",
    "A provider event received: `applied`, `duplicate` (applied before: nothing changed) or `ignored` (another "
    "type, an unknown booking or checkout, or a booking already past it: nothing changed).",
    (
        Field("event", TEXT),
        Field("outcome", Kind({"type": "string", "enum": ["applied", "duplicate", "ignored"]})),
    ),
)
HEALTH = Shape("Health", "Liveness.", (Field("status", Kind({"type": "string", "enum": ["ok"]})),))
EMPTY = Shape("EmptyObject", "`{}`.", ())
OPENAPI_DOCUMENT = Shape("OpenApiDocument", "An OpenAPI 3.1 document.", (), closed=False)
NOTIFICATION_PREFERENCES = Shape(
    "NotificationPreferences",
    "Which optional e-mails the caller receives (reminders before an event, the creators' daily digest), the zone "
    "e-mails show times in besides the event's own (null: the event's zone only), and the kinds of message that "
    "are always sent (read-only).",
    (
        Field("reminders", BOOLEAN),
        Field("digest", BOOLEAN),
        Field("timezone", TEXT, nullable=True),
        Field("transactional", Kind({"type": "string", "enum": list(TRANSACTIONAL)}), many=True),
    ),
)
CALENDAR_FEED = Shape(
    "CalendarFeed",
    "The caller's personal calendar feed (their booked events), at a secret URL: `url` over https, `webcal_url` "
    "for calendar apps that subscribe from a link.",
    (Field("url", URL), Field("webcal_url", URL)),
)
QUEUE_STATUS = Shape(
    "QueueStatus",
    "The caller's place in an event's on-sale queue. `position` 1 is served first: those who joined before "
    "`opens_at` in a random order, then the others in about the order they came (before the opening an early "
    "place may still grow as others join). `ahead` is how many places before it are not served yet; from "
    "`opens_at` the queue serves places at a steady rate, and `expected_wait_seconds` is when it reaches this "
    "one. Once it has (`admitted`), `admission` is the token to send with the booking (a new one at each call, "
    "valid until `admission_expires_at`); null before. `sold_out`: every seat is taken, only the waitlist is "
    "left. Ask again after `poll_after_seconds` (spread at random: do not round it).",
    (
        Field("event_id", ID),
        Field("position", INTEGER),
        Field("ahead", INTEGER),
        Field("opens_at", TIMESTAMP),
        Field("admitted", BOOLEAN),
        Field("admission", TEXT, nullable=True),
        Field("admission_expires_at", TIMESTAMP, nullable=True),
        Field("expected_wait_seconds", INTEGER),
        Field("sold_out", BOOLEAN),
        Field("poll_after_seconds", Kind({"type": "number", "minimum": 0})),
    ),
)
