"""An event page's "Add to calendar": Google Calendar's link, exactly, and the .ics file, for a visitor and for a
seat holder (whose copies carry the online link)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote_plus

import icalendar
import requests
from playwright.sync_api import Page, expect

from tests.browser.webapp.conftest import signed_in

ONLINE = "https://meet.example/room-42"
EVENT = {
    "description": "Bring a laptop; we pair.",
    "starts_at": "2030-06-01T16:30:00Z",
    "ends_at": "2030-06-01T19:00:00Z",
    "timezone": "Europe/Paris",
    "location": "Main hall, 2nd floor",
    "online_url": ONLINE,
}


def form_encoded(pairs: list[tuple[str, str]]) -> str:
    """As URLSearchParams writes a query (WHATWG's form encoding: space as +, `*` kept, `~` escaped)."""
    return "&".join(f"{quote_plus(k, safe='*')}={quote_plus(v, safe='*')}" for k, v in pairs).replace("~", "%7E")


def google_href(event: dict, page_url: str, online: bool) -> str:
    details = f"Bring a laptop; we pair.\n\nEvent page: {page_url}"
    if online:
        details += f"\n\nJoin online: {ONLINE}"
    query = form_encoded(
        [
            ("action", "TEMPLATE"),
            ("text", event["title"]),
            ("dates", "20300601T163000Z/20300601T190000Z"),
            ("details", details),
            ("location", "Main hall, 2nd floor"),
            ("ctz", "Europe/Paris"),
        ]
    )
    return f"https://calendar.google.com/calendar/render?{query}"


def calendar_part(page: Page):
    return page.get_by_role("region", name="Add to calendar")


def downloaded_event(page: Page) -> tuple[str, icalendar.Event]:
    """Click the .ics link; the saved file's name and its one VEVENT."""
    with page.expect_download() as download:
        calendar_part(page).get_by_role("link", name="Download the .ics file").click()
    saved = download.value
    (vevent,) = icalendar.Calendar.from_ical(Path(saved.path()).read_text(encoding="utf-8")).walk("VEVENT")
    return saved.suggested_filename, vevent


def test_a_visitor_gets_the_google_link_and_the_public_ics_file(page, site, base_url, axe):
    event = site.create_event(**EVENT, title=site.unique("Calendar visit"))
    page.goto(f"/events/{event['id']}")
    part = calendar_part(page)
    expect(part.get_by_role("heading", level=2)).to_have_text("Add to calendar")
    google = part.get_by_role("link", name="Add to Google Calendar (opens in a new tab)")
    expect(google).to_have_attribute("href", google_href(event, f"{base_url}/events/{event['id']}", online=False))
    expect(google).to_have_attribute("target", "_blank")
    ics = part.get_by_role("link", name="Download the .ics file")
    expect(ics).to_have_attribute("href", f"{site.api}/api/events/{event['id']}/calendar.ics")
    answer = requests.get(ics.get_attribute("href"), timeout=10)
    assert (answer.status_code, answer.headers["Content-Type"]) == (200, "text/calendar; charset=utf-8")
    assert f"UID:{event['id']}@sessions-marketplace\r\n" in answer.text and ONLINE not in answer.text
    expect(part.get_by_text("Your copy includes the link to join online.")).to_have_count(0)
    axe(page)

    name, vevent = downloaded_event(page)
    slug = event["title"].lower().replace(" ", "-")
    assert (name, str(vevent["UID"]), str(vevent["LOCATION"])) == (
        f"{slug}.ics",
        f"{event['id']}@sessions-marketplace",
        "Main hall, 2nd floor",
    )
    assert ONLINE not in str(vevent["DESCRIPTION"])


def test_a_seat_holders_links_carry_the_online_link(page, site, base_url):
    event = site.create_event(**EVENT, title=site.unique("Calendar seat"))
    holder = site.new_user()
    site.book(holder, event["id"])
    signed_in(page.context, holder)
    page.goto(f"/events/{event['id']}")
    part = calendar_part(page)
    expect(part.get_by_text("Your copy includes the link to join online.")).to_be_visible()
    expect(part.get_by_role("link", name="Add to Google Calendar (opens in a new tab)")).to_have_attribute(
        "href", google_href(event, f"{base_url}/events/{event['id']}", online=True)
    )
    # The file is fetched with the holder's token and saved from memory.
    name, vevent = downloaded_event(page)
    assert name == f"{event['title'].lower().replace(' ', '-')}.ics"
    assert str(vevent["DESCRIPTION"]).endswith(f"\n\nJoin online: {ONLINE}")


def test_an_event_without_a_start_time_offers_no_calendar(page, site):
    event = site.create_event(title=site.unique("Calendar later"), starts_at=None)
    page.goto(f"/events/{event['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(event["title"])
    expect(page.get_by_role("heading", name="Your place")).to_be_visible()
    expect(page.get_by_role("heading", name="Add to calendar")).to_have_count(0)
