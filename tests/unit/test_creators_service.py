"""services.creators over the fakes: who has an organizer page, and which events it lists in which order."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.enums import EventStatus, Role
from chalicelib.domain.events import Event
from chalicelib.domain.users import User
from chalicelib.errors import NotFound
from chalicelib.ids import new_id
from chalicelib.services import creators
from chalicelib.services.creators import When
from tests.support.fakes import FakeEvents, FakeUsers

NOW = datetime(2031, 3, 3, 12, 0, tzinfo=UTC)


def account(username: str, **fields: object) -> User:
    values: dict[str, object] = {
        "id": new_id(),
        "username": username,
        "email": f"{username}@example.com",
        "password_hash": "x",
        "role": Role.CREATOR,
        **fields,
    }
    return User(**values)  # type: ignore[arg-type]


@pytest.fixture
def users() -> FakeUsers:
    return FakeUsers()


@pytest.fixture
def events() -> FakeEvents:
    return FakeEvents()


@pytest.fixture
def ann(users: FakeUsers) -> User:
    made = account("Ann", display_name="Ann O.", bio="Hello")
    users.add(made)
    return made


def publish(events: FakeEvents, creator: User, days: float | None, **fields: object) -> Event:
    """An event of `creator`'s starting `days` after NOW (None: no start time)."""
    made = Event(
        id=new_id(),
        title="Session",
        description="D",
        creator=creator.id,
        creator_username=creator.username,
        created_at=NOW - timedelta(days=30),
        updated_at=NOW - timedelta(days=30),
        starts_at=None if days is None else NOW + timedelta(days=days),
        **fields,  # type: ignore[arg-type]
    )
    events.add(made)
    return made


def ids(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [event.id for event in page.items]


def test_an_active_creator_is_found_by_name_in_any_case(users, ann):
    assert creators.find_organizer(users, "ANN") == ann
    assert creators.find_organizer(users, "ａｎｎ") == ann  # NFKC, as sign-in compares names


@pytest.mark.parametrize(
    "fields",
    [{"role": Role.USER}, {"role": Role.USER, "is_staff": True}, {"is_active": False}],
    ids=["user", "staff-user", "inactive-creator"],
)
def test_anyone_else_is_not_found_like_an_unknown_name(users, fields):
    users.add(account("bob", **fields))
    for name in ("bob", "nobody", ""):
        with pytest.raises(NotFound) as caught:
            creators.find_organizer(users, name)
        assert caught.value.detail == "Not found."


def test_the_page_lists_upcoming_soonest_first_and_past_most_recent_first(users, events, ann):
    later, sooner = publish(events, ann, 9), publish(events, ann, 2)
    at_now = publish(events, ann, 0)
    long_ago, recently = publish(events, ann, -40), publish(events, ann, -1)
    publish(events, ann, 3, status=EventStatus.DRAFT)
    publish(events, ann, 4, status=EventStatus.CANCELLED)
    publish(events, ann, -2, status=EventStatus.CANCELLED)
    publish(events, ann, None)
    publish(events, account("other"), 1)
    page = creators.organizer(users, events, "ann", now=NOW, limit=20)
    assert page.user == ann
    assert (ids(page.upcoming), page.upcoming.next_key) == ([at_now.id, sooner.id, later.id], None)
    assert (ids(page.past), page.past.next_key) == ([recently.id, long_ago.id], None)


def test_each_list_pages_on_from_its_key(users, events, ann):
    upcoming = [publish(events, ann, d) for d in (3, 1, 2)]
    past = [publish(events, ann, -d) for d in (3, 1, 2)]
    page = creators.organizer(users, events, "ann", now=NOW, limit=2)
    assert ids(page.upcoming) == [upcoming[1].id, upcoming[2].id]
    assert ids(page.past) == [past[1].id, past[2].id]
    rest = creators.organizer_events(events, ann, When.UPCOMING, now=NOW, limit=2, start=page.upcoming.next_key)
    assert (ids(rest), rest.next_key) == ([upcoming[0].id], None)
    rest = creators.organizer_events(events, ann, When.PAST, now=NOW, limit=2, start=page.past.next_key)
    assert (ids(rest), rest.next_key) == ([past[0].id], None)


def test_an_unknown_creator_is_refused_before_any_event_is_read(users, ann):
    class NoEvents(FakeEvents):
        def list_published(self, **kw):  # type: ignore[no-untyped-def, override]
            raise AssertionError("read")

    users.add(account("carl", is_active=False))
    with pytest.raises(NotFound):
        creators.organizer(users, NoEvents(), "carl", now=NOW, limit=20)


def test_a_paid_events_online_link_and_settlement_stay_off_the_page(users, events, ann):
    paid = publish(events, ann, 1, price=Decimal("10.00"), online_url="https://meet.example/paid")
    free = publish(events, ann, 2, online_url="https://meet.example/free")
    page = creators.organizer(users, events, "ann", now=NOW, limit=20)
    assert page.upcoming.items == [replace(paid, online_url=None), free]
