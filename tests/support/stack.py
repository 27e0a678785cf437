"""The real local stack (the code behind `make run`) for tests that talk to it over HTTP, and token helpers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from devstack.stack import LocalStack, free_port


@contextmanager
def running_stack(data_dir: Path, **extra_env: str) -> Iterator[LocalStack]:
    """moto, the API and the web app on free ports, seeded with the demo accounts; stopped on exit."""
    local = LocalStack(
        port=free_port(),
        aws_port=free_port(),
        data_dir=data_dir,
        extra_env={"BCRYPT_ROUNDS": "4", **extra_env},
        web_port=free_port(),
    )
    local.start()
    try:
        yield local
    finally:
        local.stop(keep_data=False)  # the caller throws `data_dir` away


def _patiently(url: str, body: dict, timeout: float) -> requests.Response:
    """POST as docs/api.md asks a client to: a 503 (a local stack on a busy machine spending its request's store
    budget: bcrypt and moto share two cores) is sent again after its Retry-After; anything else is the answer."""
    for _ in range(5):
        reply = requests.post(url, json=body, timeout=timeout)
        if reply.status_code != 503:
            return reply
        time.sleep(float(reply.headers.get("Retry-After", "1")))
    return reply


def sign_up(base: str, name: str, password: str) -> str:
    """Register `name` on the stack at `base` and return its access token."""
    body = {"username": name, "email": f"{name}@example.com", "password": password}
    reply = _patiently(f"{base}/api/register/", body, 30)
    # A 503 may have come after the account was made: then the retry finds the name taken.
    taken = reply.status_code == 400 and "username" in reply.json()
    assert reply.status_code == 201 or taken, reply.text
    return token(base, name, password)


def token(base: str, username: str, password: str = "password") -> str:
    """An access token for a user of the stack at `base`."""
    reply = _patiently(f"{base}/api/token/", {"username": username, "password": password}, 10)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access"])


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}
