"""Admission tokens, and the booking service's check of them at an event with a sales opening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from chalicelib.domain import common
from chalicelib.domain.enums import BookingStatus
from chalicelib.domain.events import Event
from chalicelib.errors import AdmissionRequired, Conflict
from chalicelib.security import tokens
from chalicelib.security.admission import EXPIRED, INVALID, AdmissionError, issue_admission, verify_admission
from chalicelib.security.tokens import StaticKeys, TokenError
from chalicelib.services import bookings
from chalicelib.services.bookings import IdempotentRequest
from chalicelib.services.queue import Admission, require_admission
from tests.support.factories import principal
from tests.support.fakes import FakeBookings, FakeEvents, FakeRecords

KEY = b"a" * 32
OLD = b"o" * 32
NOW = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)
OPENED = NOW - timedelta(minutes=10)
EVENT_ID = "01J00000000000000000000001"
OTHER_EVENT = "01J00000000000000000000002"
USER = "01K00000000000000000000001"


def _verify(token: str, keys=KEY, at: datetime = NOW):
    return verify_admission(token, keys, 120, at.timestamp())


def _reason(token: str, keys=KEY, at: datetime = NOW) -> str:
    with pytest.raises(AdmissionError) as caught:
        _verify(token, keys, at)
    return caught.value.reason


def test_an_admission_verifies_until_it_expires_and_not_at_its_expiry():
    token = issue_admission(USER, EVENT_ID, 120, KEY, NOW.timestamp())
    claims = _verify(token, at=NOW + timedelta(seconds=119))
    assert (claims.user_id, claims.event_id, claims.expires_at) == (USER, EVENT_ID, int(NOW.timestamp()) + 120)
    assert _reason(token, at=NOW + timedelta(seconds=120)) == EXPIRED


def test_an_admission_signed_by_the_previous_key_still_verifies_and_one_by_no_key_of_ours_does_not():
    token = issue_admission(USER, EVENT_ID, 120, OLD, NOW.timestamp())
    assert _verify(token, StaticKeys(KEY, OLD)).user_id == USER
    assert _reason(token, StaticKeys(KEY)) == INVALID


def test_access_tokens_are_not_admissions_nor_admissions_access_tokens():
    access = tokens.issue(USER, tokens.ACCESS, 300, KEY, NOW.timestamp())
    assert _reason(access) == INVALID
    admission = issue_admission(USER, EVENT_ID, 120, KEY, NOW.timestamp())
    with pytest.raises(TokenError, match="^Token is invalid$"):
        tokens.decode(admission, KEY, tokens.Lifetimes(300, 86_400), now=NOW.timestamp())


@pytest.mark.parametrize(
    "changes",
    [{"typ": "access"}, {"exp": int(NOW.timestamp()) + 3600}, {"iat": int(NOW.timestamp()) + 60}, {"evt": 7}],
)
def test_admissions_this_api_never_issues_are_invalid(changes):
    issued = int(NOW.timestamp())
    payload = {"typ": "admission", "sub": USER, "evt": EVENT_ID, "iat": issued, "exp": issued + 120, **changes}
    token = jwt.encode(payload, KEY, algorithm="HS256", headers={"kid": StaticKeys(KEY).current().kid})
    assert _reason(token) == INVALID


def test_garbage_is_invalid():
    assert _reason("not.a.token") == INVALID


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(common, "utcnow", lambda: NOW)


def _event(**fields) -> Event:
    values = {
        "id": EVENT_ID,
        "title": "Launch",
        "description": "D",
        "creator": "01K00000000000000000000009",
        "creator_username": "c",
        "created_at": NOW - timedelta(days=1),
        "updated_at": NOW - timedelta(days=1),
        "starts_at": NOW + timedelta(days=1),
        "capacity": 1,
        "sales_open_at": OPENED,
        **fields,
    }
    return Event(**values)


def _admission(token: str | None) -> Admission:
    return Admission(token, KEY, 120)


def _refusal(event: Event, admission: Admission | None) -> str:
    with pytest.raises(AdmissionRequired) as caught:
        require_admission(event, USER, admission)
    assert caught.value.code == "admission_required"
    return caught.value.detail


def test_a_booking_needs_an_admission_of_this_user_for_this_event_and_says_what_was_wrong(clock):
    event = _event()
    prefix = "An admission from this event's queue is required: "
    valid = issue_admission(USER, EVENT_ID, 120, KEY, NOW.timestamp())
    expired = issue_admission(USER, EVENT_ID, 120, KEY, (NOW - timedelta(seconds=121)).timestamp())
    assert _refusal(event, None) == prefix + "none was sent."
    assert _refusal(event, _admission(None)) == prefix + "none was sent."
    assert _refusal(event, _admission(expired)) == prefix + "the one sent has expired; ask the queue again."
    other_event = issue_admission(USER, OTHER_EVENT, 120, KEY, NOW.timestamp())
    assert _refusal(event, _admission(other_event)) == prefix + "the one sent is for another event."
    someone_else = issue_admission("01K00000000000000000000002", EVENT_ID, 120, KEY, NOW.timestamp())
    assert _refusal(event, _admission(someone_else)) == prefix + "the one sent is someone else's."
    assert _refusal(event, _admission("junk")) == prefix + "the one sent is invalid."
    assert require_admission(event, USER, _admission(valid)) is None
    assert require_admission(_event(sales_open_at=None), USER, None) is None


def test_before_the_opening_nobody_books_not_even_with_an_admission(clock):
    event = _event(sales_open_at=NOW + timedelta(seconds=1))
    valid = issue_admission(USER, EVENT_ID, 120, KEY, NOW.timestamp())
    with pytest.raises(Conflict) as caught:
        require_admission(event, USER, _admission(valid))
    assert (caught.value.code, caught.value.detail) == (
        "sales_not_open",
        "Sales for this event open at 2031-03-01T12:00:01.000000Z.",
    )


@pytest.fixture
def repos():
    event_repo = FakeEvents()
    booking_repo = FakeBookings(event_repo)
    return event_repo, booking_repo, FakeRecords(booking_repo)


def _book(repos, token, *, waitlist=False, key=None):
    event_repo, booking_repo, records = repos
    request = IdempotentRequest(key, {"waitlist": waitlist}) if key else None
    who = principal(user_id=USER)
    return bookings.book(
        event_repo,
        booking_repo,
        records,
        who,
        EVENT_ID,
        waitlist=waitlist,
        request=request,
        admission=_admission(token),
    )


def test_booking_and_waitlisting_at_an_opened_event_take_the_admission(repos, clock):
    repos[0].add(_event(seats_booked=1))
    with pytest.raises(AdmissionRequired):
        _book(repos, None, waitlist=True)
    valid = issue_admission(USER, EVENT_ID, 120, KEY, NOW.timestamp())
    assert _book(repos, valid, waitlist=True).booking.status is BookingStatus.WAITLISTED


def test_a_retry_of_a_booking_that_succeeded_is_replayed_even_once_its_admission_expired(repos, clock, monkeypatch):
    repos[0].add(_event())
    valid = issue_admission(USER, EVENT_ID, 120, KEY, NOW.timestamp())
    first = _book(repos, valid, key="k1")
    monkeypatch.setattr(common, "utcnow", lambda: NOW + timedelta(minutes=5))
    again = _book(repos, valid, key="k1")
    assert (again.booking.id, again.replayed, first.replayed) == (first.booking.id, True, False)
    with pytest.raises(AdmissionRequired):
        _book(repos, valid, key="k2")  # another request: the expired admission is refused
