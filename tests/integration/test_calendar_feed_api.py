"""The personal calendar feed through the gateway emulation: its secret URL (GET, POST /api/me/calendar/) and
the feed itself (GET /api/calendar/<token>.ics), read back with the icalendar parser."""

import re
from datetime import UTC, datetime

import icalendar
import pytest

from chalicelib import bootstrap
from chalicelib.domain import common
from tests.integration.conftest import PASSWORD

NOW = datetime(2030, 5, 2, 8, 30, 15, tzinfo=UTC)
ME = "/api/me/calendar/"
NOT_FOUND = {"detail": "Not found."}
SECRET = "[A-Za-z0-9_-]{43}"


@pytest.fixture
def clock(monkeypatch):
    """`clock()` fixes the time from then on (the feed's DTSTAMP is the request's time); set only once the
    bookings are made, since Stripe's stand-in dates its checkouts from the real time."""
    return lambda: monkeypatch.setattr(common, "utcnow", lambda: NOW)


@pytest.fixture
def alice(api, make_user):
    user = make_user("alice")
    return user, api.token("alice", PASSWORD)


@pytest.fixture
def event_of(api, creator_token):
    def make(title, **fields):
        body = {"title": title, "description": "D", "starts_at": "2030-07-01T18:00:00+02:00", **fields}
        reply = api.post("/api/events/", {"timezone": "Europe/Paris", **body}, token=creator_token)
        assert reply.status == 201, reply.json
        return reply.json

    return make


def _feed_path(url: str) -> str:
    return url.removeprefix("https://testserver")


def _events(reply) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(reply.raw)
    return {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}


def test_the_url_is_made_once_and_names_the_user_and_a_secret(api, alice):
    reply = api.get(ME, token=alice[1])
    assert reply.status == 200
    secret = bootstrap.users().get(alice[0].id).calendar_secret
    assert re.fullmatch(SECRET, secret)
    url = f"https://testserver/api/calendar/{alice[0].id}.{secret}.ics"
    assert reply.json == {"url": url, "webcal_url": "webcal" + url.removeprefix("https")}
    assert api.get(ME, token=alice[1]).json == reply.json


def test_the_url_follows_the_configured_public_origin(api, alice, monkeypatch):
    settings = bootstrap.settings()._replace(public_api_origin="https://api.example.com")
    monkeypatch.setattr(bootstrap, "settings", lambda: settings)
    url = api.get(ME, token=alice[1]).json["url"]
    assert url.startswith("https://api.example.com/api/calendar/") and url.endswith(".ics")


def test_the_feed_holds_the_events_of_the_seats_with_the_online_link_of_confirmed_ones(
    api, alice, event_of, users, checkout, paid_event, clock
):
    online = "https://meet.example/room"
    booked = event_of("Booked, with a link", online_url=online, location="Room 4, Paris")
    cancelled = event_of("Booked, then cancelled")
    full = event_of("Full: on the waitlist", capacity=1)
    others = event_of("Booked by someone else")
    unscheduled = event_of("No start yet", starts_at=None)
    paid = paid_event(title="Held, not paid yet", starts_at="2030-08-01T10:00:00Z", online_url=online)
    [other] = users(1)
    token = alice[1]
    for event in (booked, cancelled, unscheduled):
        assert api.post(f"/api/events/{event['id']}/bookings/", token=token).status == 201
    mine = api.get("/api/me/bookings/", token=token).json["results"]
    cancelling = next(b for b in mine if b["event"] == cancelled["id"])
    assert api.post(f"/api/bookings/{cancelling['id']}/cancel/", token=token).status == 200
    assert api.post(f"/api/events/{full['id']}/bookings/", token=other).status == 201
    waiting = api.post(f"/api/events/{full['id']}/bookings/", {"waitlist": True}, token=token)
    assert waiting.json["status"] == "waitlisted", waiting.json
    assert api.post(f"/api/events/{others['id']}/bookings/", token=other).status == 201
    holding = api.post(f"/api/events/{paid['id']}/bookings/", token=token)
    assert holding.json["status"] == "pending_payment"

    clock()
    reply = api.get(_feed_path(api.get(ME, token=token).json["url"]))
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/calendar; charset=utf-8"
    assert reply.headers["cache-control"] == "private, max-age=300"
    assert reply.headers["referrer-policy"] == "no-referrer"
    calendar = icalendar.Calendar.from_ical(reply.raw)
    assert str(calendar["X-WR-CALNAME"]) == "Sessions Marketplace: my bookings"
    found = _events(reply)
    assert sorted(found) == ["Booked, with a link", "Held, not paid yet"]
    first = found["Booked, with a link"]
    assert str(first["UID"]) == f"{booked['id']}@sessions-marketplace"
    assert first.decoded("DTSTART") == datetime(2030, 7, 1, 16, 0, tzinfo=UTC)
    assert first["DTSTART"].params["TZID"] == "Europe/Paris"
    assert first.decoded("DTSTAMP") == NOW
    assert str(first["LOCATION"]) == "Room 4, Paris"
    assert str(first["URL"]) == f"http://127.0.0.1:3000/events/{booked['id']}"
    assert str(first["DESCRIPTION"]) == (
        f"D\n\nEvent page: http://127.0.0.1:3000/events/{booked['id']}\n\nJoin online: {online}"
    )
    held = found["Held, not paid yet"]
    assert online not in str(held["DESCRIPTION"]) and "LOCATION" not in held
    assert held.decoded("DTSTART") == datetime(2030, 8, 1, 10, 0, tzinfo=UTC)


def test_the_url_works_without_its_ics_suffix_too(api, alice, event_of):
    event = event_of("Solo")
    api.post(f"/api/events/{event['id']}/bookings/", token=alice[1])
    url = api.get(ME, token=alice[1]).json["url"]
    reply = api.get(_feed_path(url).removesuffix(".ics"))
    assert reply.status == 200 and sorted(_events(reply)) == ["Solo"]


def test_an_empty_feed_is_a_valid_calendar(api, alice):
    reply = api.get(_feed_path(api.get(ME, token=alice[1]).json["url"]))
    assert reply.status == 200
    calendar = icalendar.Calendar.from_ical(reply.raw)
    assert (str(calendar["VERSION"]), calendar.walk("VEVENT")) == ("2.0", [])


def test_resetting_the_url_makes_the_old_one_stop_working(api, alice):
    old = api.get(ME, token=alice[1]).json["url"]
    reset = api.post(ME, token=alice[1])
    assert reset.status == 200
    new = reset.json["url"]
    assert new != old and re.fullmatch(rf"https://testserver/api/calendar/{alice[0].id}\.{SECRET}\.ics", new)
    assert reset.json["webcal_url"] == "webcal" + new.removeprefix("https")
    assert api.get(ME, token=alice[1]).json == reset.json
    gone = api.get(_feed_path(old))
    assert (gone.status, gone.json) == (404, NOT_FOUND)
    assert api.get(_feed_path(new)).status == 200


def test_unknown_tampered_and_malformed_tokens_are_not_found(api, alice, make_user):
    url = api.get(ME, token=alice[1]).json["url"]
    user_id, secret = _feed_path(url).removeprefix("/api/calendar/").removesuffix(".ics").split(".")
    bob = make_user("bob")
    flipped = ("A" if secret[0] != "A" else "B") + secret[1:]
    for token in (
        f"{user_id}.{flipped}",
        f"{user_id}.{secret[:-1]}",
        f"{bob.id}.{secret}",  # another user, who never asked for a feed
        f"{user_id}.",
        user_id,
        secret,
        "01M8DJKSQ4WJA7GH71FHCTVASD." + secret,
        f"{user_id}.{secret}é",
    ):
        reply = api.get(f"/api/calendar/{token}.ics")
        assert (reply.status, reply.json) == (404, NOT_FOUND), token


def test_a_deactivated_account_s_feed_is_not_found(api, alice, staff_token):
    url = api.get(ME, token=alice[1]).json["url"]
    assert api.patch(f"/api/admin/users/{alice[0].id}/", {"is_active": False}, token=staff_token).status == 200
    assert api.get(_feed_path(url)).status == 404


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_the_url_needs_a_token(api, method):
    reply = api.request(method, ME)
    assert (reply.status, reply.json) == (401, {"detail": "Authentication credentials were not provided."})
