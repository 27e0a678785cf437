"""Events as iCalendar (RFC 5545) text: one event's `.ics`, and a feed of several.

Pure and standard library only (no icalendar at run time): the API's route, the personal feed and the
confirmation e-mail's attachment all render here. Times are written in the event's own zone with a VTIMEZONE
built from zoneinfo, so that a calendar shows the event at its local time even across a change of offset."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.enums import BookingStatus, EventStatus
from chalicelib.errors import Conflict
from chalicelib.services.events import visible_event

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from chalicelib.domain.access import Principal
    from chalicelib.domain.events import Event
    from chalicelib.ports.events import EventRepository

PRODID = "-//Sessions Marketplace//Calendar 1.0//EN"
UID_DOMAIN = "sessions-marketplace"
# An event without an end is shown for an hour: calendars need an end, and Google's link takes the same one.
DEFAULT_LENGTH = timedelta(hours=1)
# How often a subscribed feed should be read again (RFC 7986 REFRESH-INTERVAL; Outlook's X-PUBLISHED-TTL).
FEED_REFRESH = "PT1H"
# Zone names written in UTC's own form (a trailing Z) rather than with a VTIMEZONE.
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"})
LINE_OCTETS = 75
# A zone's changes of offset are looked for a week at a time (see _changes), from the start of the year before
# an event's: a zone whose offset has not changed since then is written as that offset from then on.
CHANGE_SEARCH_STEP = timedelta(days=7)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class NotScheduled(Conflict):
    """An event without a start time cannot be put in a calendar (409)."""

    def __init__(self) -> None:
        super().__init__(
            "This event has no start time yet, so it cannot be added to a calendar.", "event_not_scheduled"
        )


@dataclass(frozen=True)
class CalendarEntry:
    """An event as one reader may put it in a calendar: `online_url` only when they hold a seat or manage it."""

    event: Event
    page_url: str
    online_url: str | None


def event_page_url(web_app_url: str, event_id: str) -> str:
    """The web app's page of an event (web/app/routes.js: "/events/:id")."""
    return f"{web_app_url}/events/{event_id}"


def calendar_entry(
    events: EventRepository, event_id: str, viewer: Principal | None, *, web_app_url: str
) -> CalendarEntry:
    """The entry `viewer` may download: a draft only for those who manage it (else NotFound), the online link
    only for a confirmed seat's holder and those who manage the event, whatever the price."""
    event, seat = visible_event(events, event_id, viewer)
    online = event.online_url if seat is BookingStatus.CONFIRMED or event.managed_by(viewer) else None
    # The entry's event carries no more than the reader may see, whoever renders it.
    shown = replace(event, online_url=online, settlement=None)
    return CalendarEntry(event=shown, page_url=event_page_url(web_app_url, event.id), online_url=online)


def file_name(event: Event) -> str:
    """`<slug>.ics`: the title in lower-case ASCII words joined by hyphens (`event.ics` when none is left)."""
    ascii_title = unicodedata.normalize("NFKD", event.title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].rstrip("-")
    return f"{slug or 'event'}.ics"


def event_calendar(entry: CalendarEntry, *, now: datetime) -> str:
    """A VCALENDAR (METHOD:PUBLISH) with the entry's one VEVENT; NotScheduled when the event has no start."""
    if entry.event.starts_at is None:
        raise NotScheduled()
    return _calendar([entry], now=now, extra=())


def feed_calendar(entries: Sequence[CalendarEntry], *, name: str, now: datetime) -> str:
    """A VCALENDAR named `name` with one VEVENT per scheduled entry (events without a start are left out)."""
    scheduled = [entry for entry in entries if entry.event.starts_at is not None]
    extra = (
        f"NAME:{escape_text(name)}",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:{FEED_REFRESH}",
        f"X-PUBLISHED-TTL:{FEED_REFRESH}",
    )
    return _calendar(scheduled, now=now, extra=extra)


def _calendar(entries: Sequence[CalendarEntry], *, now: datetime, extra: Iterable[str]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH", *extra]
    zones: dict[str, set[_Observance]] = {}
    placed = [(entry, _zone(entry.event)) for entry in entries]
    for entry, zone in placed:
        if zone is not None:
            zones.setdefault(zone.key, set()).update(_observance(zone.key, instant) for instant in _span(entry.event))
    for tzid in sorted(zones):
        lines += _vtimezone(tzid, zones[tzid])
    for entry, zone in placed:
        lines += _vevent(entry, zone, now)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _span(event: Event) -> tuple[datetime, datetime]:
    assert event.starts_at is not None
    start = event.starts_at.astimezone(UTC)
    if event.ends_at is not None:
        return start, event.ends_at.astimezone(UTC)
    try:
        return start, start + DEFAULT_LENGTH
    except OverflowError:  # an event at the very end of year 9999 ends with it
        return start, datetime.max.replace(tzinfo=UTC)


def _vevent(entry: CalendarEntry, zone: ZoneInfo | None, now: datetime) -> list[str]:
    event = entry.event
    start, end = _span(event)
    description = "\n\n".join(
        part
        for part in (
            event.description,
            f"Event page: {entry.page_url}",
            f"Join online: {entry.online_url}" if entry.online_url else "",
        )
        if part
    )
    location = event.location or entry.online_url or ""
    cancelled = event.status is EventStatus.CANCELLED
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.id}@{UID_DOMAIN}",
        f"DTSTAMP:{_utc(now)}",
        f"CREATED:{_utc(event.created_at)}",
        f"LAST-MODIFIED:{_utc(event.updated_at)}",
        f"SEQUENCE:{event.version}",
        _timed("DTSTART", start, zone),
        _timed("DTEND", end, zone),
        f"SUMMARY:{escape_text(event.title)}",
        f"DESCRIPTION:{escape_text(description)}",
    ]
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    lines += [f"URL:{_uri(entry.page_url)}", f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}", "END:VEVENT"]
    return lines


def _zone(event: Event) -> ZoneInfo | None:
    """The event's zone, or None when its times are written in UTC: UTC itself, a name zoneinfo lacks, or times
    at the ends of the calendar (years 1 and 9999) that the zone's offset would carry out of it."""
    if event.timezone in UTC_NAMES:
        return None
    try:
        zone = ZoneInfo(event.timezone)
        for instant in _span(event):
            instant.astimezone(zone)
            _observance(zone.key, instant)
    except (ZoneInfoNotFoundError, ValueError, OverflowError):
        return None
    return zone


def _utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return f"{_local(aware.astimezone(UTC))}Z"


def _local(moment: datetime) -> str:
    # Not strftime: glibc's %Y does not pad years before 1000 to four digits.
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}T{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"
    )


def _timed(name: str, instant: datetime, zone: ZoneInfo | None) -> str:
    if zone is None:
        return f"{name}:{_utc(instant)}"
    return f"{name};TZID={zone.key}:{_local(instant.astimezone(zone))}"


@dataclass(frozen=True, order=True)
class _Observance:
    """One STANDARD or DAYLIGHT sub-component: the offset that began at `onset` (local time before it)."""

    onset: str
    offset_from: timedelta
    offset_to: timedelta
    name: str
    daylight: bool


def _state(zone: ZoneInfo, instant: datetime) -> tuple[timedelta, timedelta, str]:
    local = instant.astimezone(zone)
    return local.utcoffset() or timedelta(0), local.dst() or timedelta(0), local.tzname() or ""


def _observance(tzid: str, instant: datetime) -> _Observance:
    """The observance in effect at `instant`: since the last change of offset in its year or the year before,
    or, when there was none (a zone without daylight saving time), since the start of the year before. Not a
    fixed date such as 1970: in a feed, another event's older observance of a zone that has since changed its
    rules must not be taken for this one's."""
    zone = ZoneInfo(tzid)
    offset, dst, name = _state(zone, instant)
    daylight = dst > timedelta(0)
    changes = [*_changes(tzid, instant.year - 1), *_changes(tzid, instant.year)]
    onset = next((change for change in reversed(changes) if change <= instant), None)
    if onset is None:
        since = datetime(max(instant.year - 1, 1), 1, 1, tzinfo=UTC) + offset
        return _Observance(_local(since.replace(tzinfo=None)), offset, offset, name, daylight)
    before = _state(zone, onset - timedelta(seconds=1))[0]
    # The onset is written in the local time of the offset it ends (RFC 5545 3.6.5: TZOFFSETFROM's).
    return _Observance(_local((onset + before).replace(tzinfo=None)), before, offset, name, daylight)


@lru_cache(maxsize=512)  # a handful of zones and years, and a feed is read again and again
def _changes(tzid: str, year: int) -> tuple[datetime, ...]:
    """The first UTC second of each offset (or zone abbreviation) that began in `year`, in order. Sampled a week
    apart, then halved down to the second: no zone has kept an offset for less than a week since 1970."""
    if not 1 <= year < datetime.max.year:
        return ()
    zone = ZoneInfo(tzid)
    found = []
    later, stop = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    while later < stop:
        earlier, later = later, min(later + CHANGE_SEARCH_STEP, stop)
        if _state(zone, earlier) != _state(zone, later):
            low, high = earlier, later
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low) // timedelta(seconds=2))
                if _state(zone, middle) == _state(zone, high):
                    high = middle
                else:
                    low = middle
            found.append(high)
    return tuple(found)


def _vtimezone(tzid: str, observances: set[_Observance]) -> list[str]:
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    for observance in sorted(observances):
        kind = "DAYLIGHT" if observance.daylight else "STANDARD"
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{observance.onset}",
            f"TZOFFSETFROM:{_offset(observance.offset_from)}",
            f"TZOFFSETTO:{_offset(observance.offset_to)}",
        ]
        if observance.name:
            lines.append(f"TZNAME:{escape_text(observance.name)}")
        lines.append(f"END:{kind}")
    lines.append("END:VTIMEZONE")
    return lines


def _offset(offset: timedelta) -> str:
    total = int(offset.total_seconds())
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    # Seconds only when there are some (the zones' local mean times before 1900 have them).
    return f"{'-' if total < 0 else '+'}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and line breaks escaped, other controls
    dropped (a TEXT value may hold none)."""
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _uri(value: str) -> str:
    # A URI value is not escaped, but no line break or control may reach the content line.
    return _CONTROL.sub("", value.replace("\r", "").replace("\n", ""))


def fold(line: str) -> str:
    """A content line folded to at most 75 octets a line (RFC 5545 3.1), never inside a UTF-8 character; the
    continuation lines begin with a space, which counts."""
    parts: list[str] = []
    current: list[str] = []
    size, limit = 0, LINE_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1  # the leading space takes one octet
        current.append(char)
        size += octets
    parts.append("".join(current))
    return "\r\n ".join(parts)
