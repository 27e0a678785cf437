"""Organizer pages: a creator's public profile and their published events, upcoming and past."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NamedTuple

from chalicelib.domain.common import Page, iso
from chalicelib.domain.enums import Role
from chalicelib.errors import NotFound

if TYPE_CHECKING:
    from datetime import datetime

    from chalicelib.domain.users import User
    from chalicelib.ports.events import EventRepository
    from chalicelib.ports.users import UserRepository


class When(enum.StrEnum):
    """Which of an organizer's lists: events not yet started, or already started."""

    UPCOMING = "upcoming"
    PAST = "past"


class Organizer(NamedTuple):
    """What an organizer page shows: the creator, and the first page of each list."""

    user: User
    upcoming: Page
    past: Page


def find_organizer(users: UserRepository, username: str) -> User:
    """The active creator named `username`, in any case (the username marker: no Scan). NotFound alike for an
    unknown name, an account that is not a creator and an inactive one, so the page reveals no account."""
    user = users.get_by_username(username) if username else None
    if user is None or user.role is not Role.CREATOR or not user.is_active:
        raise NotFound()
    return user


def organizer_events(
    events: EventRepository, creator: User, when: When, *, now: datetime, limit: int, start: dict[str, str] | None
) -> Page:
    """A page of the creator's published events: upcoming (starting at `now` or later) soonest first, or past
    (started before `now`) most recent first. Drafts and cancelled events are in neither; nor are events without
    a start time, which belong to neither (the events list by creator shows them)."""
    at = iso(now)
    if when is When.UPCOMING:
        page = events.list_published(limit=limit, start=start, creator=creator.id, starts_from=at)
    else:
        page = events.list_started(creator.id, before=at, limit=limit, start=start)
    # The page is public, whoever reads it: a paid event's link stays with its holders.
    return Page(items=[event.shown_to(None) for event in page.items], next_key=page.next_key)


def organizer(users: UserRepository, events: EventRepository, username: str, *, now: datetime, limit: int) -> Organizer:
    """The organizer page of `username`: the creator and the first `limit` events of each list."""
    user = find_organizer(users, username)
    upcoming = organizer_events(events, user, When.UPCOMING, now=now, limit=limit, start=None)
    past = organizer_events(events, user, When.PAST, now=now, limit=limit, start=None)
    return Organizer(user, upcoming, past)
