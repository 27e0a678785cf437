"""Events through the gateway emulation: roles, drafts, edits, lists and pagination."""

from urllib.parse import quote

import pytest

from tests.integration.conftest import PASSWORD

EVENT = {"title": "Advanced Django", "description": "Deep dive into Django internals"}


def test_creator_creates_an_event_and_anyone_reads_it(api, creator_token):
    created = api.post("/api/events/", EVENT, token=creator_token)
    assert created.status == 201
    event = created.json
    assert (event["title"], event["creator_username"], event["seats_booked"], event["status"]) == (
        "Advanced Django",
        "creator_user",
        0,
        "published",
    )
    assert event["created_at"].endswith("Z")
    detail = api.get(f"/api/events/{event['id']}/")
    assert (detail.status, detail.json) == (200, event)
    assert api.get(f"/api/events/{event['id']}").json == event


def test_user_gets_403_and_anonymous_gets_401_when_creating(api, user_token):
    forbidden = api.post("/api/events/", EVENT, token=user_token)
    assert (forbidden.status, forbidden.json) == (403, {"detail": "You do not have permission to perform this action."})
    anonymous = api.post("/api/events/", EVENT)
    assert (anonymous.status, anonymous.json) == (401, {"detail": "Authentication credentials were not provided."})


def test_client_cannot_set_creator_or_seats_booked(api, creator_token):
    reply = api.post("/api/events/", {**EVENT, "creator": "someone", "seats_booked": 5, "id": "x"}, token=creator_token)
    assert reply.status == 400
    assert set(reply.json) == {"creator", "seats_booked", "id"}


def test_event_validation_answers_like_drf(api, creator_token):
    assert api.post("/api/events/", {}, token=creator_token).json == {
        "title": ["This field is required."],
        "description": ["This field is required."],
    }
    assert api.post("/api/events/", {"title": "", "description": " "}, token=creator_token).json == {
        "title": ["This field may not be blank."],
        "description": ["This field may not be blank."],
    }
    long = api.post("/api/events/", {"title": "x" * 256, "description": "d"}, token=creator_token)
    assert long.json == {"title": ["Ensure this field has no more than 255 characters."]}
    capacity = api.post("/api/events/", {**EVENT, "capacity": 0}, token=creator_token)
    assert capacity.json == {"capacity": ["Ensure this value is greater than or equal to 1."]}
    times = api.post(
        "/api/events/",
        {**EVENT, "starts_at": "2027-01-01T10:00:00+02:00", "ends_at": "2027-01-01T07:00:00Z"},
        token=creator_token,
    )
    assert times.json == {"non_field_errors": ["The event must end after it starts."]}


def test_times_with_offsets_are_stored_in_utc(api, creator_token):
    reply = api.post("/api/events/", {**EVENT, "starts_at": "2027-01-01T10:00:00+02:00"}, token=creator_token)
    assert reply.json["starts_at"] == "2027-01-01T08:00:00.000000Z"


def test_an_event_in_a_year_before_1000_is_shown_and_read_back_as_a_four_digit_date_time(api, creator_token):
    # Found by the fuzzer: strftime wrote "29-12-05T...", which broke the answer's contract and every later
    # read of the stored event (500 on the creator's list).
    reply = api.post("/api/events/", {**EVENT, "starts_at": "0029-12-05T09:28:25Z"}, token=creator_token)
    assert reply.status == 201
    assert reply.json["starts_at"] == "0029-12-05T09:28:25.000000Z"
    mine = api.get("/api/me/events/", token=creator_token)
    assert mine.status == 200
    assert [e["starts_at"] for e in mine.json["results"] if e["id"] == reply.json["id"]] == [
        "0029-12-05T09:28:25.000000Z"
    ]
    assert api.get(f"/api/events/{reply.json['id']}/", token=creator_token).json["starts_at"] == reply.json["starts_at"]


def test_form_encoded_body_is_accepted_like_the_original(api, creator_token):
    reply = api.request(
        "POST",
        "/api/events/",
        raw=b"title=F&description=form",
        token=creator_token,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 201 and reply.json["title"] == "F"


def test_draft_is_404_for_others_and_visible_to_its_creator_and_staff(api, creator_token, user_token, staff_token):
    draft = api.post("/api/events/", {**EVENT, "status": "draft"}, token=creator_token).json
    path = f"/api/events/{draft['id']}/"
    assert api.get(path).status == 404
    assert api.get(path, token=user_token).json == {"detail": "Not found."}
    assert api.get(path, token=creator_token).status == 200
    assert api.get(path, token=staff_token).status == 200
    assert draft["id"] not in [e["id"] for e in api.get("/api/events/").json["results"]]


def test_unknown_or_malformed_event_id_is_404(api):
    assert api.get("/api/events/01M8DJKSQ4WJA7GH71FHCTVASD/").json == {"detail": "Not found."}
    assert api.get("/api/events/not-an-id/").status == 404


def test_only_the_creator_or_staff_edit_and_delete(api, make_user, creator_token, staff_token):
    from chalicelib.domain.enums import Role

    event = api.post("/api/events/", EVENT, token=creator_token).json
    path = f"/api/events/{event['id']}/"
    make_user("rival", Role.CREATOR)
    rival = api.token("rival", PASSWORD)
    assert api.patch(path, {"title": "Hijacked"}, token=rival).status == 403
    assert api.delete(path, token=rival).status == 403
    edited = api.patch(path, {"title": "Renamed", "capacity": 12}, token=creator_token)
    assert (edited.status, edited.json["title"], edited.json["capacity"]) == (200, "Renamed", 12)
    assert api.patch(path, {"title": None}, token=creator_token).json == {"title": ["This field may not be null."]}
    assert api.patch(path, {"seats_booked": 3}, token=creator_token).json == {
        "seats_booked": ["This field is read-only."]
    }
    assert api.delete(path, token=staff_token).status == 204
    assert api.get(path).status == 404


def test_user_cannot_edit_any_event(api, creator_token, user_token):
    event = api.post("/api/events/", EVENT, token=creator_token).json
    reply = api.patch(f"/api/events/{event['id']}/", {"title": "x"}, token=user_token)
    assert (reply.status, reply.json) == (403, {"detail": "You do not have permission to perform this action."})


def test_list_is_newest_first_and_pages_with_a_signed_cursor(api, creator_token):
    ids = [api.post("/api/events/", {**EVENT, "title": f"E{i}"}, token=creator_token).json["id"] for i in range(5)]
    first = api.get("/api/events/?limit=2").json
    assert [e["id"] for e in first["results"]] == ids[::-1][:2]
    assert first["next"].startswith("https://testserver/api/events/?limit=2&cursor=")
    seen = [e["id"] for e in first["results"]]
    next_url = first["next"]
    while next_url:
        page = api.get(next_url.removeprefix("https://testserver")).json
        seen += [e["id"] for e in page["results"]]
        next_url = page["next"]
    assert seen == ids[::-1]


def test_next_link_comes_from_the_gateway_never_from_client_headers(api, creator_token):
    for _ in range(2):
        api.post("/api/events/", EVENT, token=creator_token)
    hostile = {"Host": "evil.example", "X-Forwarded-Proto": "javascript", "X-Forwarded-Host": "evil.example"}
    link = api.get("/api/events/?limit=1", headers=hostile).json["next"]
    assert link.startswith("https://testserver/api/events/?limit=1&cursor=")


def test_tampered_cursor_and_bad_limit_are_400(api, creator_token):
    for _ in range(3):
        api.post("/api/events/", EVENT, token=creator_token)
    cursor = api.get("/api/events/?limit=1").json["next"].split("cursor=")[1]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    assert api.get(f"/api/events/?limit=1&cursor={tampered}").json == {"detail": "Invalid cursor"}
    for limit in ("0", "101"):
        reply = api.get(f"/api/events/?limit={limit}")
        assert (reply.status, reply.json) == (400, {"limit": ["Ensure this value is between 1 and 100."]})
    reply = api.get("/api/events/?upcoming=maybe")
    assert (reply.status, reply.json) == (400, {"upcoming": ["Must be a valid boolean."]})


@pytest.mark.parametrize("limit", ["abc", "²", "①", "١٢", "5.0", "-1", " 5", "1" * 30])
@pytest.mark.parametrize("path", ["/api/events/", "/api/me/events/", "/api/me/bookings/"])
def test_limit_takes_ascii_digits_only_on_every_list(api, creator_token, path, limit):
    reply = api.get(f"{path}?limit={quote(limit)}", token=creator_token)
    assert (reply.status, reply.json) == (400, {"limit": ["A valid integer is required."]})


def test_filters_by_creator_and_upcoming(api, make_user, creator_token):
    from chalicelib.domain.enums import Role

    make_user("second", Role.CREATOR)
    other = api.token("second", PASSWORD)
    mine = api.post("/api/events/", {**EVENT, "starts_at": "2099-01-02T00:00:00Z"}, token=creator_token).json
    soon = api.post("/api/events/", {**EVENT, "starts_at": "2099-01-01T00:00:00Z"}, token=other).json
    api.post("/api/events/", {**EVENT, "starts_at": "2000-01-01T00:00:00Z"}, token=other)
    by_creator = api.get(f"/api/events/?creator={mine['creator']}").json["results"]
    assert [e["id"] for e in by_creator] == [mine["id"]]
    upcoming = api.get("/api/events/?upcoming=true").json["results"]
    assert [e["id"] for e in upcoming] == [soon["id"], mine["id"]]
    both = api.get(f"/api/events/?upcoming=true&creator={soon['creator']}").json["results"]
    assert [e["id"] for e in both] == [soon["id"]]


def test_my_events_include_drafts_and_are_for_creators(api, creator_token, user_token):
    draft = api.post("/api/events/", {**EVENT, "status": "draft"}, token=creator_token).json
    reply = api.get("/api/me/events/", token=creator_token)
    assert [e["id"] for e in reply.json["results"]] == [draft["id"]]
    assert api.get("/api/me/events/", token=user_token).status == 403
