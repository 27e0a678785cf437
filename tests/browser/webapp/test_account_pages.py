"""The account's pages in Chromium against the local stack: signing out (the refresh token is revoked), the
profile (password change, picture upload), the forgotten password by e-mail, and the staff console's link;
each checked in the page and in the API."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage

import pytest
import requests
from playwright.sync_api import Locator, Page, expect

from devstack.stack import LocalStack
from tests.browser.webapp.conftest import PASSWORD, signed_in
from tests.browser.webapp.test_errors_and_tokens import main, stored_session
from tests.support.images import png

BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
WRONG_CREDENTIALS = {"detail": "No active account found with the given credentials"}
NEW_PASSWORD = "Amber-Lantern-8821"


def nav(page: Page):
    return page.get_by_role("navigation", name="Main")


def new_password(scope: Page | Locator) -> Locator:
    """The first of the two new-password fields (its label is a prefix of the second's)."""
    return scope.get_by_label(re.compile(r"^New password(?!, again)"))


def error_of(control: Locator) -> Locator:
    """The error text tied to a field (the last id of its aria-describedby), as a screen reader reaches it."""
    ids = (control.get_attribute("aria-describedby") or "").split()
    return control.page.locator(f"#{ids[-1]}")


def refresh_answer(api: str, refresh: str) -> tuple[int, dict]:
    reply = requests.post(f"{api}/api/token/refresh/", json={"refresh": refresh}, timeout=10)
    return reply.status_code, reply.json()


def sign_in_answer(api: str, username: str, password: str) -> tuple[int, dict]:
    reply = requests.post(f"{api}/api/token/", json={"username": username, "password": password}, timeout=10)
    return reply.status_code, reply.json()


def mails_to(stack: LocalStack, address: str) -> list[EmailMessage]:
    """The local stack's sent mail (MAIL_DIR, one .eml file each) to `address`, oldest first."""
    folder = stack.data_dir.parent / "mail"
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]
    return [m for m in messages if m["To"] == address]  # type: ignore[misc]


def test_signing_out_revokes_the_refresh_token(page, site):
    visitor = site.new_user()
    signed_in(page.context, visitor)
    page.goto("/bookings")
    expect(nav(page).get_by_text(f"Signed in as {visitor.username}")).to_be_visible()
    blacklisted: list[dict] = []
    page.on("request", lambda r: blacklisted.append(r.post_data_json) if r.url.endswith("/token/blacklist/") else None)

    nav(page).get_by_role("button", name="Sign out").click()
    expect(main(page).get_by_text("You are signed out.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    assert stored_session(page) is None
    assert blacklisted == [{"refresh": visitor.refresh}]
    assert refresh_answer(site.api, visitor.refresh) == (401, BLACKLISTED)


def test_changing_the_password_on_the_profile_page(page, site, axe):
    visitor = site.new_user()
    signed_in(page.context, visitor)
    page.goto("/profile")
    expect(page.get_by_role("heading", level=1, name="Your profile")).to_be_visible()
    axe(page)
    form = page.get_by_role("form", name="Change password")

    form.get_by_label("Current password").fill("not-my-password")
    new_password(form).fill(NEW_PASSWORD)
    form.get_by_label("New password, again").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(error_of(form.get_by_label("Current password"))).to_have_text(
        "Your old password was entered incorrectly. Please enter it again."
    )
    expect(form.get_by_role("alert")).to_have_text("Please correct the errors below.")
    expect(form.get_by_label("Current password")).to_be_focused()
    axe(page)
    assert sign_in_answer(site.api, visitor.username, PASSWORD)[0] == 200  # nothing changed

    form.get_by_label("Current password").fill(PASSWORD)
    new_password(form).fill(NEW_PASSWORD)
    form.get_by_label("New password, again").fill(NEW_PASSWORD)
    form.get_by_role("button", name="Change password").click()
    expect(
        form.get_by_text("Your password is changed. Other devices are signed out; this one stays signed in.")
    ).to_be_visible()
    expect(error_of(form.get_by_label("Current password"))).to_be_hidden()
    expect(form.get_by_label("Current password")).to_have_value("")

    # The old password and the tokens issued with it are refused; this tab holds new ones, which work.
    assert sign_in_answer(site.api, visitor.username, PASSWORD) == (401, WRONG_CREDENTIALS)
    assert sign_in_answer(site.api, visitor.username, NEW_PASSWORD)[0] == 200
    assert refresh_answer(site.api, visitor.refresh) == (401, BLACKLISTED)
    stored = stored_session(page)
    assert stored is not None and stored["refresh"] != visitor.refresh
    assert refresh_answer(site.api, stored["refresh"])[0] == 200
    page.reload()
    expect(page.get_by_role("heading", level=1, name="Your profile")).to_be_visible()
    expect(nav(page).get_by_text(f"Signed in as {visitor.username}")).to_be_visible()


def test_a_forgotten_password_is_reset_from_the_e_mailed_link(page, site, stack, axe):
    visitor = site.new_user()
    address = visitor.user["email"]
    page.goto("/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1, name="Forgot your password?")).to_be_visible()
    axe(page)
    page.get_by_label("E-mail address").fill(address)
    page.get_by_role("button", name="Send the link").click()
    expect(main(page).get_by_text(f"If an account uses {address}, a link to reset its password")).to_have_text(
        f"If an account uses {address}, a link to reset its password is on its way there. The link works once, "
        "for an hour; only the latest one sent works. Nothing arrived? Check the spam folder, or ask again."
    )
    axe(page)

    [message] = mails_to(stack, address)
    assert message["Subject"] == "Password reset on Sessions Marketplace"
    [link] = [line for line in message.get_content().splitlines() if "/reset-password?" in line]
    assert link.startswith(f"{stack.web_url}/reset-password?uid={visitor.user['id']}&token=")
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Reset your password")).to_be_visible()
    axe(page)

    # Typed differently twice: refused here, before anything is sent.
    new_password(page).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD + "x")
    page.get_by_role("button", name="Set the new password").click()
    expect(error_of(page.get_by_label("New password, again"))).to_have_text("The two passwords are not the same.")
    # A password the API's validators refuse: its messages beside the field.
    new_password(page).fill("12345678")
    page.get_by_label("New password, again").fill("12345678")
    page.get_by_role("button", name="Set the new password").click()
    expect(error_of(new_password(page))).to_have_text("This password is too common. This password is entirely numeric.")
    axe(page)

    new_password(page).fill(NEW_PASSWORD)
    page.get_by_label("New password, again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    expect(main(page).get_by_text("Your password has been reset. Sign in with your new password.")).to_be_visible()
    page.get_by_label("Username").fill(visitor.username)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(main(page).get_by_text(f"Welcome, {visitor.username}. You are signed in.")).to_be_visible()
    assert sign_in_answer(site.api, visitor.username, PASSWORD) == (401, WRONG_CREDENTIALS)
    assert refresh_answer(site.api, visitor.refresh) == (401, BLACKLISTED)

    # The link works once.
    page.goto(link)
    new_password(page).fill("Another-Fresh-Word-55")
    page.get_by_label("New password, again").fill("Another-Fresh-Word-55")
    page.get_by_role("button", name="Set the new password").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This link cannot be used: it is incomplete, has already been used, has been replaced by a newer one, or "
        "is more than an hour old. Ask for a new link."
    )
    assert sign_in_answer(site.api, visitor.username, NEW_PASSWORD)[0] == 200


def test_a_picture_uploaded_on_the_profile_page_is_shown(page, site, stack, axe):
    visitor = site.new_user()
    signed_in(page.context, visitor)
    page.goto("/profile")
    expect(main(page).get_by_text("You have no picture yet: people see your username only.")).to_be_visible()
    form = page.get_by_role("form", name="Change picture")
    expect(form.get_by_role("button", name="Remove picture")).to_be_hidden()

    # A file that is not an image is refused before anything is sent.
    form.get_by_label("New picture").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not an image"}]
    )
    form.get_by_role("button", name="Upload picture").click()
    expect(error_of(form.get_by_label("New picture"))).to_have_text(
        "Choose a JPEG, PNG or WebP image: other kinds of file are not accepted."
    )

    form.get_by_label("New picture").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": png(96, 64)}]
    )
    form.get_by_role("button", name="Upload picture").click()
    expect(form.get_by_text("Your new picture is saved.")).to_be_visible()
    expect(error_of(form.get_by_label("New picture"))).to_be_hidden()
    picture = main(page).get_by_role("img", name="Your picture")
    expect(picture).to_be_visible()
    avatar = site.me(visitor)["avatar"]
    assert avatar.startswith(f"{stack.aws_url}/sessions-local-uploads/media/avatars/")
    expect(picture).to_have_attribute("src", avatar)
    # Decoded by the browser (the page's CSP lets it load from the media origin), at its own size.
    assert picture.evaluate("(img) => img.decode().then(() => [img.naturalWidth, img.naturalHeight])") == [96, 64]
    # The navigation shows it too, as decoration beside the username.
    expect(nav(page).locator("img.avatar")).to_have_attribute("src", avatar)
    axe(page)

    form.get_by_role("button", name="Remove picture").click()
    expect(form.get_by_text("Your picture is removed.")).to_be_visible()
    expect(main(page).get_by_text("You have no picture yet: people see your username only.")).to_be_visible()
    expect(nav(page).locator("img")).to_have_count(0)
    assert site.me(visitor)["avatar"] is None


def test_staff_see_a_link_to_the_staff_console_and_others_do_not(new_context, site, stack):
    staff = new_context().new_page()
    signed_in(staff.context, site.account("admin"))
    staff.goto("/")
    link = nav(staff).get_by_role("link", name="Staff console")
    expect(link).to_have_attribute("href", f"{stack.url}/admin/")
    link.click()
    # The console, served by the API on its own origin, has a sign-in of its own.
    expect(staff).to_have_url(f"{stack.url}/admin/")
    expect(staff.get_by_role("heading", level=1, name="Sign in to the staff console")).to_be_visible()

    visitor = new_context().new_page()
    signed_in(visitor.context, site.new_user())
    visitor.goto("/")
    expect(nav(visitor).get_by_role("link", name="My bookings")).to_be_visible()
    expect(nav(visitor).get_by_role("link", name="Staff console")).to_have_count(0)


def test_signing_out_everywhere_revokes_every_session_of_the_account(new_context, site):
    visitor = site.new_user()
    elsewhere = site.account(visitor.username, PASSWORD)  # another device's session
    page = new_context().new_page()
    signed_in(page.context, visitor)
    page.goto("/profile")
    page.get_by_role("form", name="Sign out everywhere").get_by_role("button", name="Sign out everywhere").click()
    expect(main(page).get_by_text("You are signed out on every device.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(nav(page).get_by_role("link", name="Sign in")).to_be_visible()
    assert stored_session(page) is None
    assert refresh_answer(site.api, visitor.refresh) == (401, BLACKLISTED)
    assert refresh_answer(site.api, elsewhere.refresh) == (401, BLACKLISTED)


def test_the_reset_page_without_the_whole_link_says_so(page, axe):
    page.goto("/reset-password?uid=01M8F8S5WMP3E4CMZP5EY7Y4D2")
    expect(page.get_by_role("heading", level=1, name="Reset your password")).to_be_visible()
    expect(
        main(page).get_by_text("This page needs the whole link from the password-reset e-mail: part of it is missing.")
    ).to_be_visible()
    expect(main(page).get_by_role("link", name="Ask for a new link")).to_have_attribute("href", "/forgot-password")
    expect(main(page).get_by_role("button")).to_have_count(0)
    axe(page)


@pytest.mark.parametrize(
    "next_value",
    [
        "/%09/evil.example",
        "/%0a/evil.example",
        "/%0d%0a/evil.example",
        "//evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "/\\/evil.example",
    ],
)
def test_the_sign_in_page_never_continues_off_the_site(page, site, stack, next_value):
    signed_in(page.context, site.new_user())
    page.goto(f"/signin?next={next_value}")
    link = main(page).get_by_role("link", name="Continue")
    expect(link).to_be_visible()
    # Where the browser would go: resolved by the page's own URL parser, as a click would.
    target = page.evaluate("(a) => new URL(a.href).origin", link.element_handle())
    assert target == stack.web_url, (next_value, link.get_attribute("href"))


def test_the_sign_in_page_continues_to_a_page_of_the_site_with_its_query(page, site):
    signed_in(page.context, site.new_user())
    page.goto("/signin?next=%2Fbookings%3Fcursor%3Dabc")
    expect(main(page).get_by_role("link", name="Continue")).to_have_attribute("href", "/bookings?cursor=abc")


def test_a_new_e_mail_address_needs_the_password_and_the_link_sent_to_it(page, site, stack, axe):
    visitor = site.new_user()
    old = visitor.user["email"]
    new = f"moved-{visitor.username}@example.com"
    signed_in(page.context, visitor)
    page.goto("/profile")
    region = page.get_by_role("region", name="E-mail")
    region.get_by_label("New e-mail address").fill(new)
    region.get_by_label("Current password").fill("not-the-password")
    region.get_by_role("button", name="Change e-mail").click()
    expect(error_of(region.get_by_label("Current password"))).to_have_text(
        "Your password was entered incorrectly. Please enter it again."
    )
    assert mails_to(stack, new) == []
    region.get_by_label("Current password").fill(PASSWORD)
    region.get_by_role("button", name="Change e-mail").click()
    expect(region.get_by_text(f"We sent a link to {new}")).to_have_text(
        f"We sent a link to {new}: open it within an hour to confirm your new address."
    )
    expect(region.get_by_text(f"Your e-mail address is {old}.")).to_be_visible()
    expect(region.get_by_text(f"Waiting for confirmation from {new}")).to_be_visible()
    axe(page)
    [notice] = mails_to(stack, old)
    assert notice["Subject"] == "Your e-mail address on Sessions Marketplace"

    [message] = mails_to(stack, new)
    [link] = [line for line in message.get_content().splitlines() if "/confirm-email?" in line]
    assert link.startswith(f"{stack.web_url}/confirm-email?uid={visitor.user['id']}&token=")
    page.goto(link)
    expect(page.get_by_role("heading", level=1, name="Confirm your e-mail address")).to_be_visible()
    expect(main(page).get_by_text("Your e-mail address has been changed.")).to_be_visible()
    axe(page)
    assert site.me(visitor)["email"] == new
    page.goto("/profile")
    expect(page.get_by_role("region", name="E-mail").get_by_text(f"Your e-mail address is {new}.")).to_be_visible()
    page.goto(link)  # once only
    expect(page.get_by_role("alert")).to_contain_text("This link cannot be used")
