"""Notification preferences (GET, PATCH /api/me/notifications/) and one-click unsubscribe links, through the
gateway emulation."""

import boto3
import pytest

from chalicelib import bootstrap
from chalicelib.security.tokens import StaticKeys
from chalicelib.security.unsubscribe import sign, unsubscribe_url
from tests.conftest import TEST_SIGNING_KEY

PATH = "/api/me/notifications/"
TRANSACTIONAL = [
    "booking_confirmed",
    "waitlist_joined",
    "waitlist_promoted",
    "payment_received",
    "hold_expired",
    "booking_cancelled",
    "event_changed",
    "event_cancelled",
]
DEFAULTS = {"reminders": True, "digest": True, "timezone": None, "transactional": TRANSACTIONAL}
INVALID_LINK = {"detail": "This unsubscribe link is invalid."}
ONE_CLICK = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def alice(api, make_user):
    """A user and an access token of theirs."""
    from tests.integration.conftest import PASSWORD

    user = make_user("alice")
    return user, api.token("alice", PASSWORD)


def _link(user_id: str, kind: str) -> str:
    """The path and query of the link the e-mails carry (the tests' API has no origin of its own)."""
    return unsubscribe_url("", user_id, kind, bootstrap.signing_keys())


# --- preferences ------------------------------------------------------------------------------------------


def test_a_new_account_gets_everything_and_the_transactional_kinds_are_listed(api, alice):
    reply = api.get(PATH, token=alice[1])
    assert (reply.status, reply.json) == (200, DEFAULTS)
    assert reply.headers["cache-control"] == "private, no-store"


def test_patch_changes_only_the_fields_sent_and_the_change_is_stored(api, alice):
    reply = api.patch(PATH, {"reminders": False, "timezone": "Europe/Paris"}, token=alice[1])
    expected = {**DEFAULTS, "reminders": False, "timezone": "Europe/Paris"}
    assert (reply.status, reply.json) == (200, expected)
    assert api.get(PATH, token=alice[1]).json == expected
    assert api.patch(PATH, {"digest": False}, token=alice[1]).json == {**expected, "digest": False}
    assert bootstrap.users().get(alice[0].id).notifications.timezone == "Europe/Paris"


def test_an_empty_patch_changes_nothing_and_null_clears_the_zone(api, alice):
    api.patch(PATH, {"timezone": "America/New_York", "digest": False}, token=alice[1])
    version = bootstrap.users().get(alice[0].id).version
    unchanged = api.request("PATCH", PATH, token=alice[1])
    assert (unchanged.status, unchanged.json) == (200, {**DEFAULTS, "timezone": "America/New_York", "digest": False})
    assert api.patch(PATH, {"digest": False}, token=alice[1]).status == 200
    assert bootstrap.users().get(alice[0].id).version == version  # nothing to change: nothing written
    cleared = api.patch(PATH, {"timezone": None}, token=alice[1])
    assert cleared.json == {**DEFAULTS, "digest": False}


def test_other_changes_of_the_account_keep_the_preferences(api, alice):
    api.patch(PATH, {"reminders": False, "timezone": "Asia/Tokyo"}, token=alice[1])
    assert api.patch("/api/me/", {"avatar": None}, token=alice[1]).status == 200
    assert api.get(PATH, token=alice[1]).json == {**DEFAULTS, "reminders": False, "timezone": "Asia/Tokyo"}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, {"timezone": ["A valid timezone is required."]}),
        ({"timezone": "posixrules"}, {"timezone": ["A valid timezone is required."]}),
        ({"timezone": 1}, {"timezone": ["A valid timezone is required."]}),
        ({"reminders": "no"}, {"reminders": ["Must be a valid boolean."]}),
        ({"digest": 0}, {"digest": ["Must be a valid boolean."]}),
        ({"reminders": None}, {"reminders": ["This field may not be null."]}),
        ({"sms": True}, {"sms": ["Unknown field."]}),
        ({"transactional": []}, {"transactional": ["This field is read-only."]}),
    ],
)
def test_bad_values_unknown_and_read_only_fields_are_refused_and_nothing_changes(api, alice, body, errors):
    reply = api.patch(PATH, {"digest": False, **body}, token=alice[1])
    assert (reply.status, reply.json) == (400, errors)
    assert api.get(PATH, token=alice[1]).json == DEFAULTS


def test_a_body_that_is_not_an_object_is_refused(api, alice):
    reply = api.patch(PATH, ["reminders"], token=alice[1])
    assert (reply.status, reply.json) == (
        400,
        {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
    )


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_the_preferences_need_a_token(api, method):
    reply = api.request(method, PATH, {"reminders": False})
    assert (reply.status, reply.json) == (401, {"detail": "Authentication credentials were not provided."})


def test_an_account_stored_before_preferences_existed_reads_the_defaults(api, alice):
    from chalicelib.persistence.models.users import UserModel

    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=UserModel.Meta.table_name,
        Key={"id": {"S": alice[0].id}},
        UpdateExpression="REMOVE notify_reminders, notify_digest, notify_timezone, calendar_secret",
    )
    assert api.get(PATH, token=alice[1]).json == DEFAULTS
    assert api.patch(PATH, {"digest": False}, token=alice[1]).json == {**DEFAULTS, "digest": False}


# --- unsubscribe ------------------------------------------------------------------------------------------


def test_get_shows_a_button_that_posts_and_changes_nothing(api, alice):
    reply = api.get(_link(alice[0].id, "reminder"))
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert reply.headers["referrer-policy"] == "no-referrer"
    assert "form-action 'self'" in reply.headers["content-security-policy"]
    page = reply.raw.decode()
    assert (
        "<p>Stop receiving reminders before the events you booked? Messages about your bookings are still sent.</p>"
        in page
    )
    assert '<form method="post"><button type="submit">Unsubscribe</button></form>' in page
    assert api.get(PATH, token=alice[1]).json == DEFAULTS


def test_one_click_post_turns_the_kind_off_and_nothing_else(api, alice):
    reply = api.request("POST", _link(alice[0].id, "reminder"), raw=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert reply.status == 200
    page = reply.raw.decode()
    assert "<p>You will no longer receive reminders before the events you booked.</p>" in page
    assert '<a href="http://127.0.0.1:3000/profile">your profile</a>' in page
    assert api.get(PATH, token=alice[1]).json == {**DEFAULTS, "reminders": False}
    digest = api.request("POST", _link(alice[0].id, "digest"), raw=b"List-Unsubscribe=One-Click", headers=ONE_CLICK)
    assert digest.status == 200
    assert api.get(PATH, token=alice[1]).json == {**DEFAULTS, "reminders": False, "digest": False}


def test_posting_again_answers_the_same_and_writes_nothing(api, alice):
    link = _link(alice[0].id, "digest")
    assert api.post(link).status == 200
    version = bootstrap.users().get(alice[0].id).version
    again = api.post(link)
    assert again.status == 200 and b"You will no longer receive the daily digest of your events." in again.raw
    assert bootstrap.users().get(alice[0].id).version == version


def test_the_page_s_button_form_post_works_like_one_click(api, alice):
    reply = api.request("POST", _link(alice[0].id, "digest"), raw=b"", headers=ONE_CLICK)
    assert reply.status == 200
    assert api.get(PATH, token=alice[1]).json == {**DEFAULTS, "digest": False}


def _tampered(user_id: str) -> list[str]:
    good = sign(user_id, "reminder", bootstrap.signing_keys())
    flipped = ("A" if good[0] != "A" else "B") + good[1:]
    return [
        f"/api/unsubscribe?u={user_id}&k=reminder&s={flipped}",
        f"/api/unsubscribe?u={user_id}&k=digest&s={good}",  # another kind
        f"/api/unsubscribe?u={user_id}&k=booking_confirmed&s={good}",  # transactional
        f"/api/unsubscribe?u={user_id}&k=reminder",
        f"/api/unsubscribe?u=not-an-id&k=reminder&s={good}",
        "/api/unsubscribe",
    ]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_link_we_did_not_sign_is_refused_and_changes_nothing(api, alice, method):
    for link in _tampered(alice[0].id):
        reply = api.request(method, link)
        assert (reply.status, reply.json) == (400, INVALID_LINK), link
    assert api.get(PATH, token=alice[1]).json == DEFAULTS


def test_a_link_of_another_account_cannot_be_bent_to_this_one(api, alice, make_user):
    bob = make_user("bob")
    good = sign(bob.id, "reminder", bootstrap.signing_keys())
    reply = api.post(f"/api/unsubscribe?u={alice[0].id}&k=reminder&s={good}")
    assert (reply.status, reply.json) == (400, INVALID_LINK)
    assert api.get(PATH, token=alice[1]).json == DEFAULTS


def test_a_link_of_a_deleted_account_is_not_found(api):
    reply = api.post(_link("01M8DJKSQ4WJA7GH71FHCTVASD", "reminder"))
    assert (reply.status, reply.json) == (404, {"detail": "Not found."})


def test_a_link_signed_with_the_previous_key_still_works_after_a_rotation(api, alice, monkeypatch):
    old = _link(alice[0].id, "reminder")
    rotated = StaticKeys(b"a-new-signing-key-that-is-long-enough-98765", previous=TEST_SIGNING_KEY.encode())
    monkeypatch.setattr(bootstrap, "signing_keys", lambda: rotated)
    assert _link(alice[0].id, "reminder") != old
    assert api.post(old).status == 200
    assert api.get(PATH, token=alice[1]).json == {**DEFAULTS, "reminders": False}
