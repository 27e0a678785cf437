"""Organizer pages through the gateway emulation: GET /api/creators/<username>/ and its events' further pages,
and the display name and bio a user sets with PATCH /api/me/."""

from datetime import UTC, datetime

import pytest

from chalicelib import bootstrap
from chalicelib.domain import common
from chalicelib.domain.enums import Role
from chalicelib.http import creators as creators_http
from chalicelib.services import accounts
from tests.integration.conftest import PASSWORD
from tests.support.faults import recorded_calls

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
ORIGIN = "https://testserver"
NOT_FOUND = (404, {"detail": "Not found."})


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """What is upcoming and what is past is decided at NOW."""
    monkeypatch.setattr(common, "utcnow", lambda: NOW)


@pytest.fixture
def ann(api, make_user):
    """A creator, her access token."""
    make_user("Ann", Role.CREATOR)
    return api.token("Ann", PASSWORD)


@pytest.fixture
def publish(api, ann):
    """`publish(starts_at, **fields)`: an event of Ann's, as its creation answered it."""

    def make(starts_at=None, **fields):
        body = {"title": f"Session {starts_at}", "description": "D", "starts_at": starts_at, **fields}
        reply = api.post("/api/events/", body, token=ann)
        assert reply.status == 201, reply.json
        return reply.json

    return make


def shown(event):
    """An event as the organizer page shows it: the public fields but its creator's id and settlement."""
    return {name: value for name, value in event.items() if name not in ("creator", "settlement")}


def follow(api, link):
    return api.get(link.removeprefix(ORIGIN))


def test_the_page_shows_the_creator_and_her_upcoming_and_past_events_to_anyone_alike(api, ann, publish, user_token):
    profile = {"display_name": "Ann Organizer", "bio": "Talks about <b>Django</b> & tea.\nEvery month."}
    assert api.patch("/api/me/", profile, token=ann).status == 200
    later = publish("2030-03-01T10:00:00Z")
    sooner = publish("2030-02-01T10:00:00Z")
    at_now = publish("2030-01-01T12:00:00Z")  # starting this instant: upcoming until it has started
    long_ago = publish("2029-01-01T10:00:00Z")
    recently = publish("2029-12-31T10:00:00Z")
    publish("2030-02-15T10:00:00Z", status="draft")
    cancelled = publish("2030-02-20T10:00:00Z")
    assert api.patch(f"/api/events/{cancelled['id']}/", {"status": "cancelled"}, token=ann).status == 200
    publish(None)  # no start time: in neither list
    expected = {
        "username": "Ann",
        "display_name": "Ann Organizer",
        "bio": "Talks about <b>Django</b> & tea.\nEvery month.",
        "avatar": None,
        "upcoming": {"results": [shown(at_now), shown(sooner), shown(later)], "next": None},
        "past": {"results": [shown(recently), shown(long_ago)], "next": None},
    }
    anonymous = api.get("/api/creators/Ann/")
    assert (anonymous.status, anonymous.json) == (200, expected)
    assert api.get("/api/creators/Ann/", token=user_token).json == expected
    assert api.get("/api/creators/Ann/", token=ann).json == expected
    # Whatever the token (even one that is no token): this route does not read it.
    assert api.get("/api/creators/Ann/", headers={"Authorization": "Bearer nonsense"}).json == expected


def test_the_username_is_found_in_any_case_and_without_the_trailing_slash(api, ann):
    expected = {
        "username": "Ann",
        "display_name": "",
        "bio": "",
        "avatar": None,
        "upcoming": {"results": [], "next": None},
        "past": {"results": [], "next": None},
    }
    for path in ("/api/creators/ANN/", "/api/creators/ann", "/api/creators/%41nn/"):
        reply = api.get(path)
        assert (reply.status, reply.json) == (200, expected), path


def test_the_page_reads_the_username_marker_the_account_and_one_page_of_each_list(api, ann, publish):
    publish("2030-03-01T10:00:00Z")
    publish("2029-03-01T10:00:00Z")
    with recorded_calls() as calls:
        assert api.get("/api/creators/ann/").status == 200
    # Each list's page is a Query (the seats shown are the copy on the events, services.seat_copies).
    assert calls == ["GetItem", "GetItem", "Query", "Query"]


def test_unknown_names_users_and_inactive_creators_get_the_same_404(api, make_user, ann, publish):
    make_user("bob")  # a USER
    make_user("carl", Role.CREATOR)
    make_user("dana", Role.USER, staff=True)
    accounts.change_account(bootstrap.users(), "carl", is_active=False)
    for name in ("nobody", "bob", "carl", "dana", "x" * 3000, "%ED%A0%80"):
        for path in (f"/api/creators/{name}/", f"/api/creators/{name}/events/?when=upcoming"):
            reply = api.get(path)
            assert (reply.status, reply.json) == NOT_FOUND, path


def test_further_pages_follow_the_next_links_in_each_lists_order(api, ann, publish, monkeypatch):
    monkeypatch.setattr(creators_http, "DEFAULT_LIMIT", 2)
    upcoming = [publish(f"2030-0{month}-01T10:00:00Z") for month in (5, 3, 4, 2, 6)]
    past = [publish(f"2029-0{month}-01T10:00:00Z") for month in (5, 3, 4, 2, 6)]
    page = api.get("/api/creators/ann/").json
    for when, events, order in (("upcoming", upcoming, False), ("past", past, True)):
        listed = page[when]
        assert listed["next"].startswith(f"{ORIGIN}/api/creators/ann/events/?when={when}&cursor=")
        ids = [e["id"] for e in listed["results"]]
        link = listed["next"]
        while link:
            reply = follow(api, link)
            assert reply.status == 200
            ids += [e["id"] for e in reply.json["results"]]
            link = reply.json["next"]
        expected = sorted(events, key=lambda e: e["starts_at"], reverse=order)
        assert ids == [e["id"] for e in expected], when


def test_the_events_route_pages_with_limit_and_keeps_its_query_in_the_next_link(api, ann, publish):
    first, second, third = (publish(f"2029-0{month}-01T10:00:00Z") for month in (3, 2, 1))
    page = api.get("/api/creators/ann/events/?when=past&limit=2")
    assert [e["id"] for e in page.json["results"]] == [first["id"], second["id"]]
    assert page.json["next"].startswith(f"{ORIGIN}/api/creators/ann/events/?when=past&limit=2&cursor=")
    rest = follow(api, page.json["next"]).json
    assert rest == {"results": [shown(third)], "next": None}


def test_a_cursor_belongs_to_its_list(api, ann, publish, make_user):
    for month in (2, 3):
        publish(f"2030-0{month}-01T10:00:00Z")
    cursor = api.get("/api/creators/ann/events/?when=upcoming&limit=1").json["next"].split("cursor=")[1]
    make_user("eve", Role.CREATOR)
    for path in (
        f"/api/creators/ann/events/?when=past&cursor={cursor}",
        f"/api/creators/eve/events/?when=upcoming&cursor={cursor}",
    ):
        reply = api.get(path)
        assert (reply.status, reply.json) == (400, {"detail": "Invalid cursor"}), path


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("", {"when": ["This field is required."]}),
        ("?when=later", {"when": ['"later" is not a valid choice.']}),
        ("?when=past&limit=0", {"limit": ["Ensure this value is between 1 and 100."]}),
    ],
)
def test_the_events_route_checks_its_query(api, ann, query, errors):
    reply = api.get(f"/api/creators/ann/events/{query}")
    assert (reply.status, reply.json) == (400, errors)


def test_a_paid_events_online_link_stays_off_the_page(api, ann, publish):
    paid = publish("2030-03-01T10:00:00Z", price="10.00", online_url="https://meet.example/paid")
    free = publish("2030-04-01T10:00:00Z", online_url="https://meet.example/free")
    results = api.get("/api/creators/ann/", token=ann).json["upcoming"]["results"]
    assert [(e["id"], e["online_url"]) for e in results] == [(paid["id"], None), (free["id"], free["online_url"])]


def test_me_sets_reads_and_clears_the_display_name_and_bio(api, ann):
    reply = api.patch(
        "/api/me/", {"display_name": "  Ann O.  ", "bio": "  <script>alert(1)</script>\n\tHi  "}, token=ann
    )
    assert reply.status == 200
    assert (reply.json["display_name"], reply.json["bio"]) == ("Ann O.", "<script>alert(1)</script>\n\tHi")
    assert api.get("/api/me/", token=ann).json == reply.json
    page = api.get("/api/creators/ann/").json
    assert (page["display_name"], page["bio"]) == ("Ann O.", "<script>alert(1)</script>\n\tHi")
    cleared = api.patch("/api/me/", {"display_name": "", "bio": "   "}, token=ann).json
    assert (cleared["display_name"], cleared["bio"]) == ("", "")


def test_any_user_may_set_them_though_only_a_creator_has_a_page(api, user_token):
    reply = api.patch("/api/me/", {"display_name": "Just me"}, token=user_token)
    assert (reply.status, reply.json["display_name"]) == (200, "Just me")
    assert (api.get("/api/creators/user/").status, api.get("/api/creators/user/").json) == NOT_FOUND


def test_the_longest_display_name_and_bio_are_kept(api, ann):
    body = {"display_name": "é" * 60, "bio": "b" * 500}
    reply = api.patch("/api/me/", body, token=ann)
    assert (reply.status, reply.json["display_name"], reply.json["bio"]) == (200, "é" * 60, "b" * 500)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"display_name": "x" * 61}, {"display_name": ["Ensure this field has no more than 60 characters."]}),
        ({"bio": "x" * 501}, {"bio": ["Ensure this field has no more than 500 characters."]}),
        ({"display_name": "Ann\x07"}, {"display_name": ["Control characters are not allowed."]}),
        ({"display_name": "Ann\nOrganizer"}, {"display_name": ["Control characters are not allowed."]}),
        ({"bio": "Hello\x1b[31m"}, {"bio": ["Control characters are not allowed."]}),
        ({"bio": "Hello\x00"}, {"bio": ["Null characters are not allowed."]}),
        (
            {"display_name": None, "bio": None},
            {"display_name": ["This field may not be null."], "bio": ["This field may not be null."]},
        ),
        ({"bio": ["a"]}, {"bio": ["Not a valid string."]}),
        (
            {"role": "CREATOR", "is_staff": True},
            {"role": ["This field is read-only."], "is_staff": ["This field is read-only."]},
        ),
    ],
)
def test_me_refuses_bad_display_names_and_bios_and_changes_nothing(api, ann, body, errors):
    before = api.get("/api/me/", token=ann).json
    reply = api.patch("/api/me/", {**body}, token=ann)
    assert (reply.status, reply.json) == (400, errors)
    assert api.get("/api/me/", token=ann).json == before
