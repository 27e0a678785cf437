"""The real local stack (the code behind `make run`) for tests that talk to it over HTTP, and token helpers."""

from __future__ import annotations

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
        local.stop()


def sign_up(base: str, name: str, password: str) -> str:
    """Register `name` on the stack at `base` and return its access token."""
    reply = requests.post(
        f"{base}/api/register/",
        json={"username": name, "email": f"{name}@example.com", "password": password},
        timeout=30,
    )
    assert reply.status_code == 201, reply.text
    return token(base, name, password)


def token(base: str, username: str, password: str = "password") -> str:
    """An access token for a user of the stack at `base`."""
    reply = requests.post(f"{base}/api/token/", json={"username": username, "password": password}, timeout=10)
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access"])


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}"}
