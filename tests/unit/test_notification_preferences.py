"""Notification preferences, which kinds they stop, and the calendar feed's token and bounded read."""

from datetime import UTC, datetime

import pytest

from chalicelib.domain.common import Page
from chalicelib.domain.notifications import KINDS, OPTIONAL, TRANSACTIONAL
from chalicelib.domain.users import NotificationPreferences, User
from chalicelib.errors import NotFound
from chalicelib.services import preferences
from tests.support.fakes import FakeEvents, FakeUsers

USER_ID = "01M8DJKSQ4WJA7GH71FHCTVASD"


def test_the_kinds_are_the_transactional_ones_then_the_optional_ones():
    assert KINDS == (*TRANSACTIONAL, "reminder", "digest")
    assert OPTIONAL == {"reminder": "reminders", "digest": "digest"}
    assert set(TRANSACTIONAL).isdisjoint(OPTIONAL)


def test_transactional_kinds_are_always_allowed_and_optional_ones_follow_their_preference():
    nothing = NotificationPreferences(reminders=False, digest=False)
    assert all(nothing.allows(kind) for kind in TRANSACTIONAL)
    assert (nothing.allows("reminder"), nothing.allows("digest")) == (False, False)
    only_digest = NotificationPreferences(reminders=False)
    assert (only_digest.allows("reminder"), only_digest.allows("digest")) == (False, True)
    assert NotificationPreferences().allows("reminder")


def test_an_unknown_kind_is_a_bug_not_a_message_sent():
    with pytest.raises(ValueError, match="unknown notification kind 'sms'"):
        NotificationPreferences().allows("sms")


@pytest.fixture
def users():
    repo = FakeUsers()
    repo.add(User(id=USER_ID, username="alice", email="alice@example.com", password_hash="x"))
    return repo


def test_the_calendar_token_is_made_once_and_a_reset_replaces_it(users):
    first = preferences.calendar_token(users, USER_ID)
    user_id, secret = first.split(".")
    assert user_id == USER_ID and len(secret) == 43
    assert preferences.calendar_token(users, USER_ID) == first
    reset = preferences.reset_calendar_token(users, USER_ID)
    assert reset != first and reset.startswith(f"{USER_ID}.")
    assert preferences.feed_owner(users, reset).id == USER_ID
    with pytest.raises(NotFound):
        preferences.feed_owner(users, first)


def test_an_account_without_a_feed_has_no_token_that_opens_it(users):
    with pytest.raises(NotFound):
        preferences.feed_owner(users, f"{USER_ID}.")
    with pytest.raises(NotFound):
        preferences.feed_owner(users, f"{USER_ID}.anything")


class EndlessBookings:
    """A user with more bookings than the feed reads: every page says another follows."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, dict[str, str] | None]] = []

    def list_by_user(self, user_id, *, limit, start):
        self.calls.append((limit, start))
        return Page(items=[], next_key={"page": str(len(self.calls))})


def test_the_feed_reads_two_pages_of_a_hundred_bookings_at_most(users):
    token = preferences.calendar_token(users, USER_ID)
    bookings = EndlessBookings()
    now = datetime(2030, 1, 1, tzinfo=UTC)
    feed = preferences.personal_feed(users, bookings, FakeEvents(), token, web_app_url="https://web", now=now)
    assert bookings.calls == [(100, None), (100, {"page": "1"})]
    assert "X-WR-CALNAME:Sessions Marketplace: my bookings\r\n" in feed and "BEGIN:VEVENT" not in feed
