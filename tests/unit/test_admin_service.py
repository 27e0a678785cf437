"""Staff administration over the in-memory repositories: rules, audit entries, and the merged user search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chalicelib.domain.enums import AuditAction, EventStatus, Role
from chalicelib.errors import PermissionDenied, ValidationFailed
from chalicelib.persistence.common import Stream, merge_streams
from chalicelib.services import accounts, admin, bookings, events
from chalicelib.services.audit import diff, json_value, on_behalf_of_others
from chalicelib.services.uploads import Media
from tests.support.factories import creator, principal
from tests.support.fakes import FakeAudit, FakeBookings, FakeEvents, FakeObjectStore, FakeRecords, FakeUsers

MEDIA = Media(FakeEvents().uploads, FakeObjectStore())  # no image changes here: see test_uploads_service.py

GOOD = "vivid-otter-92-lamp"


def _user(users: FakeUsers, username: str, **kwargs):
    return accounts.create_user(
        users, username=username, email=f"{username}@example.com", password=GOOD, rounds=4, **kwargs
    )


def _staff(users: FakeUsers):
    user = _user(users, "boss", is_staff=True)
    return principal(staff=True, user_id=user.id, username="boss")


# ---- Accounts ----


def test_creating_an_account_checks_the_password_and_logs_the_creation():
    users = FakeUsers()
    staff = _staff(users)
    with pytest.raises(ValidationFailed) as caught:
        admin.create_user(
            users, staff, username="x", email="", password="password", role=Role.USER, is_staff=False, rounds=4
        )
    assert caught.value.errors == {"password": ["This password is too common."]}
    made = admin.create_user(
        users, staff, username="ｍade", email="", password=GOOD, role=Role.CREATOR, is_staff=False, rounds=4
    )
    assert (made.username, made.role, made.email) == ("made", Role.CREATOR, "")
    [entry] = users.audit.entries
    assert (entry.action, entry.object_id, entry.actor.username) == (AuditAction.USER_CREATE, made.id, "boss")
    assert entry.changes["username"] == (None, "made") and entry.changes["role"] == (None, "CREATOR")


def test_only_staff_may_create_or_change_accounts():
    users = FakeUsers()
    target = _user(users, "target")
    with pytest.raises(PermissionDenied):
        admin.update_user(users, creator(), target.id, {"role": "CREATOR"})
    with pytest.raises(PermissionDenied):
        admin.create_user(
            users, principal(), username="x", email="", password=GOOD, role=Role.USER, is_staff=False, rounds=4
        )


def test_changes_are_logged_with_old_and_new_values_and_no_change_writes_nothing():
    users = FakeUsers()
    staff = _staff(users)
    target = _user(users, "target")
    updated = admin.update_user(users, staff, target.id, {"role": "CREATOR", "is_active": False})
    assert (updated.role, updated.is_active) == (Role.CREATOR, False)
    [entry] = users.audit.entries
    assert entry.action is AuditAction.USER_UPDATE
    assert entry.changes == {"role": ("USER", "CREATOR"), "is_active": (True, False)}
    version = users.get(target.id).version
    assert admin.update_user(users, staff, target.id, {"role": "CREATOR"}) == users.get(target.id)
    assert users.get(target.id).version == version and len(users.audit.entries) == 1


def test_staff_cannot_unstaff_or_deactivate_themselves_but_may_do_it_to_other_staff():
    users = FakeUsers()
    staff = _staff(users)
    with pytest.raises(ValidationFailed) as caught:
        admin.update_user(users, staff, staff.user_id, {"is_staff": False})
    assert caught.value.errors == {"non_field_errors": [admin.CANNOT_UNSTAFF_SELF]}
    with pytest.raises(ValidationFailed) as caught:
        admin.update_user(users, staff, staff.user_id, {"is_active": False})
    assert caught.value.errors == {"non_field_errors": [admin.CANNOT_DEACTIVATE_SELF]}
    colleague = _user(users, "colleague", is_staff=True)
    assert admin.update_user(users, staff, colleague.id, {"is_staff": False, "is_active": False}).is_staff is False
    assert users.audit.entries[-1].changes == {"is_staff": (True, False), "is_active": (True, False)}


def test_user_search_normalises_the_term_like_usernames_and_reaches_e_mail_only_with_an_at_sign():
    users = FakeUsers()
    _user(users, "Alice")
    bob = accounts.create_user(users, username="bob", email="alice@example.org", password=GOOD, rounds=4)

    def names(search: str | None, **filters) -> list[str]:
        page = admin.list_users(
            users, search=search, role=None, is_staff=None, is_active=None, limit=10, start=None, **filters
        )
        return [u.username for u in page.items]

    assert names("ＡＬ") == ["Alice"]  # found by username only: the term has no @
    # Both found by e-mail, in e-mail order (alice@example.com, then alice@example.org).
    assert names("ALICE@") == ["Alice", "bob"]
    assert names("alice@example.o") == ["bob"]
    assert names("  ") == ["Alice", "bob"]
    assert bob.username == "bob"


def test_lists_of_events_and_of_the_log_refuse_ids_that_cannot_exist():
    assert admin.list_events(FakeEvents(), status=None, creator="nope", limit=5, start=None).items == []
    assert admin.list_log(FakeAudit(), actor="nope", object_id=None, limit=5, start=None).items == []


# ---- Staff writes through the normal routes ----


def _event_fields(**extra):
    return {"title": "T", "description": "D", "capacity": 3, **extra}


def test_staff_editing_someone_elses_event_is_logged_and_the_creator_editing_it_is_not():
    store = FakeEvents()
    owner = creator(username="owner")
    staff = principal(staff=True, username="boss")
    event = events.create_event(store, owner, _event_fields(price=Decimal("5.00")))
    events.update_event(store, owner, event.id, {"title": "By the owner"}, media=MEDIA)
    assert store.audit.entries == []
    events.update_event(store, staff, event.id, {"title": "By staff", "price": Decimal("7.50")}, media=MEDIA)
    events.update_event(store, staff, event.id, {"status": "cancelled"}, media=MEDIA)
    first, second = store.audit.entries
    assert (first.action, first.changes) == (
        AuditAction.EVENT_UPDATE,
        {"title": ("By the owner", "By staff"), "price": ("5.00", "7.50")},
    )
    assert (second.action, second.changes) == (AuditAction.EVENT_CANCEL, {"status": ("published", "cancelled")})


def test_staff_deleting_someone_elses_event_is_logged_but_their_own_is_not():
    store = FakeEvents()
    staff = principal(staff=True)
    theirs = events.create_event(store, creator(), _event_fields())
    own = events.create_event(store, staff, _event_fields())
    events.delete_event(store, staff, own.id, media=MEDIA)
    events.delete_event(store, staff, theirs.id, media=MEDIA)
    [entry] = store.audit.entries
    assert (entry.action, entry.object_id) == (AuditAction.EVENT_DELETE, theirs.id)
    assert entry.changes == {"title": ("T", None), "creator": (theirs.creator, None), "status": ("published", None)}


def test_a_refused_write_logs_nothing():
    store = FakeEvents()
    staff = principal(staff=True)
    event = events.create_event(store, creator(), _event_fields())
    store.book_seats(event.id, 1)
    with pytest.raises(Exception):  # noqa: B017 - which refusal is the events service's business
        events.delete_event(store, staff, event.id, media=MEDIA)
    assert store.audit.entries == []


def test_staff_cancelling_someone_elses_booking_is_logged():
    store = FakeEvents()
    booked = FakeBookings(store)
    event = events.create_event(store, creator(), _event_fields())
    guest = principal(username="guest")
    mine = bookings.book(store, booked, FakeRecords(booked), guest, event.id, waitlist=False)
    theirs = bookings.book(store, booked, FakeRecords(booked), principal(), event.id, waitlist=False)
    bookings.cancel(booked, store, FakeRecords(booked), guest, mine.booking.id)
    assert store.audit.entries == []
    staff = principal(staff=True)
    bookings.cancel(booked, store, FakeRecords(booked), staff, theirs.booking.id)
    [entry] = store.audit.entries
    assert (entry.action, entry.object_id, entry.changes) == (
        AuditAction.BOOKING_CANCEL,
        theirs.booking.id,
        {"status": ("confirmed", "cancelled")},
    )


def test_who_is_audited():
    staff = principal(staff=True)
    assert on_behalf_of_others(staff, "someone-else")
    assert not on_behalf_of_others(staff, staff.user_id)
    assert not on_behalf_of_others(creator(), "someone-else")


def test_logged_values_are_json():
    at = datetime(2027, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert [json_value(v) for v in (at, Decimal("5"), EventStatus.DRAFT, None, 3)] == [
        "2027-01-02T03:04:05.000006Z",
        "5.00",
        "draft",
        None,
        3,
    ]

    class Old:
        starts_at = at
        capacity = None

    class New:
        starts_at = at + timedelta(hours=1)
        capacity = None

    assert diff(Old, New, ("starts_at", "capacity")) == {
        "starts_at": ("2027-01-02T03:04:05.000006Z", "2027-01-02T04:04:05.000006Z")
    }


# ---- Merging two key-ordered streams (the e-mail search) ----


def _stream(keys: list[str], more: bool, hidden: frozenset[str] = frozenset()) -> Stream:
    return Stream(read=[(k, k, k not in hidden) for k in keys], more=more)


def test_merging_stops_where_a_stream_may_continue():
    # `b` may hold more after "c": nothing past "c" can be shown yet, whatever `a` read.
    shown, after = merge_streams([_stream(["a", "d", "e"], more=False), _stream(["b", "c"], more=True)], limit=10)
    assert (shown, after) == (["a", "b", "c"], "c")


def test_merging_fills_a_page_and_continues_after_its_last_item():
    shown, after = merge_streams([_stream(["a", "c", "e"], more=True), _stream(["b", "d", "f"], more=True)], limit=3)
    assert (shown, after) == (["a", "b", "c"], "c")


def test_merged_streams_end_when_none_may_continue():
    assert merge_streams([_stream(["a", "c"], more=False), _stream(["b"], more=False)], limit=3) == (
        ["a", "b", "c"],
        None,
    )
    assert merge_streams([_stream([], more=False)], limit=3) == ([], None)


def test_hidden_items_are_read_past_so_a_page_may_be_short_but_the_list_moves_on():
    shown, after = merge_streams([_stream(["a", "b", "c"], more=True, hidden=frozenset({"a", "b", "c"}))], limit=2)
    assert (shown, after) == ([], "c")


def test_merging_newest_first_stops_where_a_stream_may_continue_downwards():
    # `b` may hold more before "d": nothing below "d" can be shown yet.
    streams = [_stream(["f", "c", "a"], more=False), _stream(["e", "d"], more=True)]
    assert merge_streams(streams, limit=10, descending=True) == (["f", "e", "d"], "d")
    streams = [_stream(["f", "d", "b"], more=True), _stream(["e", "c", "a"], more=True)]
    assert merge_streams(streams, limit=3, descending=True) == (["f", "e", "d"], "d")
    assert merge_streams([_stream(["c", "a"], more=False), _stream(["b"], more=False)], limit=3, descending=True) == (
        ["c", "b", "a"],
        None,
    )
