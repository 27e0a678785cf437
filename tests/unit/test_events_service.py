from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.enums import EventStatus, Role
from chalicelib.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from chalicelib.services import events
from chalicelib.services.uploads import Media
from tests.support.factories import creator, principal
from tests.support.fakes import FakeEvents, FakeObjectStore, fail_first

MEDIA = Media(FakeEvents().uploads, FakeObjectStore())  # no image changes here: see test_uploads_service.py


def _create(repo, owner, **fields):
    return events.create_event(repo, owner, {"title": "T", "description": "D", **fields})


def test_creator_creates_a_published_event_with_defaults():
    repo, owner = FakeEvents(), creator()
    event = _create(repo, owner)
    assert (event.creator, event.status, event.seats_booked, str(event.price), event.currency) == (
        owner.user_id,
        EventStatus.PUBLISHED,
        0,
        "0.00",
        "USD",
    )


def test_user_cannot_create_an_event():
    with pytest.raises(PermissionDenied):
        _create(FakeEvents(), principal(Role.USER))


def test_event_must_end_after_it_starts():
    start = datetime(2027, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as caught:
        _create(FakeEvents(), creator(), starts_at=start, ends_at=start)
    assert list(caught.value.errors) == ["non_field_errors"]


def test_draft_is_hidden_from_everyone_but_its_creator_and_staff():
    repo, owner = FakeEvents(), creator()
    draft = _create(repo, owner, status="draft")
    assert events.get_event(repo, draft.id, owner) == draft
    assert events.get_event(repo, draft.id, principal(staff=True)) == draft
    for viewer in (None, creator(), principal()):
        with pytest.raises(NotFound):
            events.get_event(repo, draft.id, viewer)


def test_only_the_creator_or_staff_may_edit():
    repo, owner = FakeEvents(), creator()
    event = _create(repo, owner)
    with pytest.raises(PermissionDenied):
        events.update_event(repo, creator(), event.id, {"title": "Mine now"}, media=MEDIA)
    with pytest.raises(PermissionDenied):
        events.delete_event(repo, creator(), event.id, media=MEDIA)
    assert repo.get(event.id).title == event.title
    assert (
        events.update_event(repo, principal(staff=True), event.id, {"title": "Staff edit"}, media=MEDIA).title
        == "Staff edit"
    )


def test_capacity_never_goes_below_seats_booked():
    repo, owner = FakeEvents(), creator()
    event = _create(repo, owner, capacity=10)
    repo.book_seats(event.id, 5)
    with pytest.raises(Conflict) as caught:
        events.update_event(repo, owner, event.id, {"capacity": 4}, media=MEDIA)
    assert (caught.value.code, caught.value.detail) == (
        "capacity_below_booked",
        "Capacity cannot be lower than the seats already booked.",
    )
    assert events.update_event(repo, owner, event.id, {"capacity": 5}, media=MEDIA).capacity == 5


def test_event_with_bookings_cannot_be_deleted_but_can_be_cancelled():
    repo, owner = FakeEvents(), creator()
    event = _create(repo, owner)
    repo.book_seats(event.id, 1)
    with pytest.raises(Conflict) as caught:
        events.delete_event(repo, owner, event.id, media=MEDIA)
    assert (caught.value.code, caught.value.detail) == (
        "event_has_bookings",
        "An event with active bookings cannot be deleted; cancel it instead.",
    )
    assert (
        events.update_event(repo, owner, event.id, {"status": "cancelled"}, media=MEDIA).status is EventStatus.CANCELLED
    )


def test_cancelled_event_cannot_be_changed():
    repo, owner = FakeEvents(), creator()
    event = _create(repo, owner)
    events.update_event(repo, owner, event.id, {"status": "cancelled"}, media=MEDIA)
    with pytest.raises(Conflict) as caught:
        events.update_event(repo, owner, event.id, {"status": "published"}, media=MEDIA)
    assert (caught.value.code, caught.value.detail) == ("event_cancelled", "A cancelled event cannot be changed.")


def test_public_list_shows_published_events_newest_first_and_pages_through_them():
    repo, owner = FakeEvents(), creator()
    made = [_create(repo, owner, title=f"E{i}") for i in range(5)]
    _create(repo, owner, status="draft")
    first = events.list_events(repo, limit=3, start=None, creator=None, upcoming=False)
    second = events.list_events(repo, limit=3, start=first.next_key, creator=None, upcoming=False)
    shown = [e.id for e in first.items + second.items]
    assert shown == [e.id for e in reversed(made)]
    assert second.next_key is None


def test_upcoming_lists_events_not_yet_started_soonest_first():
    repo, owner = FakeEvents(), creator()
    now = datetime.now(UTC)
    later = _create(repo, owner, starts_at=now + timedelta(days=2))
    sooner = _create(repo, owner, starts_at=now + timedelta(days=1))
    _create(repo, owner, starts_at=now - timedelta(days=1))
    page = events.list_events(repo, limit=10, start=None, creator=None, upcoming=True)
    assert [e.id for e in page.items] == [sooner.id, later.id]


def test_creator_filter_with_a_malformed_id_lists_nothing():
    repo = FakeEvents()
    _create(repo, creator())
    assert events.list_events(repo, limit=10, start=None, creator="nope", upcoming=False).items == []


def test_an_edit_is_checked_against_the_times_the_event_will_have():
    repo, owner = FakeEvents(), creator()
    start = datetime(2027, 1, 1, tzinfo=UTC)
    event = _create(repo, owner, starts_at=start, ends_at=start + timedelta(hours=1))
    assert events.update_event(repo, owner, event.id, {"ends_at": start + timedelta(hours=2)}, media=MEDIA).ends_at == (
        start + timedelta(hours=2)
    )
    for changes in ({"ends_at": start - timedelta(hours=1)}, {"starts_at": start + timedelta(hours=3)}):
        with pytest.raises(ValidationFailed) as caught:
            events.update_event(repo, owner, event.id, changes, media=MEDIA)
        assert caught.value.errors == {"non_field_errors": ["The event must end after it starts."]}
    assert repo.get(event.id).ends_at == start + timedelta(hours=2)


# An edit or a delete whose conditional write lost a race: the repository method that fails, the call, and
# what the event is once the call succeeds.
RACES = {
    "update": (
        "save",
        lambda repo, who, event: events.update_event(repo, who, event.id, {"title": "Again"}, media=MEDIA),
    ),
    "delete": ("delete", lambda repo, who, event: events.delete_event(repo, who, event.id, media=MEDIA)),
}


def _racing(operation, lost):
    """An event, and `operation` on it by its creator, whose first `lost` writes lose a race."""
    repo, owner = FakeEvents(), creator()
    event = _create(repo, owner)
    method, call = RACES[operation]
    return repo, event, lambda: call(repo, owner, event), fail_first(repo, method, lost)


@pytest.mark.parametrize("operation", RACES)
def test_an_edit_or_delete_that_lost_a_race_is_read_checked_and_tried_again(operation):
    repo, event, run, calls = _racing(operation, 2)
    run()
    assert calls == [1, 2, 3]
    stored = repo.get(event.id)
    assert (stored and stored.title) == ("Again" if operation == "update" else None)


@pytest.mark.parametrize("operation", RACES)
def test_an_edit_or_delete_that_keeps_losing_gives_up_after_three_attempts(operation):
    repo, event, run, calls = _racing(operation, 3)
    with pytest.raises(Conflict) as caught:
        run()
    assert (caught.value.code, caught.value.detail) == (
        "concurrent_update",
        f"The event changed during the {operation}; try again.",
    )
    assert (calls, repo.get(event.id)) == ([1, 2, 3], event)


def test_an_event_with_only_waiting_bookings_cannot_be_deleted_either():
    repo, owner = FakeEvents(), creator()
    event = _create(repo, owner, capacity=1)
    repo.by_id[event.id] = replace(event, waitlisted=1)
    with pytest.raises(Conflict) as caught:
        events.delete_event(repo, owner, event.id, media=MEDIA)
    assert caught.value.code == "event_has_bookings"


def test_own_events_page_through_every_status_newest_first():
    repo, owner = FakeEvents(), creator()
    made = [_create(repo, owner, status=s) for s in ("published", "draft", "published")]
    _create(repo, creator())
    first = events.list_own_events(repo, owner, limit=2, start=None)
    second = events.list_own_events(repo, owner, limit=2, start=first.next_key)
    assert [e.id for e in first.items + second.items] == [e.id for e in reversed(made)]
    assert second.next_key is None


def test_a_creator_edits_and_publishes_their_own_draft_and_staff_may_too():
    repo, owner = FakeEvents(), creator()
    draft = _create(repo, owner, status="draft")
    assert events.update_event(repo, owner, draft.id, {"title": "Ready"}, media=MEDIA).title == "Ready"
    assert events.update_event(repo, principal(staff=True), draft.id, {"status": "published"}, media=MEDIA).status is (
        EventStatus.PUBLISHED
    )
    with pytest.raises(NotFound):
        events.update_event(
            repo, creator(), _create(repo, owner, status="draft").id, {"title": "Not mine"}, media=MEDIA
        )
