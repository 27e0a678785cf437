"""Driving the staff console at /admin/: shared by its browser tests and the screenshots in docs/."""

from __future__ import annotations

from playwright.sync_api import Page, expect

# Where the console keeps its tokens (sessionStorage, never a cookie).
TOKEN_STORE = "sessions-staff-tokens"


def sign_in(page: Page, username: str, password: str = "password") -> None:
    """Open the console and sign in with the keyboard (Enter submits the form)."""
    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Sign in to the staff console")).to_be_focused()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Password").press("Enter")
