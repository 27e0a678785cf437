"""Finding events: the header's search box, category chips and filters kept in the URL (reload and the back button
bring the same list back), empty results that say what to change, and the event form's category, tags, city and
online. Events a test must tell apart carry a word of their own (a random hex word), so other tests' events never
show up in its searches."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page, Route, expect

from tests.browser.webapp.conftest import Site, signed_in


def main(page: Page):
    return page.get_by_role("main")


def titles(page: Page):
    """The list's event titles, in order (the cards' headings)."""
    return main(page).locator(".cards").get_by_role("heading", level=2)


def word() -> str:
    """A search word no other event has (letters first: the tokenizer reads letters and digits as one word)."""
    return f"w{uuid.uuid4().hex[:11]}"


def event_with(site: Site, title: str, days: int, **fields: Any) -> dict[str, Any]:
    """An event of creator_user's starting `days` from now: the list's order (soonest first) is known."""
    starts = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    return site.create_event(title=title, starts_at=starts.isoformat(), **fields)


def test_the_header_search_finds_the_demo_event_about_dynamodb(page, axe):
    page.goto("/signin")
    search = page.get_by_role("search", name="Events")
    search.get_by_label("Search events").fill("dynamo")
    search.get_by_label("Search events").press("Enter")
    expect(page).to_have_url(re.compile(r"/\?q=dynamo$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Events matching “dynamo”")
    expect(titles(page).filter(has_text="Data modelling for DynamoDB")).to_have_count(1)
    expect(search.get_by_label("Search events")).to_have_value("dynamo")
    # On the list, a new search keeps the list's other filters: the chip chosen stays chosen.
    technology = page.get_by_role("navigation", name="Categories").get_by_role("link", name="Technology")
    technology.click()
    expect(page).to_have_url(re.compile(r"/\?q=dynamo&category=technology$"))
    expect(technology).to_have_attribute("aria-current", "true")
    expect(titles(page).filter(has_text="Data modelling for DynamoDB")).to_have_count(1)
    search.get_by_label("Search events").fill("modelling")
    search.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/\?q=modelling&category=technology$"))
    expect(titles(page).filter(has_text="Data modelling for DynamoDB")).to_have_count(1)
    axe(page)


def test_a_chip_and_the_filters_narrow_the_list_in_its_url_through_reload_and_back(page, site, axe):
    key = word()
    concert = event_with(site, f"Concert {key}", 10, category="music", price="0")
    gig = event_with(site, f"Gig {key}", 11, category="music", price="20.00")
    talk = event_with(site, f"Talk {key}", 12, category="technology", price="0")
    page.goto(f"/?q={key}")
    expect(titles(page)).to_have_text([concert["title"], gig["title"], talk["title"]])

    chips = page.get_by_role("navigation", name="Categories")
    chips.get_by_role("link", name="Music").click()
    expect(page).to_have_url(re.compile(rf"/\?q={key}&category=music$"))
    expect(titles(page)).to_have_text([concert["title"], gig["title"]])
    expect(chips.get_by_role("link", name="Music")).to_have_attribute("aria-current", "true")

    filters = page.get_by_role("form", name="Filter events")
    filters.get_by_label("Price").select_option(label="Free")
    filters.get_by_label("When").select_option(label="Any time")
    filters.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(rf"/\?q={key}&category=music&free=true&upcoming=false$"))
    expect(titles(page)).to_have_text([concert["title"]])

    page.reload()  # the URL alone gives the same list and the same filters
    expect(titles(page)).to_have_text([concert["title"]])
    expect(filters.get_by_label("Price")).to_have_value("true")
    expect(filters.get_by_label("When")).to_have_value("any")
    expect(chips.get_by_role("link", name="Music")).to_have_attribute("aria-current", "true")
    axe(page)

    page.go_back()
    expect(titles(page)).to_have_text([concert["title"], gig["title"]])
    expect(filters.get_by_label("Price")).to_have_value("")
    page.go_back()
    expect(titles(page)).to_have_text([concert["title"], gig["title"], talk["title"]])
    expect(chips.get_by_role("link", name="All categories")).to_have_attribute("aria-current", "true")


def test_short_search_pages_are_topped_up_then_more_events_is_offered(page, site):
    # A search page may hold fewer events than a page, even none, while `next` is set (the API reads a bounded
    # part of its index per page): the list asks again by itself, at most 3 more times per action. The API's
    # answers are played here, so that the pages are exactly this short.
    template = site.create_event()
    pages = {  # cursor: (titles on that page, the next cursor)
        "": ([], "c1"),
        "c1": (["Short one"], "c2"),
        "c2": ([], "c3"),
        "c3": (["Short two"], "c4"),
        "c4": (["Short three"], "c5"),
        "c5": ([], None),
    }
    asked: list[tuple[str, str]] = []

    def answer(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        cursor = query.get("cursor", [""])[0]
        asked.append((query["q"][0], cursor))
        titles_here, following = pages[cursor]
        results = [{**template, "title": title} for title in titles_here]
        next_url = f"{site.api}/api/events/?q=short&upcoming=true&cursor={following}" if following else None
        route.fulfill(json={"results": results, "next": next_url}, headers={"Access-Control-Allow-Origin": "*"})

    page.route(re.compile(r".*/api/events/\?.*"), answer)
    page.goto("/?q=short")
    expect(titles(page)).to_have_text(["Short one", "Short two"])
    expect(main(page).get_by_text("2 events shown, more to come.")).to_be_visible()
    assert asked == [("short", ""), ("short", "c1"), ("short", "c2"), ("short", "c3")]
    main(page).get_by_role("button", name="More events").click()
    expect(titles(page)).to_have_text(["Short one", "Short two", "Short three"])
    expect(main(page).get_by_role("link", name="Short three")).to_be_focused()
    expect(main(page).get_by_text("3 events shown.")).to_be_visible()
    expect(main(page).get_by_role("button", name="More events")).to_be_hidden()
    assert asked[4:] == [("short", "c4"), ("short", "c5")]


def test_an_empty_search_says_what_was_searched_and_how_to_widen_it(page, axe):
    key = word()
    page.goto(f"/?q={key}&category=music")
    expect(main(page).get_by_text(f"No upcoming events matching “{key}” in Music.")).to_be_visible()
    expect(titles(page)).to_have_count(0)
    axe(page)
    main(page).get_by_role("link", name="Remove the category").click()
    expect(page).to_have_url(re.compile(rf"/\?q={key}$"))
    expect(main(page).get_by_text(f"No upcoming events matching “{key}”.")).to_be_visible()
    main(page).get_by_role("link", name="Clear the search").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")
    # A search with no word the API can look for is said on the page, with the way out.
    page.goto("/?q=ab")
    expect(main(page).get_by_role("alert")).to_contain_text(
        "Search for words of at least 3 letters or digits (very common words are left out)."
    )
    main(page).get_by_role("link", name="Clear the search").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming events")


def test_the_event_form_saves_category_tags_city_and_online_and_the_event_links_its_tags(page, site, axe):
    tag = word()
    title = site.unique("Jazz night")
    signed_in(page.context, site.account("creator_user"))
    page.goto("/dashboard/events/new")
    form = page.get_by_role("form", name="New event")
    form.get_by_label("Title").fill(title)
    form.get_by_label("Description").fill("Standards and a jam.")
    form.get_by_label("Time zone").fill("UTC")
    form.get_by_label("Starts").fill("2031-03-01T20:00")
    form.get_by_label("Category").select_option(label="Music")
    form.get_by_label("Tags").fill("one, two, three, four, five, six")
    form.get_by_label("Location").fill("Hall 3, Porto")
    form.get_by_role("button", name="Publish").click()
    expect(form.get_by_label("Tags")).to_have_attribute("aria-invalid", "true")
    expect(form.locator("[data-field=tags] .field-error")).to_contain_text("at most 5 tags")
    axe(page)

    form.get_by_label("Tags").fill(f"Late Night, {tag}")
    form.get_by_role("button", name="Publish").click()
    expect(main(page).get_by_text(f"“{title}” is published.")).to_be_visible()
    created = next(e for e in site.creator_events() if e["title"] == title)
    assert (created["category"], created["tags"], created["city"], created["online"]) == (
        "music",
        ["late-night", tag],
        "Porto",  # left empty: from the location
        False,
    )

    page.goto(f"/dashboard/events/{created['id']}/edit")
    form = page.get_by_role("form", name="Edit event")
    expect(form.get_by_label("Tags")).to_have_value(f"late-night, {tag}")
    expect(form.get_by_label("Category")).to_have_value("music")
    form.get_by_label("City").fill("Gaia")
    form.get_by_label("Takes place online").check()
    form.get_by_role("button", name="Save changes").click()
    expect(main(page).get_by_text(f"“{title}” is saved.")).to_be_visible()
    saved = site.event(created["id"])
    assert (saved["category"], saved["tags"], saved["city"], saved["online"]) == (
        "music",
        ["late-night", tag],
        "Gaia",
        True,
    )

    page.goto(f"/events/{created['id']}")
    facts = main(page).locator(".facts")
    expect(facts.get_by_role("link", name="Music")).to_have_attribute("href", "/?category=music")
    expect(facts.get_by_text("Hall 3, Porto, and online")).to_be_visible()
    expect(facts.get_by_text("Gaia", exact=True)).to_be_visible()
    facts.get_by_role("link", name=tag).click()
    expect(page).to_have_url(re.compile(rf"/\?tag={tag}$"))
    expect(titles(page)).to_have_text([title])
