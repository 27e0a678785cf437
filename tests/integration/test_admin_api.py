"""The staff's API through the gateway emulation: access, users, events, the audit log, and what each request
costs in DynamoDB."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from chalicelib import bootstrap
from chalicelib.domain.enums import Role
from chalicelib.ports.common import StaleWrite
from tests.integration.conftest import PASSWORD
from tests.support.faults import dynamodb_fault, recorded_calls

EVENT = {"title": "Advanced Django", "description": "Deep dive into Django internals"}
NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
SOME_ID = "01M8DJKSQ4WJA7GH71FHCTVASD"
ADMIN_ROUTES = [
    ("GET", "/api/admin/users/"),
    ("POST", "/api/admin/users/"),
    ("GET", f"/api/admin/users/{SOME_ID}/"),
    ("PATCH", f"/api/admin/users/{SOME_ID}/"),
    ("GET", "/api/admin/events/"),
    ("GET", "/api/admin/log/"),
]


def _usernames(reply) -> list[str]:
    assert reply.status == 200, reply.json
    return [user["username"] for user in reply.json["results"]]


def _next(reply) -> str | None:
    link = reply.json["next"]
    return None if link is None else f"{urlsplit(link).path}?{urlsplit(link).query}"


def _walk(api, path: str, token: str) -> list[list[str]]:
    """The usernames of every page of a list, following `next`."""
    pages = []
    while path:
        reply = api.get(path, token=token)
        pages.append(_usernames(reply))
        path = _next(reply)
    return pages


def _log(api, token: str, query: str = "") -> list[dict]:
    reply = api.get(f"/api/admin/log/{query}", token=token)
    assert reply.status == 200, reply.json
    return reply.json["results"]


def _staff_id(api, token: str) -> str:
    return api.get("/api/me/", token=token).json["id"]


# ---- Access ----


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_anonymous_callers_get_401_and_signed_in_non_staff_403_from_the_gateway(api, user_token, method, path):
    anonymous = api.request(method, path, {} if method in ("POST", "PATCH") else None)
    assert (anonymous.status, anonymous.json) == (401, NOT_PROVIDED)
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="api"'
    with recorded_calls() as calls:
        refused = api.request(method, path, {} if method in ("POST", "PATCH") else None, token=user_token)
    assert (refused.status, refused.json) == (403, FORBIDDEN)
    assert calls == ["GetItem"]  # the authorizer's read of the caller: no handler ran


def test_creators_are_refused_too(api, creator_token):
    assert api.get("/api/admin/users/", token=creator_token).status == 403


# ---- Users ----


def test_users_are_listed_by_username_whatever_its_case_with_the_admin_fields(api, make_user, staff_token):
    carol = make_user("carol", Role.CREATOR)
    make_user("Alice", email="")
    make_user("bob")
    reply = api.get("/api/admin/users/", token=staff_token)
    assert _usernames(reply) == ["admin", "Alice", "bob", "carol"]
    assert reply.json["next"] is None
    shown = reply.json["results"][3]
    assert shown == {
        "id": carol.id,
        "username": "carol",
        "email": "carol@example.com",
        "role": "CREATOR",
        "avatar": None,
        "is_staff": False,
        "date_joined": shown["date_joined"],
        "is_active": True,
        "last_login": None,
    }
    assert shown["date_joined"].endswith("Z")
    # The staff member signed in to get the token: that sign-in is their last.
    assert reply.json["results"][0]["last_login"].endswith("Z")


def test_search_is_a_case_insensitive_prefix_of_the_username(api, make_user, staff_token):
    for name in ("alice", "Albert", "bob", "malia"):
        make_user(name)
    assert _usernames(api.get("/api/admin/users/?search=AL", token=staff_token)) == ["Albert", "alice"]
    # Compared as usernames are: NFKC and case folding (full-width letters are the letters they stand for).
    assert _usernames(api.get("/api/admin/users/?search=%EF%BC%A1l", token=staff_token)) == ["Albert", "alice"]
    assert _usernames(api.get("/api/admin/users/?search=%20al%20", token=staff_token)) == ["Albert", "alice"]
    assert _usernames(api.get("/api/admin/users/?search=zz", token=staff_token)) == []


def test_a_term_reaching_the_at_sign_matches_e_mail_addresses_too(api, make_user, staff_token):
    make_user("robert", email="Bob@X.org")
    make_user("bob", email="bob@y.com")
    make_user("bob@home", email="someone@example.com")
    make_user("bobby", email="bobby@example.com")
    make_user("bob@work", email="bob@work.example")  # matches twice, shown once
    # In the order of the name that matched: `bob@home` by username, then the two by e-mail.
    assert _usernames(api.get("/api/admin/users/?search=BOB@", token=staff_token)) == [
        "bob@home",
        "bob@work",
        "robert",
        "bob",
    ]
    assert _usernames(api.get("/api/admin/users/?search=bob@x", token=staff_token)) == ["robert"]
    # Without an @ only usernames are searched (see docs/dynamodb.md for why).
    assert _usernames(api.get("/api/admin/users/?search=bob", token=staff_token)) == [
        "bob",
        "bob@home",
        "bob@work",
        "bobby",
    ]


def test_names_longer_than_an_index_key_can_hold_are_listed_and_found(api, make_user, staff_token):
    # DynamoDB's index sort keys hold 1024 bytes: the index keeps the start of the name, the search the whole.
    local = "\U0001f600" * 250  # 1,000 bytes of UTF-8
    make_user("smiley", email=f"{local}@x.io")
    make_user("smiley2", email=f"{local[:-1]}@x.io")
    assert _usernames(api.get(f"/api/admin/users/?search={quote(local + '@')}", token=staff_token)) == ["smiley"]
    longest = api.get(f"/api/admin/users/?search={quote(chr(0xFDFA) * 254)}", token=staff_token)  # NFKC: 18 each
    assert (longest.status, longest.json["results"]) == (200, [])


def test_filters_combine_with_each_other_and_with_search(api, make_user, staff_token):
    make_user("ann", Role.CREATOR)
    make_user("abe", Role.CREATOR, staff=True)
    make_user("amy")
    make_user("art", staff=True)
    make_user("ben", Role.CREATOR)
    amy = api.get("/api/admin/users/?search=amy", token=staff_token).json["results"][0]["id"]
    assert api.patch(f"/api/admin/users/{amy}/", {"is_active": False}, token=staff_token).status == 200

    def names(query: str) -> list[str]:
        return _usernames(api.get(f"/api/admin/users/?{query}", token=staff_token))

    assert names("role=CREATOR") == ["abe", "ann", "ben"]
    assert names("role=USER") == ["admin", "amy", "art"]
    assert names("is_staff=true") == ["abe", "admin", "art"]
    assert names("is_staff=0") == ["amy", "ann", "ben"]
    assert names("is_active=false") == ["amy"]
    assert names("role=CREATOR&is_staff=false") == ["ann", "ben"]
    assert names("role=USER&is_active=true") == ["admin", "art"]
    assert names("is_staff=false&is_active=true") == ["ann", "ben"]
    assert names("role=CREATOR&is_staff=true&is_active=true") == ["abe"]
    assert names("role=CREATOR&search=a") == ["abe", "ann"]
    assert names("is_staff=true&search=A") == ["abe", "admin", "art"]


def test_every_user_list_is_one_query_of_a_page_whatever_the_filters(api, make_user, staff_token):
    for i in range(5):
        make_user(f"user{i}", Role.CREATOR if i % 2 else Role.USER)
    for query in ("", "?role=CREATOR", "?is_staff=false&is_active=true", "?role=USER&is_staff=false&search=u"):
        with recorded_calls() as calls:
            reply = api.get(f"/api/admin/users/{query}", token=staff_token)
        assert reply.status == 200
        assert calls == ["GetItem", "Query"], (query, calls)  # the authorizer's read, then one Query


def test_pages_walk_every_user_once_in_order(api, make_user, staff_token):
    for name in ("fay", "dan", "eve", "cat", "gus", "bea"):
        make_user(name)
    pages = _walk(api, "/api/admin/users/?limit=2", staff_token)
    assert pages == [["admin", "bea"], ["cat", "dan"], ["eve", "fay"], ["gus"]]
    assert _walk(api, "/api/admin/users/?limit=2&search=e&role=USER", staff_token) == [["eve"]]


def test_pages_of_an_e_mail_search_walk_every_match_once(api, make_user, staff_token):
    for i in range(3):
        make_user(f"team@{i}", email=f"t{i}@example.com")
        make_user(f"member{i}", email=f"team@{i}.example.com")
    pages = _walk(api, "/api/admin/users/?search=team@&limit=2", staff_token)
    shown = [name for page in pages for name in page]
    assert sorted(shown) == sorted([*(f"team@{i}" for i in range(3)), *(f"member{i}" for i in range(3))])
    assert len(shown) == len(set(shown)) == 6
    assert all(len(page) <= 2 for page in pages)


def test_bad_filters_and_cursors_are_400(api, make_user, staff_token):
    reply = api.get("/api/admin/users/?role=ADMIN", token=staff_token)
    assert (reply.status, reply.json) == (400, {"role": ['"ADMIN" is not a valid choice.']})
    reply = api.get("/api/admin/users/?is_staff=maybe", token=staff_token)
    assert (reply.status, reply.json) == (400, {"is_staff": ["Must be a valid boolean."]})
    reply = api.get(f"/api/admin/users/?search={'a' * 255}", token=staff_token)
    assert (reply.status, reply.json) == (400, {"search": ["Ensure this field has no more than 254 characters."]})
    make_user("zoe")
    cursor = urlsplit(api.get("/api/admin/users/?limit=1", token=staff_token).json["next"]).query.split("cursor=")[1]
    assert (
        api.get(f"/api/admin/users/?limit=1&cursor={cursor}", token=staff_token).json["results"][0]["username"] == "zoe"
    )
    # A cursor belongs to its list and its filters.
    reply = api.get(f"/api/admin/users/?limit=1&role=CREATOR&cursor={cursor}", token=staff_token)
    assert (reply.status, reply.json) == (400, {"detail": "Invalid cursor"})
    reply = api.get(f"/api/admin/events/?cursor={cursor}", token=staff_token)
    assert (reply.status, reply.json) == (400, {"detail": "Invalid cursor"})


def test_staff_create_an_account_of_any_role_and_the_log_records_it(api, staff_token):
    body = {"username": "Newcomer", "email": "", "password": PASSWORD, "role": "CREATOR", "is_staff": True}
    reply = api.post("/api/admin/users/", body, token=staff_token)
    assert reply.status == 201
    created = reply.json
    assert created == {
        "id": created["id"],
        "username": "Newcomer",
        "email": "",
        "role": "CREATOR",
        "avatar": None,
        "is_staff": True,
        "date_joined": created["date_joined"],
        "is_active": True,
        "last_login": None,
    }
    assert api.get(f"/api/admin/users/{created['id']}/", token=staff_token).json == created
    assert api.token("newcomer", PASSWORD)
    [entry] = _log(api, staff_token)
    assert entry == {
        "id": entry["id"],
        "at": entry["at"],
        "actor": {"id": _staff_id(api, staff_token), "username": "admin"},
        "action": "user.create",
        "object_type": "user",
        "object_id": created["id"],
        "changes": {
            "username": [None, "Newcomer"],
            "email": [None, ""],
            "role": [None, "CREATOR"],
            "is_staff": [None, True],
            "is_active": [None, True],
        },
    }


def test_creating_an_account_validates_like_sign_up_and_writes_nothing_when_refused(api, make_user, staff_token):
    make_user("taken", email="taken@example.com")
    weak = api.post("/api/admin/users/", {"username": "weak", "password": "password"}, token=staff_token)
    assert (weak.status, weak.json) == (400, {"password": ["This password is too common."]})
    taken = api.post(
        "/api/admin/users/",
        {"username": "TAKEN", "email": "Taken@example.com", "password": PASSWORD},
        token=staff_token,
    )
    assert (taken.status, taken.json) == (
        400,
        {
            "username": ["A user with that username already exists."],
            "email": ["A user with that email already exists."],
        },
    )
    odd = api.post(
        "/api/admin/users/",
        {"username": "x", "password": PASSWORD, "is_active": False, "nickname": "y", "role": "STAFF"},
        token=staff_token,
    )
    assert (odd.status, odd.json) == (
        400,
        {
            "is_active": ["This field is read-only."],
            "nickname": ["Unknown field."],
            "role": ['"STAFF" is not a valid choice.'],
        },
    )
    missing = api.post("/api/admin/users/", {}, token=staff_token)
    assert missing.json == {"username": ["This field is required."], "password": ["This field is required."]}
    assert _log(api, staff_token) == []
    assert _usernames(api.get("/api/admin/users/", token=staff_token)) == ["admin", "taken"]


def test_one_user_by_id(api, make_user, staff_token):
    user = make_user("someone")
    reply = api.get(f"/api/admin/users/{user.id}/", token=staff_token)
    assert reply.status == 200 and reply.json["username"] == "someone" and "password_hash" not in reply.json
    for unknown in (SOME_ID, "not-an-id"):
        reply = api.get(f"/api/admin/users/{unknown}/", token=staff_token)
        assert (reply.status, reply.json) == (404, {"detail": "Not found."})


def test_staff_change_role_flags_and_e_mail_and_each_change_is_logged(api, make_user, staff_token):
    user = make_user("member")
    changes = {"role": "CREATOR", "is_staff": True, "email": "New@Example.com"}
    reply = api.patch(f"/api/admin/users/{user.id}/", changes, token=staff_token)
    assert reply.status == 200
    assert (reply.json["role"], reply.json["is_staff"], reply.json["email"]) == ("CREATOR", True, "New@Example.com")
    assert api.get(f"/api/admin/users/{user.id}/", token=staff_token).json == reply.json
    [entry] = _log(api, staff_token)
    assert (entry["action"], entry["object_type"], entry["object_id"]) == ("user.update", "user", user.id)
    assert entry["changes"] == {
        "email": ["member@example.com", "New@Example.com"],
        "role": ["USER", "CREATOR"],
        "is_staff": [False, True],
    }
    # The old address is free again, the new one taken (markers moved in the same transaction).
    assert (
        api.post("/api/register/", {"username": "other", "email": "member@example.com", "password": PASSWORD}).status
        == 201
    )
    taken = api.patch(f"/api/admin/users/{user.id}/", {"email": "MEMBER@example.com"}, token=staff_token)
    assert (taken.status, taken.json) == (400, {"email": ["A user with that email already exists."]})


def test_a_change_that_changes_nothing_writes_nothing(api, make_user, staff_token):
    user = make_user("member")
    with recorded_calls() as calls:
        reply = api.patch(f"/api/admin/users/{user.id}/", {"role": "USER", "is_active": True}, token=staff_token)
    assert reply.status == 200 and reply.json["role"] == "USER"
    assert calls == ["GetItem", "GetItem"]  # the authorizer's read and the user's: no write
    assert _log(api, staff_token) == []


def test_patch_refuses_unknown_read_only_and_null_fields(api, make_user, staff_token):
    user = make_user("member")
    reply = api.patch(
        f"/api/admin/users/{user.id}/",
        {"username": "x", "password": "y", "colour": "red", "role": None, "is_active": "yes"},
        token=staff_token,
    )
    assert (reply.status, reply.json) == (
        400,
        {
            "role": ["This field may not be null."],
            "username": ["This field is read-only."],
            "password": ["This field is read-only."],
            "colour": ["Unknown field."],
            "is_active": ["Must be a valid boolean."],
        },
    )
    assert api.patch(f"/api/admin/users/{SOME_ID}/", {"role": "USER"}, token=staff_token).status == 404


def test_staff_cannot_remove_their_own_staff_status_or_deactivate_themselves(api, staff_token):
    me = _staff_id(api, staff_token)
    reply = api.patch(f"/api/admin/users/{me}/", {"is_staff": False, "is_active": False}, token=staff_token)
    assert (reply.status, reply.json) == (
        400,
        {"non_field_errors": ["You cannot remove your own staff status.", "You cannot deactivate your own account."]},
    )
    assert api.get(f"/api/admin/users/{me}/", token=staff_token).json["is_staff"] is True
    # Other changes to themselves are fine (and logged).
    assert api.patch(f"/api/admin/users/{me}/", {"role": "CREATOR"}, token=staff_token).json["role"] == "CREATOR"
    assert [e["action"] for e in _log(api, staff_token)] == ["user.update"]


def test_deactivation_takes_effect_at_once_for_sign_in_refresh_and_access_tokens(api, make_user, staff_token):
    user = make_user("leaving")
    pair = api.post("/api/token/", {"username": "leaving", "password": PASSWORD}).json
    assert api.get("/api/me/", token=pair["access"]).status == 200
    assert api.patch(f"/api/admin/users/{user.id}/", {"is_active": False}, token=staff_token).status == 200
    sign_in = api.post("/api/token/", {"username": "leaving", "password": PASSWORD})
    assert (sign_in.status, sign_in.json) == (401, {"detail": "No active account found with the given credentials"})
    refresh = api.post("/api/token/refresh/", {"refresh": pair["refresh"]})
    assert (refresh.status, refresh.json["code"]) == (401, "no_active_account")
    # The tests' authorizer cache lasts 0 s; deployed, a cached policy lasts one TTL (<= the token's lifetime).
    access = api.get("/api/me/", token=pair["access"])
    assert (access.status, access.json) == (401, {"detail": "User is inactive", "code": "user_inactive"})
    # Reactivated, the account signs in again.
    assert api.patch(f"/api/admin/users/{user.id}/", {"is_active": True}, token=staff_token).status == 200
    assert api.token("leaving", PASSWORD)


def test_a_role_change_applies_to_tokens_already_issued(api, make_user, staff_token):
    user = make_user("promoted")
    token = api.token("promoted", PASSWORD)
    assert api.post("/api/events/", EVENT, token=token).status == 403
    assert api.patch(f"/api/admin/users/{user.id}/", {"role": "CREATOR"}, token=staff_token).status == 200
    assert api.post("/api/events/", EVENT, token=token).status == 201


def test_sign_in_records_last_login(api, make_user, staff_token):
    user = make_user("returning")
    assert api.get(f"/api/admin/users/{user.id}/", token=staff_token).json["last_login"] is None
    with recorded_calls() as calls:
        api.token("returning", PASSWORD)
    # The sign-in throttles (the client's lease, the IP's and username's counters), the username's marker, the
    # user, last_login, then the right password clears the client's counter and marks the client known.
    assert calls == ["UpdateItem", "BatchGetItem", "GetItem", "GetItem", "UpdateItem", "DeleteItem", "PutItem"]
    first = api.get(f"/api/admin/users/{user.id}/", token=staff_token).json["last_login"]
    api.token("returning", PASSWORD)
    assert api.get(f"/api/admin/users/{user.id}/", token=staff_token).json["last_login"] > first


def test_a_sign_in_between_a_read_and_a_save_of_the_account_makes_the_save_start_over(make_user):
    users = bootstrap.users()
    user = make_user("racing")
    read = users.get(user.id)
    users.record_login(user.id, read.date_joined)
    with pytest.raises(StaleWrite):
        users.save(read, read.with_changes(role=Role.CREATOR))


# ---- Events ----


def _event(api, token: str, title: str, **fields) -> dict:
    reply = api.post("/api/events/", {**EVENT, "title": title, **fields}, token=token)
    assert reply.status == 201, reply.json
    return reply.json


def test_staff_see_every_event_newest_first_with_status_and_creator_filters(api, make_user, creator_token, staff_token):
    make_user("other_creator", Role.CREATOR)
    other = api.token("other_creator", PASSWORD)
    published = _event(api, creator_token, "Published")
    draft = _event(api, creator_token, "Draft", status="draft")
    cancelled = _event(api, creator_token, "Cancelled")
    api.patch(f"/api/events/{cancelled['id']}/", {"status": "cancelled"}, token=creator_token)
    foreign = _event(api, other, "Other's draft", status="draft")

    def titles(query: str = "") -> list[str]:
        reply = api.get(f"/api/admin/events/{query}", token=staff_token)
        assert reply.status == 200, reply.json
        return [event["title"] for event in reply.json["results"]]

    assert titles() == ["Other's draft", "Cancelled", "Draft", "Published"]
    assert titles("?status=draft") == ["Other's draft", "Draft"]
    assert titles("?status=cancelled") == ["Cancelled"]
    assert titles(f"?creator={published['creator']}") == ["Cancelled", "Draft", "Published"]
    assert titles(f"?creator={foreign['creator']}&status=draft") == ["Other's draft"]
    assert titles(f"?creator={foreign['creator']}&status=published") == []
    assert titles("?creator=nobody") == []
    assert api.get("/api/admin/events/?limit=3", token=staff_token).json["results"][2]["id"] == draft["id"]
    pages = []
    path = "/api/admin/events/?limit=3"
    while path:
        reply = api.get(path, token=staff_token)
        pages.append([event["title"] for event in reply.json["results"]])
        path = _next(reply)
    assert pages == [["Other's draft", "Cancelled", "Draft"], ["Published"]]
    bad = api.get("/api/admin/events/?status=archived", token=staff_token)
    assert (bad.status, bad.json) == (400, {"status": ['"archived" is not a valid choice.']})


# ---- The audit log of staff writes through the normal routes ----


def test_staff_edits_cancellations_and_deletions_of_others_events_are_logged(api, creator_token, staff_token):
    edited = _event(api, creator_token, "Edited", capacity=10)
    deleted = _event(api, creator_token, "Deleted")
    reply = api.patch(f"/api/events/{edited['id']}/", {"title": "Renamed", "capacity": 20}, token=staff_token)
    assert reply.status == 200
    assert api.patch(f"/api/events/{edited['id']}/", {"status": "cancelled"}, token=staff_token).status == 200
    assert api.delete(f"/api/events/{deleted['id']}/", token=staff_token).status == 204
    entries = _log(api, staff_token)
    assert [(e["action"], e["object_type"], e["object_id"], e["changes"]) for e in entries] == [
        (
            "event.delete",
            "event",
            deleted["id"],
            {
                "title": ["Deleted", None],
                "creator": [deleted["creator"], None],
                "status": ["published", None],
            },
        ),
        ("event.cancel", "event", edited["id"], {"status": ["published", "cancelled"]}),
        ("event.update", "event", edited["id"], {"title": ["Edited", "Renamed"], "capacity": [10, 20]}),
    ]
    assert entries[0]["at"] >= entries[1]["at"] >= entries[2]["at"]


def test_what_people_do_with_their_own_things_is_not_logged(api, creator_token, user_token, staff_token):
    own = _event(api, creator_token, "Own")
    api.patch(f"/api/events/{own['id']}/", {"title": "Own, renamed"}, token=creator_token)
    booking = api.post(f"/api/events/{own['id']}/bookings/", token=user_token).json
    api.post(f"/api/bookings/{booking['id']}/cancel/", token=user_token)
    staff_own = _event(api, staff_token, "Staff's own")
    api.patch(f"/api/events/{staff_own['id']}/", {"title": "Staff's own, renamed"}, token=staff_token)
    api.delete(f"/api/events/{staff_own['id']}/", token=staff_token)
    assert _log(api, staff_token) == []


def test_staff_cancelling_someone_elses_booking_is_logged(api, creator_token, user_token, staff_token):
    event = _event(api, creator_token, "Booked", capacity=5)
    booking = api.post(f"/api/events/{event['id']}/bookings/", token=user_token).json
    reply = api.post(f"/api/bookings/{booking['id']}/cancel/", token=staff_token)
    assert (reply.status, reply.json["status"]) == (200, "cancelled")
    [entry] = _log(api, staff_token)
    assert (entry["action"], entry["object_type"], entry["object_id"], entry["changes"]) == (
        "booking.cancel",
        "booking",
        booking["id"],
        {"status": ["confirmed", "cancelled"]},
    )
    assert api.get(f"/api/events/{event['id']}/", token=staff_token).json["seats_booked"] == 0


def test_the_log_filters_by_actor_and_object_newest_first(api, make_user, staff_token):
    make_user("second", staff=True)
    second = api.token("second", PASSWORD)
    target = make_user("target")
    bystander = make_user("bystander")
    api.patch(f"/api/admin/users/{target.id}/", {"role": "CREATOR"}, token=staff_token)
    api.patch(f"/api/admin/users/{bystander.id}/", {"role": "CREATOR"}, token=staff_token)
    api.patch(f"/api/admin/users/{target.id}/", {"is_active": False}, token=second)
    me, second_id = _staff_id(api, staff_token), _staff_id(api, second)

    def shown(query: str) -> list[tuple[str, str, list[str]]]:
        return [(e["actor"]["username"], e["object_id"], sorted(e["changes"])) for e in _log(api, staff_token, query)]

    assert shown("") == [
        ("second", target.id, ["is_active"]),
        ("admin", bystander.id, ["role"]),
        ("admin", target.id, ["role"]),
    ]
    assert shown(f"?actor={me}") == [("admin", bystander.id, ["role"]), ("admin", target.id, ["role"])]
    assert shown(f"?object_id={target.id}") == [("second", target.id, ["is_active"]), ("admin", target.id, ["role"])]
    assert shown(f"?actor={second_id}&object_id={target.id}") == [("second", target.id, ["is_active"])]
    assert shown(f"?actor={second_id}&object_id={bystander.id}") == []
    assert shown("?actor=not-an-id") == []
    first = api.get("/api/admin/log/?limit=2", token=staff_token)
    assert len(first.json["results"]) == 2
    rest = api.get(_next(first), token=staff_token)
    assert [e["object_id"] for e in rest.json["results"]] == [target.id] and rest.json["next"] is None


# ---- Atomicity ----


def test_a_failed_transaction_leaves_neither_the_change_nor_its_entry(api, make_user, creator_token, staff_token):
    user = make_user("member")
    event = _event(api, creator_token, "Untouched")
    with dynamodb_fault("TransactWriteItems", "ThrottlingException"):
        refused_user = api.patch(f"/api/admin/users/{user.id}/", {"role": "CREATOR"}, token=staff_token)
        refused_event = api.patch(f"/api/events/{event['id']}/", {"title": "Changed"}, token=staff_token)
        refused_create = api.post("/api/admin/users/", {"username": "late", "password": PASSWORD}, token=staff_token)
    assert [r.status for r in (refused_user, refused_event, refused_create)] == [503, 503, 503]
    assert api.get(f"/api/admin/users/{user.id}/", token=staff_token).json["role"] == "USER"
    assert api.get(f"/api/events/{event['id']}/").json == event
    assert _usernames(api.get("/api/admin/users/?search=late", token=staff_token)) == []
    assert _log(api, staff_token) == []


# ---- What each admin request costs in DynamoDB ----


def test_each_admin_endpoint_makes_exactly_these_dynamodb_requests(
    api, make_user, creator_token, user_token, staff_token
):
    """The counts docs/staff-console.md lists. Every request starts with the authorizer's GetItem of the caller (its own
    Lambda on AWS, cached by the gateway): the rest is the handler's."""
    member = make_user("member")
    event = _event(api, creator_token, "Costed", capacity=5)
    gone = _event(api, creator_token, "Gone")
    booking = api.post(f"/api/events/{event['id']}/bookings/", token=user_token).json
    expected = [
        (("GET", "/api/admin/users/", None), ["Query"]),
        (("GET", "/api/admin/users/?role=USER&is_staff=false&is_active=true&search=m", None), ["Query"]),
        (("GET", "/api/admin/users/?search=member@", None), ["Query", "Query"]),
        (("POST", "/api/admin/users/", {"username": "made", "password": PASSWORD}), ["TransactWriteItems"]),
        (("GET", f"/api/admin/users/{member.id}/", None), ["GetItem"]),
        (("PATCH", f"/api/admin/users/{member.id}/", {"role": "CREATOR"}), ["GetItem", "TransactWriteItems"]),
        # A page of events: one Query (the seats shown are the copy on the events, services.seat_copies).
        (("GET", "/api/admin/events/", None), ["Query"]),
        (("GET", "/api/admin/events/?status=published", None), ["Query"]),
        (("GET", "/api/admin/log/", None), ["Query"]),
        (("GET", f"/api/admin/log/?object_id={member.id}", None), ["Query"]),
        # An event is read with its first seat counter (BatchGetItem); deleting it reads its counters again
        # (consistent) to delete them with it, each only if it holds nothing.
        (("PATCH", f"/api/events/{event['id']}/", {"title": "Renamed"}), ["BatchGetItem", "TransactWriteItems"]),
        (("DELETE", f"/api/events/{gone['id']}/", None), ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]),
        (
            ("POST", f"/api/bookings/{booking['id']}/cancel/", {}),
            ["GetItem", "BatchGetItem", "TransactWriteItems"],
        ),
    ]
    for (method, path, body), handler_calls in expected:
        with recorded_calls() as calls:
            reply = api.request(method, path, body, token=staff_token)
        assert reply.status < 300, (method, path, reply.status, reply.json)
        assert calls == ["GetItem", *handler_calls], (method, path, calls)
    for path in ("/admin/", "/admin/console.js", "/admin/console.css"):
        with recorded_calls() as calls:
            assert api.get(path, token=staff_token).status == 200
        assert calls == [], path  # the console's files hold no data
