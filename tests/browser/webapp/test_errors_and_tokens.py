"""How the pages handle the API's refusals: DRF field errors beside their fields, a token the API no longer
accepts (refreshed once, silently, whichever answer the refresh endpoint gives), a session that cannot be
renewed, and 429/503 saying when to retry."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, Request, Route, expect

from tests.browser.webapp.conftest import PASSWORD, SESSION_KEY, signed_in


def main(page: Page):
    return page.get_by_role("main")


def field_error(page: Page, label: str):
    """The error text tied to a field (its aria-describedby), as a screen reader would reach it."""
    ids = page.get_by_label(label).get_attribute("aria-describedby").split()
    return page.locator(f"#{ids[-1]}")


def stored_session(page: Page) -> dict | None:
    return json.loads(page.evaluate(f"localStorage.getItem({json.dumps(SESSION_KEY)})") or "null")


def test_field_errors_from_the_api_appear_next_to_their_fields(page, axe):
    page.goto("/signup")
    page.get_by_label("Username").fill("user")  # taken, like the e-mail below
    page.get_by_label("E-mail").fill("user@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(field_error(page, "Username")).to_have_text("A user with that username already exists.")
    expect(field_error(page, "E-mail")).to_have_text("A user with that email already exists.")
    expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Password")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Username")).to_be_focused()
    expect(page.get_by_role("alert")).to_have_text("Please correct the errors below.")
    axe(page)

    page.get_by_label("Username").fill("someone_new_here")
    page.get_by_label("E-mail").fill("someone_new_here@example.com")
    page.get_by_label("Password").fill("12345678")
    page.get_by_role("button", name="Create account").click()
    expect(field_error(page, "Password")).to_have_text(
        "This password is too common. This password is entirely numeric."
    )
    # The earlier errors are gone once the fields are accepted.
    expect(field_error(page, "Username")).to_be_hidden()
    expect(page.get_by_label("Username")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Password")).to_be_focused()


@pytest.mark.parametrize("rotation", [False, True], ids=["access-only", "rotated-refresh"])
def test_a_rejected_access_token_is_refreshed_once_silently(page, site, rotation):
    visitor = site.new_user()
    signed_in(page.context, visitor, access="not-a-token-any-more")
    refreshes: list[dict] = []
    fresh = site.account(visitor.username, PASSWORD)

    def refresh(route: Route, request: Request) -> None:
        if request.method != "POST":
            route.fallback()
            return
        refreshes.append(request.post_data_json)
        if rotation:
            # The API rotates refresh tokens (the default): {"access", "refresh"}.
            body = {"access": fresh.access, "refresh": "the-rotated-refresh-token"}
        else:
            # A stage with ROTATE_REFRESH_TOKENS=false answers the access token alone.
            body = {"access": fresh.access}
        route.fulfill(status=200, json=body, headers={"Access-Control-Allow-Origin": "*"})

    page.route(f"{site.api}/api/token/refresh/", refresh)
    page.goto("/bookings")
    expect(page.get_by_role("heading", level=1, name="My bookings")).to_be_visible()
    expect(main(page).get_by_text("You have no bookings yet.")).to_be_visible()
    assert refreshes == [{"refresh": visitor.refresh}]
    stored = stored_session(page)
    assert stored["access"] not in ("not-a-token-any-more", None)
    assert stored["refresh"] == ("the-rotated-refresh-token" if rotation else visitor.refresh)
    assert stored["user"]["username"] == visitor.username


def test_a_session_that_cannot_be_renewed_asks_to_sign_in_again(page, site):
    visitor = site.new_user()
    signed_in(page.context, visitor, access="expired", refresh="revoked")
    refreshes: list[str] = []
    page.on("request", lambda r: refreshes.append(r.method) if r.url.endswith("/api/token/refresh/") else None)
    page.goto("/bookings")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fbookings$"))
    expect(main(page).get_by_text("Your session has ended. Please sign in again.")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    assert [m for m in refreshes if m == "POST"] == ["POST"]
    assert stored_session(page) is None
    # Signing in again goes back to the page that asked.
    page.get_by_label("Username").fill(visitor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1, name="My bookings")).to_be_visible()


# What the API sends on its own answers (what a route fulfilled here must say for the page to read them).
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}


def test_a_503_says_when_to_retry_and_the_button_waits_until_then(page, site):
    event = site.create_event()
    visitor = site.new_user()
    signed_in(page.context, visitor)

    def unavailable(route: Route, request: Request) -> None:
        if request.method != "POST":
            route.fallback()
            return
        route.fulfill(
            status=503,
            json={"detail": "Service temporarily unavailable, try again later."},
            headers={**CORS, "Retry-After": "7"},
        )

    page.route(f"{site.api}/api/events/{event['id']}/bookings/", unavailable)
    page.goto(f"/events/{event['id']}")
    button = page.get_by_role("button", name="Book a seat")
    button.click()
    expect(page.get_by_role("alert")).to_have_text(
        "The service is busy or unavailable right now. Try again in 7 seconds."
    )
    # The button waits as long as the API asked before it sends again.
    expect(button).to_have_attribute("aria-disabled", "true")


def test_a_429_says_when_to_retry(page, site):
    def throttled(route: Route) -> None:
        route.fulfill(
            status=429,
            json={"detail": "Request was throttled. Expected available in 120 seconds."},
            headers={**CORS, "Retry-After": "120"},
        )

    page.route(f"{site.api}/api/token/", throttled)
    page.goto("/signin")
    page.get_by_label("Username").fill("user")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Request was throttled. Expected available in 120 seconds. Try again in about 2 minutes."
    )


def test_a_public_page_stays_readable_when_the_session_ends_on_it(page, site):
    event = site.create_event()
    signed_in(page.context, site.new_user(), access="expired", refresh="revoked")
    page.goto(f"/events/{event['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(event["title"])
    expect(main(page).get_by_role("link", name="Sign in")).to_be_visible()  # to book, as any visitor
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()
    assert stored_session(page) is None


def test_a_public_page_stays_readable_when_its_own_request_ends_the_session(page, site):
    # The other order, made certain: the event's public answer comes before the start-up's check has ended the
    # session, so the page's own request for the visitor's booking is the one the refused refresh answers (a
    # busy run of the test above once saw the page sent to "Sign in" instead).
    event = site.create_event()
    signed_in(page.context, site.new_user(), access="expired", refresh="revoked")
    held: list[Route] = []

    def hold(route: Route, request: Request) -> None:
        if request.method == "POST":
            held.append(route)  # answered below, once the page has asked for the booking
        else:
            route.fallback()

    page.route(f"{site.api}/api/token/refresh/", hold)
    with page.expect_request(lambda r: r.method == "GET" and "/api/me/bookings/" in r.url):
        page.goto(f"/events/{event['id']}")
    assert len(held) == 1  # one refresh for both refusals
    held[0].fallback()  # on to the API, which refuses the revoked token
    expect(page.get_by_role("heading", level=1)).to_have_text(event["title"])
    expect(main(page).get_by_role("link", name="Sign in")).to_be_visible()  # to book, as any visitor
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/events/{event['id']}$"))
    assert stored_session(page) is None
