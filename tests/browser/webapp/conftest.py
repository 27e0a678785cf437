"""The web app's pages (web/) on their own origin, the local stack's WEB_PORT, against its API.

Tests make their own accounts and events through the API (`site` fixture), so that they do not depend on
each other or on their order; the demo accounts (creator_user, user) come from the stack's seed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import BrowserContext

from devstack.stack import LocalStack
from tests.support.stack import bearer

# Where session.js keeps the tokens and the user.
SESSION_KEY = "sessions-marketplace.session"
PASSWORD = "Quiet-Harbour-1947"
ROOT = Path(__file__).resolve().parents[3]
# What a page opened with new_context(**READABLE_TIMES) shows times in: UTC, as en-US writes them.
READABLE_TIMES = {"timezone_id": "UTC", "locale": "en-US"}


@pytest.fixture(scope="package")
def base_url(stack: LocalStack) -> str:
    """Relative URLs in these tests are the web app's pages."""
    return stack.web_url


@dataclass
class Account:
    username: str
    password: str
    access: str
    refresh: str
    user: dict[str, Any]


class Site:
    """The API behind the pages, for setting the scene and checking what the pages did."""

    def __init__(self, api: str) -> None:
        self.api = api

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    def account(self, username: str, password: str = "password") -> Account:
        reply = requests.post(f"{self.api}/api/token/", json={"username": username, "password": password}, timeout=10)
        assert reply.status_code == 200, reply.text
        tokens = reply.json()
        user = requests.get(f"{self.api}/api/me/", headers=bearer(tokens["access"]), timeout=10).json()
        return Account(username, password, tokens["access"], tokens["refresh"], user)

    def new_user(self) -> Account:
        username = self.unique("visitor").replace("-", "_")
        reply = requests.post(
            f"{self.api}/api/register/",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
            timeout=10,
        )
        assert reply.status_code == 201, reply.text
        return self.account(username, PASSWORD)

    def create_event(self, **fields: Any) -> dict[str, Any]:
        """An event by creator_user, published and starting in ten days unless `fields` say otherwise."""
        starts = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)
        body = {
            "title": self.unique("Event"),
            "description": "Made by a browser test.",
            "starts_at": starts.isoformat(),
            **fields,
        }
        creator = self.account("creator_user")
        reply = requests.post(f"{self.api}/api/events/", json=body, headers=bearer(creator.access), timeout=10)
        assert reply.status_code == 201, reply.text
        return dict(reply.json())

    def creator_events(self) -> list[dict[str, Any]]:
        """creator_user's newest events, drafts included."""
        creator = self.account("creator_user")
        reply = requests.get(
            f"{self.api}/api/me/events/", params={"limit": 100}, headers=bearer(creator.access), timeout=10
        )
        return list(reply.json()["results"])

    def event(self, event_id: str) -> dict[str, Any]:
        creator = self.account("creator_user")
        return dict(
            requests.get(f"{self.api}/api/events/{event_id}/", headers=bearer(creator.access), timeout=10).json()
        )

    def book(self, account: Account, event_id: str, waitlist: bool = False) -> dict[str, Any]:
        reply = requests.post(
            f"{self.api}/api/events/{event_id}/bookings/",
            json={"waitlist": True} if waitlist else {},
            headers=bearer(account.access),
            timeout=10,
        )
        assert reply.status_code == 201, reply.text
        return dict(reply.json())

    def pay(self, account: Account, event_id: str) -> dict[str, Any]:
        """Book a paid event and pay on the local checkout page (its form, posted without a browser); the
        booking once the webhook has confirmed it."""
        held = self.book(account, event_id)
        paid = requests.post(held["checkout_url"], data={"action": "pay"}, allow_redirects=False, timeout=10)
        assert paid.status_code == 303, paid.text
        for _ in range(50):
            booking = next(b for b in self.bookings(account) if b["id"] == held["id"])
            if booking["status"] == "confirmed":
                return booking
            time.sleep(0.2)
        raise AssertionError(f"the payment of {held['id']} was never confirmed: {booking}")

    def bookings(self, account: Account) -> list[dict[str, Any]]:
        reply = requests.get(f"{self.api}/api/me/bookings/", headers=bearer(account.access), timeout=10)
        return list(reply.json()["results"])

    def me(self, account: Account) -> dict[str, Any]:
        return dict(requests.get(f"{self.api}/api/me/", headers=bearer(account.access), timeout=10).json())


@pytest.fixture(scope="package")
def site(stack: LocalStack) -> Site:
    return Site(stack.url)


def run_sweep(stack: LocalStack) -> dict[str, Any]:
    """Run the scheduled payment sweep once, now (holds, refunds, cancelled events' settlements), as the stack's
    own timer does, instead of waiting for that timer."""
    done = subprocess.run(
        [sys.executable, "-c", "import json; from devstack.payments import run_sweep; print(json.dumps(run_sweep()))"],
        env=stack.environment(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def moment_text(iso: str) -> str:
    """An instant as the pages write it (format.moment) in a READABLE_TIMES page: "Thu, Dec 3, 2026, 11:52 PM"."""
    t = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    return f"{t:%a}, {t:%b} {t.day}, {t.year}, {clock_text(iso)}"


def clock_text(iso: str) -> str:
    """A time of day as the pages write it (format.clock) in a READABLE_TIMES page: "11:52 PM"."""
    t = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC)
    return f"{t.hour % 12 or 12}:{t:%M} {'AM' if t.hour < 12 else 'PM'}"


def signed_in(context: BrowserContext, account: Account, **overrides: str) -> BrowserContext:
    """Make `context`'s pages start signed in as `account` (as the sign-in page leaves them), without going
    through the form; `overrides` replace stored values (an expired access token...). Only an empty storage
    is filled, so a refresh or a sign-out made by the page is not undone by the next page load."""
    stored = {"access": account.access, "refresh": account.refresh, "user": account.user, **overrides}
    key, value = json.dumps(SESSION_KEY), json.dumps(json.dumps(stored))
    # about:blank has no storage of its own: reading it there throws, hence the try.
    context.add_init_script(
        f"try {{ if (!localStorage.getItem({key})) localStorage.setItem({key}, {value}); }} catch {{}}"
    )
    return context
