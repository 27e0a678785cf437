"""Package sizes, DynamoDB requests and items read per endpoint, warm latency: all measured here."""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def package_sizes() -> dict[str, int]:
    """Bytes of the function zip (project code) and of the dependency layer, as `make package` builds them."""
    from deploy.package import package

    with tempfile.TemporaryDirectory() as out:
        folder = package("dev", Path(out))
        return {
            "function": (folder / "deployment.zip").stat().st_size,
            "layer": (folder / "layer-deployment.zip").stat().st_size,
        }


@contextmanager
def _in_process() -> Iterator[Any]:
    from bench.inprocess import Api, configure_environment

    configure_environment()
    from moto import mock_aws

    # The app logs a JSON line per request to stdout; the benchmark prints only its table.
    with mock_aws(), contextlib.redirect_stdout(io.StringIO()):
        import app as app_module
        from chalicelib.persistence.admin import create_tables

        create_tables(wait=False)
        yield Api(app_module.app)


_current_log: list[list[tuple[str, int]]] = []
_in_authorizer = [False]


_hooked: list[bool] = []


def _after_call(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    if not _current_log or _in_authorizer[0]:
        return
    read = parsed.get("ScannedCount", parsed.get("Count", 1 if "Item" in parsed else 0))
    if "Responses" in parsed:
        read = sum(len(items) for items in parsed["Responses"].values())
    _current_log[-1].append((model.name, int(read)))


# Called with (operation, parameters) of each DynamoDB call the handler makes, while registered.
param_listeners: list[Callable[[str, dict[str, Any]], None]] = []


def _hook_client(client: Any) -> None:
    client.meta.events.register("after-call.dynamodb", _after_call)
    client.meta.events.register("provide-client-params.dynamodb", _provide_params)


def _provide_params(params: dict[str, Any], model: Any, **_: Any) -> None:
    if not _in_authorizer[0]:
        for listener in param_listeners:
            listener(model.name, params)


def _install_hooks() -> None:
    """Hook every DynamoDB client pynamodb creates, once per process."""
    from chalicelib.http.authorizer import jwt_authorizer
    from chalicelib.persistence.pynamodb_private import on_every_client

    if _hooked:
        return
    _hooked.append(True)
    on_every_client(_hook_client)
    authorize = jwt_authorizer.func

    def authorizer_authorize(*args: Any) -> Any:
        # The authorizer runs as its own function on AWS and the gateway caches its answer: not the endpoint's cost.
        _in_authorizer[0] = True
        try:
            return authorize(*args)
        finally:
            _in_authorizer[0] = False

    jwt_authorizer.func = authorizer_authorize


@contextmanager
def _dynamodb_log() -> Iterator[list[tuple[str, int]]]:
    """(operation, items read) for each DynamoDB call the handler makes inside the block."""
    _install_hooks()
    log: list[tuple[str, int]] = []
    _current_log.append(log)
    try:
        yield log
    finally:
        _current_log.pop()


@dataclass(frozen=True)
class Probe:
    """One representative call of an operation; `prepare` (untimed, uncounted) makes what each call consumes,
    such as a fresh refresh token to revoke."""

    name: str
    call: Callable[[Any], Any]
    prepare: Callable[[], Any] = lambda: None


def _endpoints(api: Any) -> list[Probe]:
    """One representative call per operation, with the data it needs created first."""
    from chalicelib import bootstrap
    from chalicelib.domain.enums import Role
    from chalicelib.services import accounts

    password = "vivid-otter-92-lamp"
    passwords = iter([password, "quiet-heron-41-lamp"] * 10**3)
    users = bootstrap.users()
    accounts.create_user(users, username="host", email="", password=password, rounds=4, role=Role.CREATOR)
    accounts.create_user(users, username="guest", email="g@example.com", password=password, rounds=4)
    accounts.create_user(users, username="mover", email="m@example.com", password=next(passwords), rounds=4)
    accounts.create_user(users, username="boss", email="b@example.com", password=password, rounds=4, is_staff=True)
    subject = accounts.create_user(users, username="subject", email="s@example.com", password=password, rounds=4)
    host, guest = api.token("host", password), api.token("guest", password)
    boss = api.token("boss", password)
    roles = iter(["CREATOR", "USER"] * 10**4)
    event = api.post("/api/events/", {"title": "T", "description": "D", "capacity": 10_000}, token=host).json
    path = f"/api/events/{event['id']}/"
    counter = iter(range(10**6))
    chain = {"refresh": api.post("/api/token/", {"username": "guest", "password": password}).json["refresh"]}
    mover = {"password": password}

    def sign_in(username: str, secret: str) -> dict[str, str]:
        return dict(api.post("/api/token/", {"username": username, "password": secret}).json)

    def refresh(_: Any) -> Any:
        # Rotation: each refresh token works once, so each call presents the one the previous call answered.
        reply = api.post("/api/token/refresh/", {"refresh": chain["refresh"]})
        chain["refresh"] = reply.json["refresh"]
        return reply

    def change_password(access: str) -> Any:
        new = next(passwords)
        reply = api.request(
            "POST", "/api/me/password/", {"old_password": mover["password"], "new_password": new}, token=access
        )
        mover["password"] = new
        return reply

    def book_and_cancel(_: Any) -> Any:
        booking = api.post(f"{path}bookings/", token=guest).json
        return api.post(f"/api/bookings/{booking['id']}/cancel/", token=guest)

    return [
        Probe("GET /health/", lambda _: api.get("/health/")),
        Probe(
            "POST /api/register/",
            lambda _: api.post(
                "/api/register/",
                {"username": f"n{next(counter)}", "email": f"n{next(counter)}@example.com", "password": password},
            ),
        ),
        Probe("POST /api/token/", lambda _: api.post("/api/token/", {"username": "guest", "password": password})),
        Probe("POST /api/token/refresh/ (rotating)", refresh),
        Probe("POST /api/token/verify/ (an access token)", lambda _: api.post("/api/token/verify/", {"token": guest})),
        Probe(
            "POST /api/token/blacklist/",
            lambda refresh_token: api.post("/api/token/blacklist/", {"refresh": refresh_token}),
            lambda: sign_in("guest", password)["refresh"],
        ),
        Probe(
            "POST /api/me/logout-all/",
            lambda access: api.request("POST", "/api/me/logout-all/", token=access),
            lambda: sign_in("host", password)["access"],
        ),
        Probe("POST /api/me/password/", change_password, lambda: sign_in("mover", mover["password"])["access"]),
        Probe("POST /api/password/reset/", lambda _: api.post("/api/password/reset/", {"email": "g@example.com"})),
        Probe("GET /api/me/", lambda _: api.get("/api/me/", token=guest)),
        Probe(
            "PATCH /api/me/", lambda _: api.patch("/api/me/", {"email": f"g{next(counter)}@example.com"}, token=guest)
        ),
        Probe("GET /api/events/", lambda _: api.get("/api/events/")),
        Probe("GET /api/events/?upcoming=true", lambda _: api.get("/api/events/?upcoming=true")),
        Probe(
            "POST /api/events/",
            lambda access: api.post("/api/events/", {"title": "T", "description": "D"}, token=access),
            lambda: sign_in("host", password)["access"],
        ),
        Probe("GET /api/events/<id>/", lambda _: api.get(path)),
        Probe(
            "PATCH /api/events/<id>/",
            lambda access: api.patch(path, {"title": f"Renamed {next(counter)}"}, token=access),
            lambda: sign_in("host", password)["access"],
        ),
        Probe(
            "GET /api/me/events/",
            lambda access: api.get("/api/me/events/", token=access),
            lambda: sign_in("host", password)["access"],
        ),
        Probe(
            "GET /api/events/<id>/bookings/",
            lambda access: api.get(f"{path}bookings/", token=access),
            lambda: sign_in("host", password)["access"],
        ),
        Probe("GET /api/me/bookings/", lambda _: api.get("/api/me/bookings/", token=guest)),
        Probe("POST booking + POST cancel", book_and_cancel),
        Probe("GET /api/schema/", lambda _: api.get("/api/schema/")),
        # The staff's API: lists read a page of an index (plus the next item), writes carry their audit entry.
        Probe("GET /api/admin/users/", lambda _: api.get("/api/admin/users/", token=boss)),
        Probe("GET /api/admin/users/?search=gu", lambda _: api.get("/api/admin/users/?search=gu", token=boss)),
        Probe(
            "POST /api/admin/users/",
            lambda _: api.post(
                "/api/admin/users/",
                {"username": f"a{next(counter)}", "email": f"a{next(counter)}@example.com", "password": password},
                token=boss,
            ),
        ),
        Probe("GET /api/admin/users/<id>/", lambda _: api.get(f"/api/admin/users/{subject.id}/", token=boss)),
        Probe(
            "PATCH /api/admin/users/<id>/ (role)",
            lambda _: api.patch(f"/api/admin/users/{subject.id}/", {"role": next(roles)}, token=boss),
        ),
        Probe(
            "GET /api/admin/events/?status=published",
            lambda _: api.get("/api/admin/events/?status=published", token=boss),
        ),
        Probe("GET /api/admin/log/", lambda _: api.get("/api/admin/log/", token=boss)),
    ]


def per_endpoint(iterations: int = 60) -> list[dict[str, Any]]:
    """DynamoDB requests (handler only: the authorizer's read is a separate Lambda, cached by the gateway)
    and warm in-process latency for every endpoint."""
    rows = []
    with _in_process() as api:
        for probe in _endpoints(api):
            probe.call(probe.prepare())  # warm
            prepared = probe.prepare()
            with _dynamodb_log() as log:
                reply = probe.call(prepared)
            assert reply.status < 300, (probe.name, reply.status, reply.raw[:200])
            requests = len(log)
            times = []
            for _ in range(iterations):
                prepared = probe.prepare()
                started = time.perf_counter()
                probe.call(prepared)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            rows.append(
                {
                    "endpoint": probe.name,
                    "requests": requests,
                    "p50": statistics.median(times),
                    "p99": times[int(len(times) * 0.99) - 1],
                }
            )
    return rows


def items_read_by_first_page(sizes: tuple[int, ...] = (1_000, 20_000)) -> dict[int, int]:
    """Items DynamoDB reads to serve the first page of GET /api/events/, at each table size."""
    import boto3

    from chalicelib.domain.common import iso, utcnow
    from chalicelib.ids import new_id

    result = {}
    with _in_process() as api:
        client = boto3.client("dynamodb")
        table = os.environ.get("EVENTS_TABLE", "sessions-local-events")
        loaded = 0
        for size in sorted(sizes):
            batch = []
            while loaded < size:
                event_id, now = new_id(), iso(utcnow())
                batch.append({"PutRequest": {"Item": _event_item(event_id, now)}})
                loaded += 1
                if len(batch) == 25 or loaded == size:
                    client.batch_write_item(RequestItems={table: batch})
                    batch = []
            with _dynamodb_log() as log:
                reply = api.get("/api/events/")
            assert reply.status == 200 and len(reply.json["results"]) == 20
            result[size] = sum(read for _, read in log)
    return result


def _event_item(event_id: str, now: str) -> dict[str, Any]:
    return {
        "id": {"S": event_id},
        "title": {"S": "Bench"},
        "description": {"S": "bench"},
        "creator": {"S": "01BENCH"},
        "creator_username": {"S": "bench"},
        "created_at": {"S": now},
        "updated_at": {"S": now},
        "timezone": {"S": "UTC"},
        "seats_booked": {"N": "0"},
        "waitlisted": {"N": "0"},
        "price": {"S": "0.00"},
        "currency": {"S": "USD"},
        "location": {"S": ""},
        "status": {"S": "published"},
        "version": {"N": "1"},
        "created_sk": {"S": f"{now}#{event_id}"},
        "pub": {"S": "PUBLISHED"},
        "pub_creator": {"S": "01BENCH"},
    }
