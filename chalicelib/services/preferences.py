"""The caller's notification preferences, one-click unsubscribing from an optional kind, and the personal
calendar feed: a secret, revocable URL serving the events of the caller's bookings that hold a seat."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from chalicelib.domain.enums import SEAT_STATUSES
from chalicelib.domain.notifications import OPTIONAL
from chalicelib.errors import MalformedRequest, NotFound
from chalicelib.ids import is_valid_id

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.domain.users import NotificationPreferences, User
    from chalicelib.ports.bookings import BookingRepository
    from chalicelib.ports.events import EventRepository
    from chalicelib.ports.users import UserRepository
    from chalicelib.security.tokens import KeyRing

INVALID_LINK = "This unsubscribe link is invalid."
FEED_NAME = "Sessions Marketplace: my bookings"
# The feed reads the newest bookings only (at most this many, in pages; cancelled ones count), so that a feed
# costs a bounded read however many bookings its owner made over the years.
FEED_BOOKINGS = 200
FEED_PAGE = 100
# 32 random bytes, URL-safe base64 (no `.`, so the token splits at its one dot).
SECRET_BYTES = 32


def _account(users: UserRepository, user_id: str) -> User:
    user = users.get(user_id)
    if user is None:
        raise NotFound()
    return user


def preferences(users: UserRepository, user_id: str) -> NotificationPreferences:
    """The caller's notification preferences."""
    return _account(users, user_id).notifications


def update_preferences(users: UserRepository, user_id: str, changes: dict[str, Any]) -> NotificationPreferences:
    """Apply `changes` (any of `reminders`, `digest`, `timezone`, already validated) to the caller's preferences;
    a change that changes nothing writes nothing."""
    from chalicelib.services.accounts import change

    before = _account(users, user_id).notifications
    if replace(before, **changes) == before:
        return before

    def changed(current: User) -> dict[str, Any]:
        return {"notifications": replace(current.notifications, **changes)}

    return change(users, lambda: _account(users, user_id), changed).notifications


def unsubscribe(users: UserRepository, keys: KeyRing, *, user_id: str, kind: str, signature: str) -> str:
    """Turn `kind` off for the user a signed link names; answers the preference turned off. A link that was
    not signed by us for exactly this user and kind is MalformedRequest; an account deleted since, NotFound.
    Nothing is written when the preference is off already (mail clients may POST more than once)."""
    preference = check_unsubscribe_link(keys, user_id=user_id, kind=kind, signature=signature)
    user = _account(users, user_id)
    if getattr(user.notifications, preference):
        from chalicelib.services.accounts import change

        def off(current: User) -> dict[str, Any]:
            turned_off: dict[str, Any] = {preference: False}
            return {"notifications": replace(current.notifications, **turned_off)}

        change(users, lambda: _account(users, user_id), off)
    return preference


def check_unsubscribe_link(keys: KeyRing, *, user_id: str, kind: str, signature: str) -> str:
    """The preference a valid link turns off (reads nothing); MalformedRequest for any other link."""
    from chalicelib.security.unsubscribe import verify

    if not is_valid_id(user_id) or not verify(user_id, kind, signature, keys):
        raise MalformedRequest(INVALID_LINK)
    return OPTIONAL[kind]


def feed_token(user: User) -> str:
    """The token of the user's feed URL: `<user id>.<secret>`."""
    assert user.calendar_secret is not None
    return f"{user.id}.{user.calendar_secret}"


def calendar_token(users: UserRepository, user_id: str) -> str:
    """The caller's feed token, its secret made on first use (two first requests at once agree on one)."""
    user = _account(users, user_id)
    if user.calendar_secret is not None:
        return feed_token(user)
    from chalicelib.services.accounts import change

    def keep_or_make(current: User) -> dict[str, Any]:
        return {"calendar_secret": current.calendar_secret or _new_secret()}

    return feed_token(change(users, lambda: _account(users, user_id), keep_or_make))


def reset_calendar_token(users: UserRepository, user_id: str) -> str:
    """A new feed token for the caller: the URL given before stops working at once."""
    from chalicelib.services.accounts import change

    return feed_token(change(users, lambda: _account(users, user_id), lambda _: {"calendar_secret": _new_secret()}))


def _new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def feed_owner(users: UserRepository, token: str) -> User:
    """The active account whose feed `token` opens; NotFound for any other token (unknown, reset, malformed),
    the secret compared in constant time."""
    user_id, _, secret = token.partition(".")
    if not is_valid_id(user_id) or not secret or not secret.isascii():
        raise NotFound()
    user = users.get(user_id)
    if user is None or not user.is_active or user.calendar_secret is None:
        raise NotFound()
    if not hmac.compare_digest(secret, user.calendar_secret):
        raise NotFound()
    return user


def personal_feed(
    users: UserRepository,
    bookings: BookingRepository,
    events: EventRepository,
    token: str,
    *,
    web_app_url: str,
    now: datetime,
) -> str:
    """The iCalendar feed `token` opens: an entry per event of the owner's newest bookings that hold a seat
    (confirmed, or held until paid), the online link only with a confirmed seat, as on the event's own page."""
    from chalicelib.domain.access import Principal
    from chalicelib.services.calendars import CalendarEntry, event_page_url, feed_calendar

    owner = feed_owner(users, token)
    held = []
    start = None
    for _ in range(FEED_BOOKINGS // FEED_PAGE):
        page = bookings.list_by_user(owner.id, limit=FEED_PAGE, start=start)
        held += [booking for booking in page.items if booking.status in SEAT_STATUSES]
        start = page.next_key
        if start is None:
            break
    found = events.get_many([booking.event_id for booking in held])
    viewer = Principal(user_id=owner.id, username=owner.username, role=owner.role, is_staff=owner.is_staff)
    entries = []
    for booking in held:
        event = found.get(booking.event_id)
        if event is None or not event.visible_to(viewer):
            continue
        # The rule of services.calendars.calendar_entry: a held, unpaid seat does not show what is paid for.
        online = event.online_url if booking.confirmed or event.managed_by(viewer) else None
        entries.append(
            CalendarEntry(
                event=replace(event, online_url=online, settlement=None),
                page_url=event_page_url(web_app_url, event.id),
                online_url=online,
            )
        )
    return feed_calendar(entries, name=FEED_NAME, now=now)
