"""Regression tests for what an adversarial audit and a browser client found (one test per finding)."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import PASSWORD

EVENT = {"title": "T", "description": "D"}
ORIGIN = "http://127.0.0.1:5173"


def _event(api, token, **fields):
    reply = api.post("/api/events/", {**EVENT, **fields}, token=token)
    assert reply.status == 201, reply.json
    return reply.json


# Text, time zones, links and numbers.


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "bad\x00title", "Null characters are not allowed."),
        ("title", "bell\x07", "Control characters are not allowed."),
        ("title", "two\nlines", "Control characters are not allowed."),
        ("location", "esc\x1b[31m", "Control characters are not allowed."),
        ("description", "c1 \x85 control", "Control characters are not allowed."),
        ("title", "\ud800", "Surrogate characters are not allowed: U+D800."),
    ],
)
def test_text_fields_refuse_nul_control_and_surrogate_characters(api, creator_token, field, value, message):
    raw = json.dumps({**EVENT, field: value}).encode()  # ensure_ascii keeps the lone surrogate sendable
    reply = api.request("POST", "/api/events/", raw=raw, token=creator_token)
    assert (reply.status, reply.json) == (400, {field: [message]})
    assert api.get("/api/events/").json["results"] == []


def test_multi_line_description_keeps_its_newlines_and_tabs(api, creator_token):
    event = _event(api, creator_token, description="Line one\n\tLine two\r\nThree")
    assert event["description"] == "Line one\n\tLine two\r\nThree"


def test_form_body_with_a_percent_escape_that_is_not_utf8_is_refused(api, creator_token):
    reply = api.request(
        "POST",
        "/api/events/",
        raw=b"title=caf%E9&description=x",
        token=creator_token,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (reply.status, reply.json) == (400, {"detail": "Form parse error - a percent-escape is not valid UTF-8"})


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "right/UTC", "posix/UTC", "../UTC", "utc"])
def test_only_iana_time_zone_names_are_accepted(api, creator_token, zone):
    reply = api.post("/api/events/", {**EVENT, "timezone": zone}, token=creator_token)
    assert (reply.status, reply.json) == (400, {"timezone": ["A valid timezone is required."]})


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_iana_time_zones_are_accepted(api, creator_token, zone):
    assert _event(api, creator_token, timezone=zone)["timezone"] == zone


@pytest.mark.parametrize("url", ["https://user:pass@meet.example.com/x", "https://user@meet.example.com/"])
def test_links_with_credentials_are_refused(api, creator_token, url):
    reply = api.post("/api/events/", {**EVENT, "online_url": url}, token=creator_token)
    assert (reply.status, reply.json) == (400, {"online_url": ["Enter a URL without a user name or password."]})


@pytest.mark.parametrize(("price", "shown"), [("-0", "0.00"), ("-0.00", "0.00"), ("0", "0.00"), ("12.5", "12.50")])
def test_prices_are_shown_with_two_decimals_and_zero_is_never_negative(api, creator_token, price, shown):
    assert _event(api, creator_token, price=price)["price"] == shown


@pytest.mark.parametrize("price", ["١٢", "１２", "12²", "1e3", "Infinity", "0x10", "1_000"])
def test_prices_take_ascii_digits_only(api, creator_token, price):
    reply = api.post("/api/events/", {**EVENT, "price": price}, token=creator_token)
    assert (reply.status, reply.json) == (400, {"price": ["A valid number is required."]})


def test_error_bodies_quote_only_a_short_excerpt_of_what_was_sent(api, creator_token):
    huge = "X" * 20_000
    reply = api.post("/api/events/", {**EVENT, "currency": huge, "status": huge, huge: 1}, token=creator_token)
    assert reply.status == 400
    excerpt = "X" * 39 + "…"
    assert reply.json == {
        "currency": [f'"{excerpt}" is not a valid choice.'],
        "status": [f'"{excerpt}" is not a valid choice.'],
        excerpt: ["Unknown field."],
    }
    assert len(reply.raw) < 400


def test_a_value_that_is_not_text_is_named_by_its_type_in_an_error(api, creator_token):
    reply = api.post("/api/events/", {**EVENT, "status": {"nested": ["object"]}}, token=creator_token)
    assert (reply.status, reply.json) == (400, {"status": ['"dict" is not a valid choice.']})


# Paid links.

PAID = {"price": "25.00", "online_url": "https://meet.example.com/paid-room", "capacity": 1}


def test_paid_event_link_is_shown_only_to_a_confirmed_seat_its_creator_and_staff(
    api, make_user, creator_token, user_token, staff_token, checkout
):
    event = _event(api, creator_token, **PAID)
    path = f"/api/events/{event['id']}/"
    make_user("waiter")
    waiter = api.token("waiter", PASSWORD)
    make_user("stranger")
    stranger = api.token("stranger", PASSWORD)
    held = api.post(f"{path}bookings/", token=user_token).json
    assert held["event_summary"]["online_url"] is None  # held, not paid yet
    checkout.submit(held["checkout_url"], "pay")
    booked = next(b for b in api.get("/api/me/bookings/", token=user_token).json["results"] if b["id"] == held["id"])
    waiting = api.post(f"{path}bookings/", {"waitlist": True}, token=waiter).json
    assert booked["event_summary"]["online_url"] == PAID["online_url"]
    assert waiting["event_summary"]["online_url"] is None
    links = [api.get(path, token=t).json["online_url"] for t in (None, stranger, waiter, user_token)]
    links += [api.get(path, token=t).json["online_url"] for t in (creator_token, staff_token)]
    assert links == [None, None, None, PAID["online_url"], PAID["online_url"], PAID["online_url"]]
    assert [e["online_url"] for e in api.get("/api/events/").json["results"]] == [None]
    mine = api.get("/api/me/bookings/", token=waiter).json["results"]
    assert [b["event_summary"]["online_url"] for b in mine] == [None]
    # The seat passes to the waiting booking, held until its holder pays: from then on, they see the link.
    api.post(f"/api/bookings/{booked['id']}/cancel/", token=user_token)
    promoted = api.get("/api/me/bookings/", token=waiter).json["results"][0]
    assert (promoted["status"], api.get(path, token=waiter).json["online_url"]) == ("pending_payment", None)
    checkout.submit(promoted["checkout_url"], "pay")
    assert api.get(path, token=waiter).json["online_url"] == PAID["online_url"]
    assert api.get(path, token=user_token).json["online_url"] is None


def test_event_detail_with_a_viewer_reads_the_event_and_their_seat_without_a_transaction(
    api, creator_token, user_token
):
    from tests.support.faults import recorded_calls

    event = _event(api, creator_token, **PAID)
    params: list = []
    with recorded_calls(params) as calls:
        api.get(f"/api/events/{event['id']}/", token=user_token)
    # The viewer's account, then the event, its seat counter and their marker in one consistent BatchGetItem,
    # never a transaction over the counter, which every booking writes (a transactional read conflicts with them).
    assert calls == ["GetItem", "BatchGetItem"]
    assert [table["ConsistentRead"] for table in params[1][1]["RequestItems"].values()] == [True, True, True]


# Idempotency bound to the resource.


def test_idempotency_key_of_one_event_replays_nothing_for_another(api, creator_token, user_token):
    first, second = _event(api, creator_token), _event(api, creator_token)
    key = {"Idempotency-Key": "book-1"}
    assert api.post(f"/api/events/{first['id']}/bookings/", token=user_token, headers=key).status == 201
    reply = api.post(f"/api/events/{second['id']}/bookings/", token=user_token, headers=key)
    assert (reply.status, reply.json) == (
        409,
        {"detail": "This Idempotency-Key was used for a different request.", "code": "idempotency_key_reused"},
    )
    assert api.get(f"/api/events/{second['id']}/", token=creator_token).json["seats_booked"] == 0


def test_idempotency_key_of_one_cancellation_cancels_nothing_else(api, creator_token, user_token):
    x = api.post(f"/api/events/{_event(api, creator_token)['id']}/bookings/", token=user_token).json
    y = api.post(f"/api/events/{_event(api, creator_token)['id']}/bookings/", token=user_token).json
    key = {"Idempotency-Key": "cancel-1"}
    assert api.post(f"/api/bookings/{x['id']}/cancel/", token=user_token, headers=key).status == 200
    reply = api.post(f"/api/bookings/{y['id']}/cancel/", token=user_token, headers=key)
    assert (reply.status, reply.json["code"]) == (409, "idempotency_key_reused")
    statuses = {b["id"]: b["status"] for b in api.get("/api/me/bookings/", token=user_token).json["results"]}
    assert statuses == {x["id"]: "cancelled", y["id"]: "confirmed"}


def test_retry_of_the_request_that_took_the_last_seat_gets_its_first_answer(api, creator_token, user_token):
    event = _event(api, creator_token, capacity=1)
    key = {"Idempotency-Key": "last-seat"}
    first = api.post(f"/api/events/{event['id']}/bookings/", token=user_token, headers=key)
    retry = api.post(f"/api/events/{event['id']}/bookings/", token=user_token, headers=key)
    assert (first.status, retry.status, retry.json) == (201, 201, first.json)
    assert retry.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers


def test_holder_of_a_seat_at_a_full_event_hears_already_booked(api, creator_token, user_token):
    event = _event(api, creator_token, capacity=1)
    api.post(f"/api/events/{event['id']}/bookings/", token=user_token)
    reply = api.post(f"/api/events/{event['id']}/bookings/", token=user_token)
    assert (reply.status, reply.json) == (
        409,
        {"detail": "You already have a booking for this event.", "code": "already_booked"},
    )


def test_a_booking_has_one_shape_everywhere(api, creator_token, user_token):
    event = _event(api, creator_token, starts_at="2099-05-01T10:00:00+02:00", location="Room 1")
    created = api.post(f"/api/events/{event['id']}/bookings/", token=user_token).json
    listed = api.get("/api/me/bookings/", token=user_token).json["results"][0]
    attendee = api.get(f"/api/events/{event['id']}/bookings/", token=creator_token).json["results"][0]
    assert created == listed == attendee
    assert created["event_summary"] == {
        "id": event["id"],
        "title": "T",
        "starts_at": "2099-05-01T08:00:00.000000Z",
        "ends_at": None,
        "timezone": "UTC",
        "location": "Room 1",
        "online_url": None,
        "status": "published",
    }
    cancelled = api.post(f"/api/bookings/{created['id']}/cancel/", token=user_token).json
    assert set(cancelled) == set(created) and cancelled["status"] == "cancelled"


# Browser clients: CORS, cache and content-type headers.

EXPOSED = "Idempotent-Replayed, Retry-After, WWW-Authenticate"


def test_app_answers_expose_the_headers_a_browser_client_needs(api, user_token):
    reply = api.get("/api/me/", token=user_token, headers={"Origin": ORIGIN})
    assert reply.headers["access-control-allow-origin"] == ORIGIN
    assert reply.headers["access-control-expose-headers"] == EXPOSED
    assert reply.headers["vary"] == "Origin"


def test_gateway_answers_carry_cors_nosniff_and_exposed_headers_too(api):
    reply = api.get("/api/me/", headers={"Origin": ORIGIN})
    assert (reply.status, reply.json) == (401, {"detail": "Authentication credentials were not provided."})
    assert reply.headers["access-control-allow-origin"] == "*"
    assert reply.headers["access-control-expose-headers"] == EXPOSED
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_token_answers_are_never_stored_and_authenticated_ones_are_private(api, make_user):
    make_user("someone")
    token = api.post("/api/token/", {"username": "someone", "password": PASSWORD})
    assert token.headers["cache-control"] == "no-store"
    refresh = api.post("/api/token/refresh/", {"refresh": token.json["refresh"]})
    assert refresh.headers["cache-control"] == "no-store"
    me = api.get("/api/me/", token=token.json["access"])
    assert me.headers["cache-control"] == "private, no-store"
    public = api.get("/api/events/")
    assert public.headers["cache-control"] == "public, max-age=0, s-maxage=5"  # kept briefly by the edge
    for reply in (token, refresh, me, public, api.get("/health/"), api.get("/nope")):
        assert reply.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("lookalike", ["us\u0435r", "\u0430dmin", "creat\u03bfr_user", "ADM\u0130N", "adm\u0131n"])
def test_look_alike_usernames_are_refused_at_sign_up_and_by_staff(api, make_user, staff_token, lookalike):
    make_user("user")
    make_user("creator_user")
    body = {"username": lookalike, "email": "lookalike@example.com", "password": "vivid-otter-92-lamp"}
    refused = api.post("/api/register/", body)
    assert (refused.status, refused.json) == (
        400,
        {"username": ["A user with a username that looks the same already exists."]},
    )
    by_staff = api.post("/api/admin/users/", {**body, "role": "USER", "is_staff": False}, token=staff_token)
    assert (by_staff.status, by_staff.json["username"]) == (
        400,
        ["A user with a username that looks the same already exists."],
    )
    # The account it imitates still signs in; nothing was stored for the look-alike.
    assert api.post("/api/token/", {"username": lookalike, "password": body["password"]}).status == 401


def test_reindex_gives_older_accounts_their_look_alike_marker_and_reports_clashes(api, make_user):
    import boto3

    from chalicelib.persistence.admin import backfill_lookalike_markers

    client = boto3.client("dynamodb")

    def forget_markers() -> None:
        """As if the accounts were made before look-alike markers existed."""
        for item in client.scan(TableName="sessions-local-uniques")["Items"]:
            if item["key"]["S"].startswith("LOOKALIKE#"):
                client.delete_item(TableName="sessions-local-uniques", Key={"key": item["key"]})

    first = make_user("olduser")
    forget_markers()
    second = make_user("o1duser")  # looks the same: possible only before the markers
    forget_markers()
    written, clashes = backfill_lookalike_markers()
    assert written == 1 and len(clashes) == 1 and set(clashes[0]) == {first.id, second.id}
    assert backfill_lookalike_markers() == (0, clashes)
    refused = api.post("/api/register/", {"username": "01duser", "email": "x@example.com", "password": PASSWORD})
    assert refused.json == {"username": ["A user with a username that looks the same already exists."]}
