"""Booking throughput over HTTP on the local stack, and DynamoDB requests per booking in process."""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

logging.getLogger("urllib3").setLevel(logging.ERROR)  # a full connection pool only means more clients than slots

PASSWORD = "vivid-otter-92-lamp"


def _token(base: str, username: str, password: str) -> str:
    reply = requests.post(f"{base}/api/token/", json={"username": username, "password": password}, timeout=30)
    reply.raise_for_status()
    return str(reply.json()["access"])


def throughput(users: int = 60, events: int = 5, workers: int = 16) -> dict[str, float]:
    """Bookings per second over HTTP against the local stack `make run` uses (moto serialises requests)."""
    from devstack.stack import LocalStack, free_port

    with tempfile.TemporaryDirectory() as data:
        stack = LocalStack(free_port(), free_port(), Path(data), extra_env={"BCRYPT_ROUNDS": "4"}, quiet=True)
        stack.start()
        try:
            base = stack.url
            creator = _token(base, "creator_user", "password")
            event_ids = [
                requests.post(
                    f"{base}/api/events/",
                    json={"title": f"Bench {i}", "description": "bench", "capacity": 100_000},
                    headers={"Authorization": f"Bearer {creator}"},
                    timeout=30,
                ).json()["id"]
                for i in range(events)
            ]

            def sign_up(i: int) -> str:
                body = {"username": f"bench{i}", "email": f"bench{i}@example.com", "password": PASSWORD}
                requests.post(f"{base}/api/register/", json=body, timeout=30).raise_for_status()
                return _token(base, f"bench{i}", PASSWORD)

            with ThreadPoolExecutor(max_workers=8) as pool:
                tokens = list(pool.map(sign_up, range(users)))
            jobs = [(t, e) for e in event_ids for t in tokens]
            latencies: list[float] = []

            def book(job: tuple[str, str]) -> int:
                started = time.perf_counter()
                reply = requests.post(
                    f"{base}/api/events/{job[1]}/bookings/", headers={"Authorization": f"Bearer {job[0]}"}, timeout=60
                )
                latencies.append(time.perf_counter() - started)
                return reply.status_code

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as pool:
                statuses = list(pool.map(book, jobs))
            elapsed = time.perf_counter() - started
        finally:
            stack.stop()
    ok = statuses.count(201)
    latencies.sort()
    return {
        "bookings": float(ok),
        "failed": float(len(statuses) - ok),
        "per_second": ok / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def requests_per_booking(samples: int = 20) -> dict[str, float]:
    """DynamoDB requests the booking handler makes, counted at botocore on moto (the authorizer's own read
    is excluded: on AWS it runs in its own function and the gateway caches its answer)."""
    from bench.app import _dynamodb_log, _in_process
    from chalicelib import bootstrap
    from chalicelib.domain.enums import Role
    from chalicelib.services import accounts

    reads, transactions, others = [], [], []
    with _in_process() as api:
        users = bootstrap.users()
        accounts.create_user(users, username="host", email="", password=PASSWORD, rounds=4, role=Role.CREATOR)
        host = api.token("host", PASSWORD)
        event = api.post("/api/events/", {"title": "T", "description": "D"}, token=host).json
        for i in range(samples):
            accounts.create_user(users, username=f"u{i}", email="", password=PASSWORD, rounds=4)
            token = api.token(f"u{i}", PASSWORD)
            with _dynamodb_log() as log:
                assert api.post(f"/api/events/{event['id']}/bookings/", token=token).status == 201
            calls = [operation for operation, _ in log]
            reads.append(sum(c in ("GetItem", "Query", "BatchGetItem") for c in calls))
            transactions.append(calls.count("TransactWriteItems"))
            others.append(len(calls) - reads[-1] - transactions[-1])
    return {
        "reads": statistics.mean(reads),
        "transactions": statistics.mean(transactions),
        "other": statistics.mean(others),
    }
