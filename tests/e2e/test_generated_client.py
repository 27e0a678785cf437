"""A Python client generated from the document the local stack serves runs a whole journey: typed models,
timestamps as datetimes, errors parsed into their declared types.

openapi-python-client (pinned in requirements-dev.txt) generates the client once per test session, into a
temporary folder, from what GET /api/schema/ answers; nothing generated is committed. Every answer the client
receives is also checked against the document, as for the other end-to-end tests."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests

from tests.support.contract import check

PACKAGE = "sessions_marketplace_client"
PASSWORD = "a-long-and-unusual-passphrase"


def _generate(schema: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    config = folder / "generator.json"
    # No post hooks: they would run ruff over the generated code, which the test never reads.
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(schema)]
    command += ["--config", str(config), "--meta", "none", "--output-path", str(folder / PACKAGE), "--fail-on-warning"]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def generated(base: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, importable for the module (and forgotten afterwards)."""
    folder = tmp_path_factory.mktemp("generated-client")
    served = requests.get(f"{base}/api/schema/", timeout=10)
    assert served.status_code == 200, served.text
    schema = folder / "openapi.json"
    schema.write_bytes(served.content)
    result = _generate(schema, folder)
    output = result.stdout + result.stderr
    # The generator skips what it cannot type and warns; the document must give it no reason to.
    assert result.returncode == 0 and "Warning" not in output, output
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


class Api:
    """The generated package's operations and models, and its clients pointed at the stack."""

    def __init__(self, package: ModuleType, base: str) -> None:
        self.package = package
        self.base = base
        self.models = importlib.import_module(f"{PACKAGE}.models")

    def op(self, operation_id: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.default.{operation_id}")

    def _hooks(self) -> dict[str, Any]:
        def checked(response: httpx.Response) -> None:
            response.read()
            request = response.request
            check(request.method, str(request.url), response.status_code, dict(response.headers), response.content)

        return {"event_hooks": {"response": [checked]}}

    def anonymous(self) -> Any:
        return self.package.Client(base_url=self.base, **self._options())

    def signed_in(self, access: str) -> Any:
        return self.package.AuthenticatedClient(base_url=self.base, token=access, **self._options())

    def _options(self) -> dict[str, Any]:
        return {"raise_on_unexpected_status": True, "timeout": httpx.Timeout(10.0), "httpx_args": self._hooks()}

    def sign_in(self, username: str, password: str) -> Any:
        body = self.models.TokenObtainIn(username=username, password=password)
        return self.op("post_api_token").sync(client=self.anonymous(), body=body)

    def register(self, username: str) -> Any:
        body = self.models.RegisterIn(username=username, email=f"{username}@example.com", password=PASSWORD)
        return self.op("post_api_register").sync_detailed(client=self.anonymous(), body=body)


@pytest.fixture
def api(generated: ModuleType, base: str) -> Api:
    return Api(generated, base)


def _utc(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


def _pay(checkout_url: str) -> None:
    """Pay on the provider's checkout page (Stripe's local stand-in), as the booking's owner would in a browser:
    the page is not the API's, so not the generated client's either."""
    paid = requests.post(checkout_url, data={"action": "pay"}, allow_redirects=False, timeout=30)
    assert paid.status_code == 303, paid.text


def test_a_generated_client_signs_in_creates_lists_registers_books_pays_cancels_and_refreshes(api, stack):
    m = api.models
    creator_tokens = api.sign_in("creator_user", "password")
    assert isinstance(creator_tokens, m.TokenPair)
    creator = api.signed_in(creator_tokens.access)
    creator_me = api.op("get_api_me").sync(client=creator)
    assert isinstance(creator_me, m.Me) and creator_me.role is m.MeRole.CREATOR and creator_me.email_pending is None

    starts = datetime.now(UTC).replace(microsecond=250000) + timedelta(days=30)
    new_event = m.EventCreateIn(
        title="Generated clients",
        description="Typed all the way",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        capacity=1,
        price="25.00",
        location="Room 4",
        online_url="https://example.com/room-4",
    )
    created = api.op("post_api_events").sync_detailed(client=creator, body=new_event)
    assert created.status_code == 201
    event = created.parsed
    assert isinstance(event, m.Event)
    assert (event.title, event.description, event.creator, event.creator_username) == (
        "Generated clients",
        "Typed all the way",
        creator_me.id,
        "creator_user",
    )
    assert (event.starts_at, event.ends_at) == (starts, starts + timedelta(hours=2))
    assert isinstance(event.created_at, datetime) and _utc(event.created_at) and _utc(event.updated_at)
    assert (event.capacity, event.seats_booked, event.price, event.currency) == (1, 0, "25.00", "USD")
    assert (event.status, event.online_url, event.image) == (
        m.EventStatus.PUBLISHED,
        "https://example.com/room-4",
        None,
    )

    listed = api.op("get_api_events").sync(client=api.anonymous(), limit=1)
    assert isinstance(listed, m.EventList) and [e.id for e in listed.results] == [event.id]
    assert listed.results[0].starts_at == starts
    assert listed.results[0].online_url is None  # a paid event's link is for those holding a seat
    cursor = parse_qs(urlsplit(listed.next_).query)["cursor"][0]
    second = api.op("get_api_events").sync(client=api.anonymous(), limit=1, cursor=cursor)
    assert len(second.results) == 1 and second.results[0].created_at <= event.created_at
    upcoming = api.op("get_api_events").sync(
        client=api.anonymous(), creator=creator_me.id, upcoming=m.GetApiEventsUpcoming.TRUE, limit=100
    )
    assert event.id in [e.id for e in upcoming.results]

    # Two new users: the first takes the only seat (held, then paid), the second waits for it.
    holder = _new_user(api, "gen_holder")
    waiter = _new_user(api, "gen_waiter")
    booked = api.op("post_api_events_event_id_bookings").sync_detailed(
        event.id, client=holder.client, body=m.BookingCreateIn(), idempotency_key="journey-book-1"
    )
    assert booked.status_code == 201
    booking = booked.parsed
    assert isinstance(booking, m.Booking)
    assert (booking.event, booking.user, booking.username, booking.status) == (
        event.id,
        holder.user.id,
        "gen_holder",
        m.BookingStatus.PENDING_PAYMENT,
    )
    assert _utc(booking.created_at) and booking.cancelled_at is None and booking.refund_status is None
    assert _utc(booking.hold_expires_at) and booking.hold_expires_at > booking.created_at
    assert booking.checkout_url.startswith(stack.payments_url)
    assert isinstance(booking.event_summary, m.EventSummary)
    # A held seat is not paid for yet: no link.
    assert (booking.event_summary.starts_at, booking.event_summary.online_url) == (starts, None)
    replayed = api.op("post_api_events_event_id_bookings").sync_detailed(
        event.id, client=holder.client, body=m.BookingCreateIn(), idempotency_key="journey-book-1"
    )
    assert (replayed.status_code, replayed.parsed.id, replayed.headers["Idempotent-Replayed"]) == (
        201,
        booking.id,
        "true",
    )
    _pay(booking.checkout_url)
    [paid] = api.op("get_api_me_bookings").sync(client=holder.client).results
    assert (paid.id, paid.status, paid.checkout_url, paid.hold_expires_at) == (
        booking.id,
        m.BookingStatus.CONFIRMED,
        None,
        None,
    )
    assert paid.event_summary.online_url == "https://example.com/room-4"

    full = api.op("post_api_events_event_id_bookings").sync_detailed(
        event.id, client=waiter.client, body=m.BookingCreateIn()
    )
    assert full.status_code == 409 and isinstance(full.parsed, m.ErrorDetail)
    assert (full.parsed.detail, full.parsed.code) == ("This event is full.", "event_full")
    waiting = api.op("post_api_events_event_id_bookings").sync(
        event.id, client=waiter.client, body=m.BookingCreateIn(waitlist=True)
    )
    assert waiting.status is m.BookingStatus.WAITLISTED and waiting.event_summary.online_url is None

    cancelled = api.op("post_api_bookings_booking_id_cancel").sync_detailed(
        booking.id, client=holder.client, body=m.BookingCancelIn()
    )
    assert cancelled.status_code == 200
    assert (cancelled.parsed.id, cancelled.parsed.status, cancelled.parsed.refund_status) == (
        booking.id,
        m.BookingStatus.CANCELLED,
        m.BookingRefundStatusType0.SUCCEEDED,
    )
    assert isinstance(cancelled.parsed.cancelled_at, datetime) and cancelled.parsed.cancelled_at >= booking.created_at

    # The waiting booking is promoted to a hold of the freed seat, with a checkout of its own.
    mine = api.op("get_api_me_bookings").sync(client=waiter.client)
    assert isinstance(mine, m.BookingList) and mine.next_ is None
    assert [(b.id, b.status) for b in mine.results] == [(waiting.id, m.BookingStatus.PENDING_PAYMENT)]
    _pay(mine.results[0].checkout_url)
    of_event = api.op("get_api_events_event_id_bookings").sync(event.id, client=creator)
    assert [(b.id, b.status) for b in of_event.results] == [
        (waiting.id, m.BookingStatus.CONFIRMED),
        (booking.id, m.BookingStatus.CANCELLED),
    ]

    refreshed = api.op("post_api_token_refresh").sync(
        client=api.anonymous(), body=m.TokenRefreshIn(refresh=holder.tokens.refresh)
    )
    assert isinstance(refreshed, m.TokenRefresh) and refreshed.access != holder.tokens.access
    assert refreshed.refresh != holder.tokens.refresh  # rotated
    me = api.op("get_api_me").sync(client=api.signed_in(refreshed.access))
    assert (me.id, me.username, me.email, me.role, me.is_staff) == (
        holder.user.id,
        "gen_holder",
        "gen_holder@example.com",
        m.UserRole.USER,
        False,
    )
    assert me.date_joined == holder.user.date_joined and _utc(me.date_joined)


def test_refusals_parse_as_the_documented_error_types(api):
    m = api.models
    user = api.signed_in(api.sign_in("user", "password").access)
    forbidden = api.op("post_api_events").sync_detailed(
        client=user, body=m.EventCreateIn(title="Not mine to make", description="x")
    )
    assert forbidden.status_code == 403 and isinstance(forbidden.parsed, m.ErrorDetail)
    assert forbidden.parsed.to_dict() == {"detail": "You do not have permission to perform this action."}

    weak = api.op("post_api_register").sync_detailed(
        client=api.anonymous(),
        body=m.RegisterIn(username="gen_weak", email="gen_weak@example.com", password="12345678"),
    )
    assert weak.status_code == 400 and isinstance(weak.parsed, m.FieldErrors)
    assert weak.parsed.to_dict() == {"password": ["This password is too common.", "This password is entirely numeric."]}

    bad_cursor = api.op("get_api_events").sync_detailed(client=api.anonymous(), cursor="not-a-cursor")
    assert bad_cursor.status_code == 400 and isinstance(bad_cursor.parsed, m.ErrorDetail)
    assert bad_cursor.parsed.to_dict() == {"detail": "Invalid cursor"}

    expired = api.op("post_api_token_refresh").sync_detailed(
        client=api.anonymous(), body=m.TokenRefreshIn(refresh="not-a-token")
    )
    assert expired.status_code == 401 and isinstance(expired.parsed, m.ErrorDetail)
    assert (expired.parsed.detail, expired.parsed.code) == ("Token is invalid", "token_not_valid")


@dataclass(frozen=True)
class _User:
    user: Any  # the generated User
    tokens: Any  # the generated TokenPair
    client: Any  # an AuthenticatedClient with the access token


def _new_user(api: Api, username: str) -> _User:
    registered = api.register(username)
    assert registered.status_code == 201, registered.content
    user = registered.parsed
    assert isinstance(user, api.models.User) and _utc(user.date_joined)
    tokens = api.sign_in(username, PASSWORD)
    return _User(user, tokens, api.signed_in(tokens.access))
