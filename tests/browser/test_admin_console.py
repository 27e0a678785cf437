"""The staff console at /admin/ in Chromium, against the local stack: staff manage users and events and see
each action in the audit log; other accounts are refused; every page passes axe-core."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Dialog, Page, Route, expect

from chalicelib.ids import new_id
from tests.browser.console_pages import TOKEN_STORE as STORE
from tests.browser.console_pages import sign_in
from tests.support.stack import bearer, token

# Long enough that no username of the form `promoted_<8 random characters>` can be "too similar" to it.
PASSWORD = "vivid-otter-92-lamp-quartz-jelly"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Cast:
    """Accounts and an event made for one test through the API (the stack is shared by the session)."""

    promoted: dict
    leaving: dict
    event: dict
    booking: dict


def _register(base: str, username: str) -> dict:
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    reply = requests.post(f"{base}/api/register/", json=body, timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()


@pytest.fixture
def cast(stack) -> Cast:
    base = stack.url
    tag = new_id()[-8:].lower()
    promoted, leaving = _register(base, f"promoted_{tag}"), _register(base, f"leaving_{tag}")
    event = requests.post(
        f"{base}/api/events/",
        json={"title": f"Console event {tag}", "description": "To be edited from the console.", "capacity": 5},
        headers=bearer(token(base, "creator_user")),
        timeout=10,
    ).json()
    booking = requests.post(
        f"{base}/api/events/{event['id']}/bookings/",
        headers=bearer(token(base, leaving["username"], PASSWORD)),
        timeout=10,
    ).json()
    return Cast(promoted=promoted, leaving=leaving, event=event, booking=booking)


@pytest.fixture
def confirmed(page: Page) -> Iterator[list[str]]:
    """Accept every confirmation the console asks for, recording its message."""
    messages: list[str] = []

    def accept(dialog: Dialog) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    yield messages


def find_user(page: Page, username: str) -> None:
    search = page.get_by_role("search", name="Find users")
    search.get_by_label("Search").fill(username)
    search.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("row")).to_have_count(2)  # the headings and the one user
    expect(page.get_by_role("rowheader", name=username)).to_be_visible()


def log_row(page: Page, action: str, object_id: str, changes: str):
    row = page.get_by_role("row").filter(has_text=action).filter(has_text=object_id).filter(has_text=changes)
    return expect(row).to_have_count(1)


def test_staff_manage_users_and_events_and_see_each_action_in_the_log(page, stack, cast, confirmed, axe):
    sign_in(page, "admin")
    expect(page.get_by_role("heading", name="Users")).to_be_focused()
    expect(page.get_by_role("status")).to_have_text("Signed in as admin.")
    # Tokens are in this tab's sessionStorage, never in a cookie.
    assert page.context.cookies() == []
    assert "access" in page.evaluate(f"JSON.parse(sessionStorage.getItem('{STORE}'))")
    axe(page)

    promoted, leaving = cast.promoted["username"], cast.leaving["username"]
    find_user(page, promoted)
    page.get_by_label(f"Role of {promoted}").select_option("CREATOR")
    expect(page.get_by_role("status")).to_have_text(f"{promoted}: role set to CREATOR.")
    find_user(page, leaving)
    page.get_by_label(f"{leaving} is active").uncheck()
    expect(page.get_by_role("status")).to_have_text(f"{leaving}: active set to false.")
    refused = requests.post(f"{stack.url}/api/token/", json={"username": leaving, "password": PASSWORD}, timeout=10)
    assert refused.status_code == 401

    page.get_by_role("link", name="Events").click()
    expect(page.get_by_role("heading", name="Events")).to_be_focused()
    title = cast.event["title"]
    page.get_by_role("button", name=f'Edit "{title}"').click()
    editor = page.get_by_role("region", name="Selected event")
    expect(editor.get_by_role("heading", name=f'Edit "{title}"')).to_be_focused()
    axe(page)
    editor.get_by_label("Title").fill(f"{title}, renamed")
    editor.get_by_label("Capacity").fill("8")
    editor.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text(f'Event "{title}, renamed" saved.')
    page.get_by_role("button", name=f'Cancel "{title}, renamed"').click()
    expect(page.get_by_role("status")).to_have_text(f'Event "{title}, renamed" cancelled.')
    assert confirmed == [
        f"Change {promoted}'s role from User to Creator?",
        f"Deactivate {leaving}? They can no longer sign in, and a session they have open ends within 5 minutes.",
        f'Cancel "{title}, renamed"? Its bookings are cancelled and paid ones refunded in full.',
    ]
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=f"{title}, renamed"))
    expect(row.get_by_role("cell").nth(1)).to_have_text("cancelled")

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_focused()
    log_row(page, "user.update", cast.promoted["id"], "role: USER → CREATOR")
    log_row(page, "user.update", cast.leaving["id"], "is_active: true → false")
    log_row(page, "event.update", cast.event["id"], f"title: {title} → {title}, renamed")
    log_row(page, "event.update", cast.event["id"], "capacity: 5 → 8")
    log_row(page, "event.cancel", cast.event["id"], "status: published → cancelled")
    axe(page)

    # The log filters by object.
    filters = page.get_by_role("search", name="Filter the log")
    filters.get_by_label("Object id").fill(cast.leaving["id"])
    filters.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("row")).to_have_count(2)


def test_staff_see_an_events_bookings_and_cancel_one(page, cast, confirmed, axe):
    sign_in(page, "admin")
    page.get_by_role("link", name="Events").click()
    title = cast.event["title"]
    page.get_by_role("button", name=f'Bookings of "{title}"').click()
    bookings = page.get_by_role("table", name=f'Bookings of "{title}"')
    leaving = cast.leaving["username"]
    expect(bookings.get_by_role("rowheader", name=leaving)).to_be_visible()
    axe(page)
    # A free booking: nothing to refund, so no Refund button.
    expect(bookings.get_by_role("button", name=f"Refund {leaving}'s booking")).to_have_count(0)
    bookings.get_by_role("button", name=f"Cancel {leaving}'s booking").click()
    expect(page.get_by_role("status")).to_have_text(f"{leaving}'s booking cancelled.")
    expect(bookings.get_by_role("cell", name="cancelled (by staff)")).to_be_visible()
    page.get_by_role("link", name="Audit log").click()
    log_row(page, "booking.cancel", cast.booking["id"], "status: confirmed → cancelled")


def test_staff_refund_a_paid_booking_in_full(page, stack, confirmed, axe):
    base = stack.url
    tag = new_id()[-8:].lower()
    payer = _register(base, f"payer_{tag}")["username"]
    event = requests.post(
        f"{base}/api/events/",
        json={"title": f"Paid console event {tag}", "description": "Paid.", "price": "25.00", "currency": "USD"},
        headers=bearer(token(base, "creator_user")),
        timeout=10,
    ).json()
    access = token(base, payer, PASSWORD)
    held = requests.post(f"{base}/api/events/{event['id']}/bookings/", headers=bearer(access), timeout=10).json()
    paid = requests.post(held["checkout_url"], data={"action": "pay"}, allow_redirects=False, timeout=10)
    assert paid.status_code == 303, paid.text

    sign_in(page, "admin")
    page.get_by_role("link", name="Events").click()
    title = event["title"]
    page.get_by_role("button", name=f'Bookings of "{title}"').click()
    bookings = page.get_by_role("table", name=f'Bookings of "{title}"')
    row = bookings.get_by_role("row").filter(has=page.get_by_role("rowheader", name=payer))
    expect(row.get_by_role("cell", name="paid", exact=True)).to_be_visible()
    axe(page)
    row.get_by_role("button", name=f"Refund {payer}'s booking").click()
    expect(page.get_by_role("status")).to_have_text(f"{payer}'s booking cancelled, refunded in full.")
    assert confirmed == [f'Cancel {payer}\'s booking for "{title}" and refund the payment in full?']
    expect(row.get_by_role("cell", name="cancelled (by staff)")).to_be_visible()
    expect(row.get_by_role("cell", name="refund succeeded")).to_be_visible()
    expect(row.get_by_role("button")).to_have_count(0)
    page.get_by_role("link", name="Audit log").click()
    log_row(page, "booking.refund", held["id"], "status: confirmed → cancelled")


def test_filters_pages_and_adding_a_user(page, stack, axe):
    tag = new_id()[-8:].lower()
    for i in range(3):
        _register(stack.url, f"paged_{tag}_{i}")
    sign_in(page, "admin")
    search = page.get_by_role("search", name="Find users")
    search.get_by_label("Search").fill(f"paged_{tag}")
    search.get_by_label("Role", exact=True).select_option("USER")
    search.get_by_label("Active").select_option("true")
    search.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("rowheader")).to_have_count(3)

    page.get_by_text("Add a user").click()
    form = page.locator("details form")
    form.get_by_label("Username").fill(f"added_{tag}")
    form.get_by_label("Password").fill("password")
    form.get_by_role("button", name="Create user").click()
    expect(form.get_by_text("This password is too common.")).to_be_visible()
    axe(page)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_label("Staff").check()
    form.get_by_role("button", name="Create user").click()
    expect(page.get_by_role("status")).to_have_text(f"User added_{tag} created.")
    find_user(page, f"added_{tag}")
    expect(page.get_by_label(f"added_{tag} is staff")).to_be_checked()


def test_a_non_staff_account_is_told_the_console_is_for_staff_and_gets_nothing(page, axe):
    sign_in(page, "user")
    expect(page.get_by_role("alert")).to_have_text(
        "This account is not a staff account: the console is for staff only."
    )
    expect(page.get_by_role("navigation", name="Console")).to_be_hidden()
    assert page.evaluate(f"sessionStorage.getItem('{STORE}')") is None
    axe(page)
    sign_in(page, "user", "wrong password")
    expect(page.get_by_role("alert")).to_have_text("No active account found with the given credentials")


def test_a_slow_page_never_replaces_the_page_asked_for_after_it(page, cast):
    # The users list (drawn after sign-in) answers only after the staff member has moved on to Events.
    held: list[Route] = []
    users_list = "**/api/admin/users/?*"
    page.route(users_list, lambda route: held.append(route))
    with page.expect_request(users_list):
        sign_in(page, "admin")
    page.get_by_role("link", name="Events").click()
    expect(page.get_by_role("heading", name="Events")).to_be_visible()
    with page.expect_response(users_list):
        held[0].continue_()
    page.wait_for_timeout(300)  # the late answer's turn to be drawn, were it drawn (not a speed target)
    expect(page.get_by_role("heading", name="Events")).to_be_visible()
    expect(page.get_by_role("button", name=f'Bookings of "{cast.event["title"]}"')).to_be_visible()


def test_signing_out_revokes_the_refresh_token_and_forgets_the_tokens(page, stack):
    sign_in(page, "admin")
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    refresh = page.evaluate(f"JSON.parse(sessionStorage.getItem('{STORE}')).refresh")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to the staff console")).to_be_visible()
    assert page.evaluate(f"sessionStorage.getItem('{STORE}')") is None
    reused = requests.post(f"{stack.url}/api/token/refresh/", json={"refresh": refresh}, timeout=10)
    assert (reused.status_code, reused.json()) == (
        401,
        {"detail": "Token is blacklisted", "code": "token_not_valid"},
    )


def test_without_javascript_the_page_says_it_needs_it(new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/admin/")
    expect(page.get_by_text("The staff console needs JavaScript.")).to_be_visible()
    expect(page.get_by_role("link", name="/api/docs/")).to_have_attribute("href", "/api/docs/")


def test_the_first_staff_account_made_with_manage_py_signs_in(page, stack):
    username = f"root_{new_id()[-8:].lower()}"
    env = {
        **stack.environment(),
        "DJANGO_SUPERUSER_USERNAME": username,
        "DJANGO_SUPERUSER_EMAIL": f"{username}@example.com",
        "DJANGO_SUPERUSER_PASSWORD": PASSWORD,
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Superuser created successfully: {username} (")
    sign_in(page, username, PASSWORD)
    expect(page.get_by_role("heading", name="Users")).to_be_focused()
    expect(page.get_by_role("status")).to_have_text(f"Signed in as {username}.")


# Issue 22, item 8: the console on a phone, filters by username, confirmations, and its session.

PHONE = {"viewport": {"width": 390, "height": 844}}
# One word of 200 characters, as some people type titles.
LONG_WORD = "Supercalifragilistic" * 10


def assert_fits_a_phone(page: Page, where: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert page.evaluate("window.innerWidth") == 390
    assert width <= 390, f"the console's {where} is {width} px wide on a 390 px screen"


def test_the_console_fits_a_phone_whatever_the_words(new_context, stack, axe):
    base = stack.url
    tag = new_id()[-8:].lower()
    username = f"long_{tag}_{'n' * 130}"
    body = {"username": username, "email": f"{'m' * 60}@{'d' * 60}.example.com", "password": PASSWORD}
    assert requests.post(f"{base}/api/register/", json=body, timeout=10).status_code == 201
    title = f"Long{tag}{LONG_WORD}"[:200]
    event = requests.post(
        f"{base}/api/events/",
        json={"title": title, "description": LONG_WORD, "location": LONG_WORD, "capacity": 5},
        headers=bearer(token(base, "creator_user")),
        timeout=10,
    ).json()
    requests.post(
        f"{base}/api/events/{event['id']}/bookings/", headers=bearer(token(base, username, PASSWORD)), timeout=10
    )
    # A staff edit: the log then holds the long title, before and after.
    admin = bearer(token(base, "admin"))
    renamed = requests.patch(
        f"{base}/api/events/{event['id']}/", json={"title": f"{title}2"}, headers=admin, timeout=10
    )
    assert renamed.status_code == 200, renamed.text

    page = new_context(**PHONE).new_page()
    sign_in(page, "admin")
    expect(page.get_by_role("heading", name="Users")).to_be_focused()
    assert_fits_a_phone(page, "users page")
    find_user(page, username)
    assert_fits_a_phone(page, "users page with a long username")
    axe(page)

    page.get_by_role("link", name="Events").click()
    expect(page.get_by_role("rowheader", name=f"{title}2")).to_be_visible()
    assert_fits_a_phone(page, "events page")
    axe(page)
    page.get_by_role("button", name=f'Edit "{title}2"').click()
    expect(page.get_by_role("heading", name=f'Edit "{title}2"')).to_be_focused()
    assert_fits_a_phone(page, "event editor")
    page.get_by_role("button", name=f'Bookings of "{title}2"').click()
    expect(page.get_by_role("table", name=f'Bookings of "{title}2"').get_by_role("rowheader")).to_have_text(username)
    assert_fits_a_phone(page, "bookings of an event")

    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("row").filter(has_text=f"title: {title} → {title}2")).to_have_count(1)
    assert_fits_a_phone(page, "audit log")
    axe(page)


def test_an_events_bookings_write_nothing_for_a_settlement_it_does_not_have(page, cast):
    sign_in(page, "admin")
    page.get_by_role("link", name="Events").click()
    title = cast.event["title"]
    page.get_by_role("button", name=f'Bookings of "{title}"').click()
    detail = page.get_by_role("region", name="Selected event")
    expect(detail.get_by_role("table", name=f'Bookings of "{title}"')).to_be_visible()
    # The heading and the table, and no "null" between them where a live event has no settlement to report.
    assert detail.evaluate("d => [...d.childNodes].map((n) => n.nodeName)") == ["H2", "TABLE"]
    expect(detail.get_by_text("null")).to_have_count(0)


def test_events_are_filtered_by_their_creators_username(page, cast, axe):
    sign_in(page, "admin")
    page.get_by_role("link", name="Events").click()
    filters = page.get_by_role("search", name="Find events")
    with page.expect_response(lambda r: "/api/admin/events/?" in r.url and "creator=" in r.url) as asked:
        filters.get_by_label("Creator").fill("CREATOR_USER")  # whatever its case
        filters.get_by_role("button", name="Apply").click()
    assert f"creator={cast.event['creator']}" in asked.value.url  # the API is asked by id
    expect(filters.get_by_label("Creator")).to_have_value("CREATOR_USER")
    expect(page.get_by_role("rowheader", name=cast.event["title"])).to_be_visible()
    creators = page.get_by_role("table", name="Events").locator("tbody tr td:nth-child(2)")
    assert set(creators.all_inner_texts()) == {"creator_user"}
    axe(page)

    # Someone with no events, and no one at all.
    filters.get_by_label("Creator").fill(cast.leaving["username"])
    filters.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No event matches.")).to_be_visible()
    expect(filters.get_by_label("Creator")).to_have_value(cast.leaving["username"])
    filters.get_by_label("Creator").fill("nobody_by_that_name")
    filters.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_have_text("No user named nobody_by_that_name.")
    expect(page.get_by_role("table")).to_have_count(0)
    expect(filters.get_by_label("Creator")).to_have_value("nobody_by_that_name")


def test_the_log_is_filtered_by_the_actors_username(page, stack, cast):
    base = stack.url
    admin = bearer(token(base, "admin"))
    patched = requests.patch(
        f"{base}/api/admin/users/{cast.promoted['id']}/", json={"role": "CREATOR"}, headers=admin, timeout=10
    )
    assert patched.status_code == 200, patched.text
    sign_in(page, "admin")
    page.get_by_role("link", name="Audit log").click()
    filters = page.get_by_role("search", name="Filter the log")
    with page.expect_response(lambda r: "/api/admin/log/?" in r.url and "actor=" in r.url) as asked:
        filters.get_by_label("Actor").fill("Admin")  # whatever its case
        filters.get_by_role("button", name="Apply").click()
    admin_id = requests.get(f"{base}/api/me/", headers=admin, timeout=10).json()["id"]
    assert f"actor={admin_id}" in asked.value.url  # the API is asked by id
    expect(filters.get_by_label("Actor")).to_have_value("Admin")
    log_row(page, "user.update", cast.promoted["id"], "role: USER → CREATOR")
    who = page.get_by_role("table", name="Audit log, newest first").locator("tbody tr td:nth-child(2)")
    assert set(who.all_inner_texts()) == {"admin"}
    # An account that never acted as staff, then no account at all.
    filters.get_by_label("Actor").fill(cast.leaving["username"])
    filters.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No entries.")).to_be_visible()
    filters.get_by_label("Actor").fill("nobody_by_that_name")
    filters.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_have_text("No user named nobody_by_that_name.")


def test_a_users_role_staff_and_active_flags_change_only_once_confirmed(page, stack, cast):
    base = stack.url
    answers: list[bool] = []
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if answers.pop(0):
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", answer)
    sign_in(page, "admin")
    name = cast.promoted["username"]
    find_user(page, name)
    admin = bearer(token(base, "admin"))

    def stored() -> dict:
        return requests.get(f"{base}/api/admin/users/{cast.promoted['id']}/", headers=admin, timeout=10).json()

    # Declined: nothing sent, the control shows the account as it is.
    answers.append(False)
    page.get_by_label(f"Role of {name}").select_option("CREATOR")
    expect(page.get_by_role("status")).to_have_text(f"{name}: nothing changed.")
    expect(page.get_by_label(f"Role of {name}")).to_have_value("USER")
    answers.append(False)
    page.get_by_label(f"{name} is staff").click()  # not check(): the box does not stay checked
    expect(page.get_by_label(f"{name} is staff")).not_to_be_checked()
    answers.append(False)
    page.get_by_label(f"{name} is active").click()
    expect(page.get_by_label(f"{name} is active")).to_be_checked()
    assert (stored()["role"], stored()["is_staff"], stored()["is_active"]) == ("USER", False, True)

    # Confirmed: made, and said.
    answers.extend([True, True, True, True])
    page.get_by_label(f"Role of {name}").select_option("CREATOR")
    expect(page.get_by_role("status")).to_have_text(f"{name}: role set to CREATOR.")
    page.get_by_label(f"{name} is staff").check()
    expect(page.get_by_role("status")).to_have_text(f"{name}: staff set to true.")
    page.get_by_label(f"{name} is staff").uncheck()
    expect(page.get_by_role("status")).to_have_text(f"{name}: staff set to false.")
    page.get_by_label(f"{name} is active").uncheck()
    expect(page.get_by_role("status")).to_have_text(f"{name}: active set to false.")
    assert (stored()["role"], stored()["is_staff"], stored()["is_active"]) == ("CREATOR", False, False)
    answers.append(True)
    page.get_by_label(f"{name} is active").check()
    expect(page.get_by_role("status")).to_have_text(f"{name}: active set to true.")
    assert asked == [
        f"Change {name}'s role from User to Creator?",
        f"Make {name} staff? Staff can use this console and change every account, event and booking.",
        f"Deactivate {name}? They can no longer sign in, and a session they have open ends within 5 minutes.",
        f"Change {name}'s role from User to Creator?",
        f"Make {name} staff? Staff can use this console and change every account, event and booking.",
        f"Remove {name}'s staff status? They can no longer use this console.",
        f"Deactivate {name}? They can no longer sign in, and a session they have open ends within 5 minutes.",
        f"Reactivate {name}? They can sign in again.",
    ]


def _open_with(page: Page, tokens: dict, path: str) -> None:
    """Open the console at `path` with `tokens` in its storage, as an earlier sign-in in this tab left them."""
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Sign in to the staff console")).to_be_visible()
    page.evaluate("([key, value]) => sessionStorage.setItem(key, value)", [STORE, json.dumps(tokens)])
    page.goto(path)  # only the hash changes: the page is the same until it loads again
    page.reload()


def test_a_refused_access_token_is_refreshed_once_silently(page, stack):
    tokens = requests.post(
        f"{stack.url}/api/token/", json={"username": "admin", "password": "password"}, timeout=10
    ).json()
    refreshes: list[str] = []
    page.on("request", lambda r: refreshes.append(r.url) if r.url.endswith("/api/token/refresh/") else None)
    _open_with(
        page, {"access": "not-a-token-any-more", "refresh": tokens["refresh"], "username": "admin"}, "/admin/#events"
    )
    expect(page.get_by_role("heading", name="Events")).to_be_focused()
    expect(page.get_by_role("alert")).to_have_text("")
    assert len(refreshes) == 1
    stored = json.loads(page.evaluate(f"sessionStorage.getItem('{STORE}')"))
    assert stored["access"] != "not-a-token-any-more"
    # The refreshed token is the one used from now on: no second refresh.
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log")).to_be_focused()
    assert len(refreshes) == 1


def test_a_session_that_cannot_be_renewed_asks_to_sign_in_and_returns_to_its_page(page, stack):
    tokens = requests.post(
        f"{stack.url}/api/token/", json={"username": "admin", "password": "password"}, timeout=10
    ).json()
    revoked = requests.post(f"{stack.url}/api/token/blacklist/", json={"refresh": tokens["refresh"]}, timeout=10)
    assert revoked.status_code == 200, revoked.text
    _open_with(
        page, {"access": "not-a-token-any-more", "refresh": tokens["refresh"], "username": "admin"}, "/admin/#log"
    )
    expect(page.get_by_role("heading", name="Sign in to the staff console")).to_be_focused()
    expect(page.get_by_role("status")).to_have_text("Your session has ended. Please sign in again.")
    assert page.evaluate(f"sessionStorage.getItem('{STORE}')") is None
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("heading", name="Audit log")).to_be_focused()
    expect(page.get_by_role("status")).to_have_text("Signed in as admin.")
    expect(page).to_have_url(re.compile(r"/admin/#log$"))


def test_moving_to_another_page_clears_the_last_pages_message(page, cast, confirmed):
    sign_in(page, "admin")
    find_user(page, cast.promoted["username"])
    page.get_by_label(f"Role of {cast.promoted['username']}").select_option("CREATOR")
    expect(page.get_by_role("status")).to_have_text(f"{cast.promoted['username']}: role set to CREATOR.")
    # Another search: what was said about the last list is not about this one.
    find_user(page, cast.leaving["username"])
    expect(page.get_by_role("status")).to_have_text("")
    page.get_by_role("link", name="Events").click()
    filters = page.get_by_role("search", name="Find events")
    filters.get_by_label("Creator").fill("nobody_by_that_name")
    filters.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_have_text("No user named nobody_by_that_name.")
    page.go_back()  # to the users, by the browser's own button
    expect(page.get_by_role("heading", name="Users")).to_be_focused()
    expect(page.get_by_role("alert")).to_have_text("")


def test_only_a_refused_token_is_refreshed_any_other_401_ends_the_session(page, stack):
    tokens = requests.post(
        f"{stack.url}/api/token/", json={"username": "admin", "password": "password"}, timeout=10
    ).json()
    refreshes: list[str] = []
    page.on("request", lambda r: refreshes.append(r.url) if r.url.endswith("/api/token/refresh/") else None)
    # The account was deactivated: the API refuses it as inactive, which no refresh can mend.
    inactive = {"detail": "User is inactive", "code": "user_inactive"}
    page.route("**/api/admin/users/?*", lambda route: route.fulfill(status=401, json=inactive))
    _open_with(page, {**tokens, "username": "admin"}, "/admin/#users")
    expect(page.get_by_role("heading", name="Sign in to the staff console")).to_be_focused()
    expect(page.get_by_role("status")).to_have_text("Your session has ended. Please sign in again.")
    assert refreshes == []
