"""GET /api/events/<id>/calendar.ics through the gateway emulation: who gets the online link, drafts, headers."""

from datetime import UTC, datetime

import icalendar
import pytest

from chalicelib import bootstrap
from chalicelib.domain import common
from chalicelib.services.calendars import fold

NOW = datetime(2030, 5, 2, 8, 30, 15, tzinfo=UTC)
ONLINE = "https://meet.example/room-42"
EVENT = {
    "title": "Été à Paris, l’atelier",
    "description": "Deep dive; bring a laptop",
    "starts_at": "2030-07-01T18:00:00+02:00",
    "ends_at": "2030-07-01T20:00:00+02:00",
    "timezone": "Europe/Paris",
    "online_url": ONLINE,
}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The answer's DTSTAMP is the request's time: fixed here, so that the whole answer can be compared."""
    monkeypatch.setattr(common, "utcnow", lambda: NOW)


@pytest.fixture
def event(api, creator_token):
    reply = api.post("/api/events/", EVENT, token=creator_token)
    assert reply.status == 201, reply.json
    return reply.json


def ics(api, event_id, token=None):
    return api.get(f"/api/events/{event_id}/calendar.ics", token=token)


def stamp(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%Y%m%dT%H%M%SZ")


def expected(event, online: bool) -> str:
    web = bootstrap.settings().web_app_url
    page = f"{web}/events/{event['id']}"
    description = f"Deep dive\\; bring a laptop\\n\\nEvent page: {page}"
    if online:
        description += f"\\n\\nJoin online: {ONLINE}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Sessions Marketplace//Calendar 1.0//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Paris",
        "BEGIN:DAYLIGHT",
        "DTSTART:20300331T020000",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "TZNAME:CEST",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"UID:{event['id']}@sessions-marketplace",
        "DTSTAMP:20300502T083015Z",
        f"CREATED:{stamp(event['created_at'])}",
        f"LAST-MODIFIED:{stamp(event['updated_at'])}",
        "SEQUENCE:1",
        "DTSTART;TZID=Europe/Paris:20300701T180000",
        "DTEND;TZID=Europe/Paris:20300701T200000",
        "SUMMARY:Été à Paris\\, l’atelier",
        f"DESCRIPTION:{description}",
        *([f"LOCATION:{ONLINE}"] if online else []),
        f"URL:{page}",
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    # The long DESCRIPTION is folded as the answer folds it (tests/unit/test_calendars.py checks the folding).
    return "".join(fold(line) + "\r\n" for line in lines)


def test_anyone_downloads_the_event_without_its_online_link(api, event):
    reply = ics(api, event["id"])
    assert reply.status == 200
    assert (reply.headers["content-type"], reply.headers["content-disposition"]) == (
        "text/calendar; charset=utf-8",
        'attachment; filename="ete-a-paris-latelier.ics"',
    )
    assert reply.headers["cache-control"] == "public, max-age=0, s-maxage=5"  # the same for every anonymous reader
    assert reply.raw.decode() == expected(event, online=False)
    parsed = icalendar.Calendar.from_ical(reply.raw.decode()).walk("VEVENT")[0]
    assert ONLINE not in reply.raw.decode() and "LOCATION" not in parsed
    # Like every path of the API, it answers with a trailing slash too.
    assert api.get(f"/api/events/{event['id']}/calendar.ics/").raw == reply.raw


def test_a_signed_in_reader_without_a_seat_gets_no_online_link(api, event, users):
    (token,) = users(1)
    reply = ics(api, event["id"], token)
    assert (reply.status, reply.raw.decode()) == (200, expected(event, online=False))
    assert reply.headers["cache-control"] == "private, no-store"


def test_the_seat_holder_the_creator_and_staff_get_the_online_link(api, event, users, creator_token, staff_token):
    (holder,) = users(1)
    booked = api.post(f"/api/events/{event['id']}/bookings/", token=holder)
    assert (booked.status, booked.json["status"]) == (201, "confirmed")
    for token in (holder, creator_token, staff_token):
        reply = ics(api, event["id"], token)
        assert (reply.status, reply.raw.decode()) == (200, expected(event, online=True))
        assert reply.headers["cache-control"] == "private, no-store"
    parsed = icalendar.Calendar.from_ical(ics(api, event["id"], holder).raw.decode()).walk("VEVENT")[0]
    assert str(parsed["LOCATION"]) == ONLINE
    assert str(parsed["DESCRIPTION"]).endswith(f"\n\nJoin online: {ONLINE}")


def test_a_cancelled_booking_no_longer_gets_the_online_link(api, event, users):
    (holder,) = users(1)
    booking = api.post(f"/api/events/{event['id']}/bookings/", token=holder).json
    assert api.post(f"/api/bookings/{booking['id']}/cancel/", token=holder).status == 200
    assert ics(api, event["id"], holder).raw.decode() == expected(event, online=False)


def test_a_draft_is_not_found_except_by_its_creator_and_staff(api, creator_token, staff_token, users):
    draft = api.post("/api/events/", {**EVENT, "status": "draft"}, token=creator_token).json
    (other,) = users(1)
    for token in (None, other):
        reply = ics(api, draft["id"], token)
        assert (reply.status, reply.json) == (404, {"detail": "Not found."})
    for token in (creator_token, staff_token):
        assert ics(api, draft["id"], token).status == 200


def test_unknown_and_malformed_ids_are_not_found(api):
    for event_id in ("01J9ZQ4X8M6W2N0B7C5D3E1F0A", "nope"):
        reply = ics(api, event_id)
        assert (reply.status, reply.json) == (404, {"detail": "Not found."})


def test_an_event_without_a_start_time_is_a_conflict(api, creator_token):
    unscheduled = api.post("/api/events/", {"title": "Soon", "description": "D"}, token=creator_token).json
    reply = ics(api, unscheduled["id"])
    assert (reply.status, reply.json) == (
        409,
        {
            "detail": "This event has no start time yet, so it cannot be added to a calendar.",
            "code": "event_not_scheduled",
        },
    )


def test_a_cancelled_event_is_published_as_cancelled_with_its_new_sequence(api, event, creator_token):
    assert api.patch(f"/api/events/{event['id']}/", {"status": "cancelled"}, token=creator_token).status == 200
    parsed = icalendar.Calendar.from_ical(ics(api, event["id"]).raw.decode()).walk("VEVENT")[0]
    assert (str(parsed["STATUS"]), parsed["SEQUENCE"]) == ("CANCELLED", 2)


def test_an_invalid_token_is_refused_not_ignored(api, event):
    reply = ics(api, event["id"], "not-a-token")
    assert (reply.status, reply.json["code"]) == (401, "token_not_valid")
