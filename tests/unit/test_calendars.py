"""Events as iCalendar text (services/calendars.py), read back with the icalendar parser from PyPI."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import icalendar
import pytest

from chalicelib.domain.enums import BookingStatus, EventStatus, Role
from chalicelib.domain.events import Event
from chalicelib.errors import Conflict, NotFound
from chalicelib.services import calendars
from chalicelib.services.calendars import CalendarEntry, event_calendar, feed_calendar
from tests.support.factories import principal

NOW = datetime(2030, 5, 2, 8, 30, 15, 123456, tzinfo=UTC)
EVENT_ID = "01J9ZQ4X8M6W2N0B7C5D3E1F0A"
PAGE = f"https://sessions.example/events/{EVENT_ID}"
ONLINE = "https://meet.example/room-42"
SUMMER = Event(
    id=EVENT_ID,
    title="Advanced Django",
    description="Deep dive into Django internals",
    creator="01J9ZQ4X8M6W2N0B7C5D3E1F0C",
    creator_username="creator_user",
    created_at=datetime(2030, 4, 1, 9, 0, tzinfo=UTC),
    updated_at=datetime(2030, 4, 2, 10, 0, tzinfo=UTC),
    starts_at=datetime(2030, 7, 1, 16, 0, tzinfo=UTC),  # 18:00 in Paris (CEST, +02:00)
    ends_at=datetime(2030, 7, 1, 18, 0, tzinfo=UTC),
    timezone="Europe/Paris",
    location="Main hall",
    online_url=ONLINE,
    version=4,
)
WINTER = replace(
    SUMMER,
    starts_at=datetime(2030, 1, 15, 17, 0, tzinfo=UTC),  # 18:00 in Paris (CET, +01:00)
    ends_at=datetime(2030, 1, 15, 19, 0, tzinfo=UTC),
)


def entry(event: Event = SUMMER, online_url: str | None = None) -> CalendarEntry:
    return CalendarEntry(event=event, page_url=PAGE, online_url=online_url)


def parse(text: str) -> icalendar.Calendar:
    calendar = icalendar.Calendar.from_ical(text)
    assert calendar.errors == [] and all(c.errors == [] for c in calendar.walk())
    return calendar


def only_event(text: str) -> icalendar.Event:
    (event,) = parse(text).walk("VEVENT")
    return event


def placed(text: str, name: str) -> datetime:
    """A DTSTART or DTEND as UTC, its local time read with the calendar's own VTIMEZONE (not the parser's
    zoneinfo, which would hide a wrong VTIMEZONE)."""
    calendar = parse(text)
    (zone,) = calendar.walk("VTIMEZONE")
    local = calendar.walk("VEVENT")[0][name].dt.replace(tzinfo=None)
    return local.replace(tzinfo=zone.to_tz(lookup_tzid=False)).astimezone(UTC)


def observances(text: str) -> list[tuple[str, datetime, timedelta, timedelta, str]]:
    (zone,) = parse(text).walk("VTIMEZONE")
    return [
        (sub.name, sub["DTSTART"].dt, sub["TZOFFSETFROM"].td, sub["TZOFFSETTO"].td, str(sub["TZNAME"]))
        for sub in zone.subcomponents
    ]


def test_one_event_in_its_own_zone_exactly():
    assert event_calendar(entry(), now=NOW) == (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//Sessions Marketplace//Calendar 1.0//EN\r\n"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:PUBLISH\r\n"
        "BEGIN:VTIMEZONE\r\n"
        "TZID:Europe/Paris\r\n"
        "BEGIN:DAYLIGHT\r\n"
        "DTSTART:20300331T020000\r\n"
        "TZOFFSETFROM:+0100\r\n"
        "TZOFFSETTO:+0200\r\n"
        "TZNAME:CEST\r\n"
        "END:DAYLIGHT\r\n"
        "END:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\n"
        f"UID:{EVENT_ID}@sessions-marketplace\r\n"
        "DTSTAMP:20300502T083015Z\r\n"
        "CREATED:20300401T090000Z\r\n"
        "LAST-MODIFIED:20300402T100000Z\r\n"
        "SEQUENCE:4\r\n"
        "DTSTART;TZID=Europe/Paris:20300701T180000\r\n"
        "DTEND;TZID=Europe/Paris:20300701T200000\r\n"
        "SUMMARY:Advanced Django\r\n"
        "DESCRIPTION:Deep dive into Django internals\\n\\nEvent page: https://sessions\r\n"
        " .example/events/01J9ZQ4X8M6W2N0B7C5D3E1F0A\r\n"
        "LOCATION:Main hall\r\n"
        f"URL:{PAGE}\r\n"
        "STATUS:CONFIRMED\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )


def test_the_parser_reads_the_uid_sequence_stamp_and_times_in_the_zone():
    event = only_event(event_calendar(entry(), now=NOW))
    assert (str(event["UID"]), event["SEQUENCE"], event["DTSTAMP"].dt) == (
        f"{EVENT_ID}@sessions-marketplace",
        4,
        datetime(2030, 5, 2, 8, 30, 15, tzinfo=UTC),
    )
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert (event["DTSTART"].dt.isoformat(), event["DTEND"].dt.isoformat()) == (
        "2030-07-01T18:00:00+02:00",
        "2030-07-01T20:00:00+02:00",
    )
    assert (str(event["URL"]), str(event["STATUS"])) == (PAGE, "CONFIRMED")


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (SUMMER, [("DAYLIGHT", datetime(2030, 3, 31, 2), timedelta(hours=1), timedelta(hours=2), "CEST")]),
        (WINTER, [("STANDARD", datetime(2029, 10, 28, 3), timedelta(hours=2), timedelta(hours=1), "CET")]),
    ],
)
def test_the_vtimezone_holds_the_offset_in_effect_summer_and_winter(event, expected):
    text = event_calendar(entry(event), now=NOW)
    assert observances(text) == expected
    assert (placed(text, "DTSTART"), placed(text, "DTEND")) == (event.starts_at, event.ends_at)


def test_an_event_across_the_change_of_offset_has_both_observances():
    # Saturday 26 October 2030 19:00 CEST to Monday 28 October 09:00 CET: the clocks go back on the Sunday.
    spanning = replace(
        SUMMER, starts_at=datetime(2030, 10, 26, 17, tzinfo=UTC), ends_at=datetime(2030, 10, 28, 8, tzinfo=UTC)
    )
    text = event_calendar(entry(spanning), now=NOW)
    assert observances(text) == [
        ("DAYLIGHT", datetime(2030, 3, 31, 2), timedelta(hours=1), timedelta(hours=2), "CEST"),
        ("STANDARD", datetime(2030, 10, 27, 3), timedelta(hours=2), timedelta(hours=1), "CET"),
    ]
    event = only_event(text)
    assert (event["DTSTART"].to_ical(), event["DTEND"].to_ical()) == (b"20301026T190000", b"20301028T090000")
    assert (placed(text, "DTSTART"), placed(text, "DTEND")) == (spanning.starts_at, spanning.ends_at)


def test_a_zone_without_daylight_saving_time_is_one_offset_from_the_year_before():
    tokyo = replace(SUMMER, timezone="Asia/Tokyo")
    text = event_calendar(entry(tokyo), now=NOW)
    # 2029-01-01 00:00 UTC, in Tokyo's time.
    assert observances(text) == [("STANDARD", datetime(2029, 1, 1, 9), timedelta(hours=9), timedelta(hours=9), "JST")]
    assert only_event(text)["DTSTART"].to_ical() == b"20300702T010000"
    assert placed(text, "DTSTART") == tokyo.starts_at


def test_a_utc_event_uses_the_z_form_and_no_vtimezone():
    text = event_calendar(entry(replace(SUMMER, timezone="UTC")), now=NOW)
    assert "BEGIN:VTIMEZONE" not in text and "TZID" not in text
    assert "\r\nDTSTART:20300701T160000Z\r\nDTEND:20300701T180000Z\r\n" in text
    event = only_event(text)
    assert (event["DTSTART"].dt, event["DTEND"].dt) == (SUMMER.starts_at, SUMMER.ends_at)


def test_an_event_without_an_end_lasts_an_hour():
    text = event_calendar(entry(replace(SUMMER, ends_at=None)), now=NOW)
    assert "\r\nDTEND;TZID=Europe/Paris:20300701T190000\r\n" in text and "DURATION" not in text
    assert only_event(text)["DTEND"].dt.isoformat() == "2030-07-01T19:00:00+02:00"


def test_a_long_non_ascii_title_is_escaped_and_folded_at_75_octets_between_characters():
    title = "Atelier d’été : «Ça va, l’œuvre; à Paris» — un très long titre \\ pour plier ✨🎉 les lignes"
    text = event_calendar(entry(replace(SUMMER, title=title, description="Line one\r\nLine two\nend")), now=NOW)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")[:-1]
    assert max(len(line.encode()) for line in lines) == 75
    summary = [i for i, line in enumerate(lines) if line.startswith("SUMMARY:")][0]
    assert lines[summary : summary + 3] == [
        "SUMMARY:Atelier d’été : «Ça va\\, l’œuvre\\; à Paris» — un très",
        "  long titre \\\\ pour plier ✨🎉 les lignes",
        "DESCRIPTION:Line one\\nLine two\\nend\\n\\nEvent page: https://sessions.example",
    ]
    assert [len(line.encode()) for line in lines[summary : summary + 3]] == [75, 45, 75]
    event = only_event(text)
    assert (str(event["SUMMARY"]), str(event["DESCRIPTION"])) == (
        title,
        f"Line one\nLine two\nend\n\nEvent page: {PAGE}",
    )


def test_fold_never_splits_a_character_and_counts_the_leading_space():
    line = "X:" + "é" * 80  # 2 + 160 octets
    folded = calendars.fold(line)
    parts = folded.split("\r\n")
    assert [len(p.encode()) for p in parts] == [74, 75, 15]  # 2 + 36 * 2, then " " + 37 * 2, then the rest
    assert "".join(p.removeprefix(" ") for p in parts) == line
    assert calendars.fold("A" * 75) == "A" * 75
    assert calendars.fold("A" * 76) == "A" * 75 + "\r\n A"


def test_controls_are_dropped_from_text():
    assert calendars.escape_text("a\x00b\tc\x1bd\x7f") == "ab\tcd"


def test_the_online_link_is_in_the_description_and_the_location_only_when_given():
    without = only_event(event_calendar(entry(), now=NOW))
    assert ONLINE not in str(without["DESCRIPTION"]) and str(without["LOCATION"]) == "Main hall"
    holder = only_event(event_calendar(entry(online_url=ONLINE), now=NOW))
    assert str(holder["DESCRIPTION"]) == (
        f"Deep dive into Django internals\n\nEvent page: {PAGE}\n\nJoin online: {ONLINE}"
    )
    assert str(holder["LOCATION"]) == "Main hall"
    online_only = only_event(event_calendar(entry(replace(SUMMER, location=""), online_url=ONLINE), now=NOW))
    assert str(online_only["LOCATION"]) == ONLINE
    nowhere = only_event(event_calendar(entry(replace(SUMMER, location="")), now=NOW))
    assert "LOCATION" not in nowhere


def test_a_cancelled_event_says_so():
    cancelled = only_event(event_calendar(entry(replace(SUMMER, status=EventStatus.CANCELLED, version=5)), now=NOW))
    assert (str(cancelled["STATUS"]), cancelled["SEQUENCE"]) == ("CANCELLED", 5)


def test_an_event_without_a_start_cannot_be_put_in_a_calendar():
    with pytest.raises(calendars.NotScheduled) as caught:
        event_calendar(entry(replace(SUMMER, starts_at=None, ends_at=None)), now=NOW)
    assert isinstance(caught.value, Conflict)
    assert (caught.value.code, caught.value.detail) == (
        "event_not_scheduled",
        "This event has no start time yet, so it cannot be added to a calendar.",
    )


def test_in_a_feed_an_older_observance_of_a_zone_that_changed_its_rules_is_not_taken_for_a_later_one():
    # Europe/Moscow kept summer time (+04) all year from March 2011, then moved to +03 on 26 October 2014. An
    # event of 2011 lists its change to +04; one of 2017 (no change since 2016) must still read +03.
    moscow = replace(SUMMER, timezone="Europe/Moscow")
    old = replace(moscow, starts_at=datetime(2011, 7, 1, 15, tzinfo=UTC), ends_at=None)
    later = replace(
        moscow, id="01J9ZQ4X8M6W2N0B7C5D3E1F0B", starts_at=datetime(2017, 7, 1, 15, tzinfo=UTC), ends_at=None
    )
    text = feed_calendar([entry(old), entry(later)], name="Moscow", now=NOW)
    assert observances(text) == [
        ("STANDARD", datetime(2011, 3, 27, 2), timedelta(hours=3), timedelta(hours=4), "MSK"),
        ("STANDARD", datetime(2016, 1, 1, 3), timedelta(hours=3), timedelta(hours=3), "MSK"),
    ]
    calendar = parse(text)
    (zone,) = calendar.walk("VTIMEZONE")
    tz = zone.to_tz(lookup_tzid=False)
    starts = [e["DTSTART"].dt.replace(tzinfo=None).replace(tzinfo=tz).astimezone(UTC) for e in calendar.walk("VEVENT")]
    assert starts == [old.starts_at, later.starts_at]


def test_a_feed_has_one_vevent_per_scheduled_entry_and_one_vtimezone_per_zone():
    other = replace(WINTER, id="01J9ZQ4X8M6W2N0B7C5D3E1F0B", title="Winter")
    unscheduled = replace(SUMMER, id="01J9ZQ4X8M6W2N0B7C5D3E1F0D", starts_at=None, ends_at=None)
    in_utc = replace(SUMMER, id="01J9ZQ4X8M6W2N0B7C5D3E1F0E", timezone="UTC")
    text = feed_calendar(
        [entry(), entry(other, ONLINE), entry(unscheduled), entry(in_utc)], name="My sessions, booked", now=NOW
    )
    calendar = parse(text)
    assert (str(calendar["METHOD"]), str(calendar["VERSION"])) == ("PUBLISH", "2.0")
    # Both names are TEXT (escaped), though the parser gives them back as written.
    assert "\r\nNAME:My sessions\\, booked\r\nX-WR-CALNAME:My sessions\\, booked\r\n" in text
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == [
        f"{EVENT_ID}@sessions-marketplace",
        "01J9ZQ4X8M6W2N0B7C5D3E1F0B@sessions-marketplace",
        "01J9ZQ4X8M6W2N0B7C5D3E1F0E@sessions-marketplace",
    ]
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert observances(text) == [
        ("STANDARD", datetime(2029, 10, 28, 3), timedelta(hours=2), timedelta(hours=1), "CET"),
        ("DAYLIGHT", datetime(2030, 3, 31, 2), timedelta(hours=1), timedelta(hours=2), "CEST"),
    ]
    assert ONLINE in str(calendar.walk("VEVENT")[1]["DESCRIPTION"])


def test_an_empty_feed_is_still_a_calendar():
    text = feed_calendar([], name="Nothing yet", now=NOW)
    assert parse(text).walk("VEVENT") == [] and text.startswith("BEGIN:VCALENDAR\r\n")


@pytest.mark.parametrize(
    ("starts_at", "timezone", "dtstart"),
    [
        (datetime(9999, 12, 31, 23, 30, tzinfo=UTC), "Europe/Paris", b"99991231T233000Z"),
        (datetime(1, 1, 1, 0, 30, tzinfo=UTC), "America/New_York", b"00010101T003000Z"),
    ],
)
def test_times_a_zone_would_carry_off_the_calendar_are_written_in_utc(starts_at, timezone, dtstart):
    text = event_calendar(entry(replace(SUMMER, starts_at=starts_at, ends_at=None, timezone=timezone)), now=NOW)
    assert "VTIMEZONE" not in text and f"\r\nDTSTART:{dtstart.decode()}\r\n" in text


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Advanced Django", "advanced-django.ics"),
        ("  Été à Paris: l’œuvre #2!  ", "ete-a-paris-luvre-2.ics"),
        ("日本語", "event.ics"),
        ("a" * 70, "a" * 60 + ".ics"),
    ],
)
def test_the_file_is_named_after_the_title(title, name):
    assert calendars.file_name(replace(SUMMER, title=title)) == name


class Store:
    """An event store holding one event and the reader's seat, as get_with_seat reads them."""

    def __init__(self, event: Event, seat: BookingStatus | None = None) -> None:
        self.event, self.seat = event, seat

    def get(self, event_id):
        return self.event if event_id == self.event.id else None

    def get_with_seat(self, event_id, user_id):
        return self.get(event_id), self.seat


CREATOR = principal(Role.CREATOR, user_id=SUMMER.creator)


@pytest.mark.parametrize(
    ("viewer", "seat", "online"),
    [
        (None, None, None),
        (principal(), None, None),
        (principal(), BookingStatus.WAITLISTED, None),
        (principal(), BookingStatus.PENDING_PAYMENT, None),
        (principal(), BookingStatus.CONFIRMED, ONLINE),
        (CREATOR, None, ONLINE),
        (principal(staff=True), None, ONLINE),
    ],
)
def test_the_online_link_goes_to_seat_holders_and_those_who_manage_the_event(viewer, seat, online):
    found = calendars.calendar_entry(Store(SUMMER, seat), EVENT_ID, viewer, web_app_url="https://sessions.example")
    assert found == CalendarEntry(event=replace(SUMMER, online_url=online), page_url=PAGE, online_url=online)


def test_a_draft_or_unknown_event_is_not_found_except_by_those_who_manage_it():
    draft = replace(SUMMER, status=EventStatus.DRAFT)
    for viewer in (None, principal()):
        with pytest.raises(NotFound):
            calendars.calendar_entry(Store(draft), EVENT_ID, viewer, web_app_url="https://sessions.example")
    assert calendars.calendar_entry(Store(draft), EVENT_ID, CREATOR, web_app_url="https://x").event == draft
    for unknown in ("01J9ZQ4X8M6W2N0B7C5D3E1F0Z", "not-an-id"):
        with pytest.raises(NotFound):
            calendars.calendar_entry(Store(SUMMER), unknown, CREATOR, web_app_url="https://x")
